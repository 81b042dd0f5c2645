"""Integration: build the real dbt warehouse on a realistic raw dataset (真实构建数据仓库).

The raw rows come from the seed documents' published figures (raw_fixtures.py); the
assertions are those documents' figures, recomputed by the warehouse.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao.config import PROJECT_ROOT, Settings, get_settings
from jixiao.warehouse.dbt import (
    DbtBuildFailed,
    DbtRunResult,
    build,
    docs_generate,
    run_dbt,
    unit_tests,
)

from .raw_fixtures import JM_CATEGORIES, RawData, RawFile, realistic_raw_data, wan

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, DbtRunResult]:
    settings = get_settings(tmp_path_factory.mktemp("jixiao_home"))
    realistic_raw_data().write(settings.warehouse)
    return settings, build(settings)


@pytest.fixture
def con(built: tuple[Settings, DbtRunResult]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built[0].warehouse), read_only=True)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    result = con.execute(sql, list(params))
    names = [d[0] for d in result.description]
    return [dict(zip(names, r, strict=True)) for r in result.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> dict[str, Any]:
    found = rows(con, sql, *params)
    assert len(found) == 1, found
    return found[0]


def test_build_runs_unit_tests_and_keeps_repo_clean(built: tuple[Settings, DbtRunResult]) -> None:
    settings, result = built
    unit_tests = [n for n in result.nodes if n.unique_id.startswith("unit_test.")]
    assert len(unit_tests) >= 6 and all(n.status == "pass" for n in unit_tests)
    assert (settings.home / "dbt" / "target" / "run_results.json").exists()
    schemas = {
        r[0]
        for r in duckdb.connect(str(settings.warehouse), read_only=True)
        .execute("select distinct schema_name from information_schema.schemata")
        .fetchall()
    }
    assert {"raw", "staging", "intermediate", "marts"} <= schemas


def test_unit_tests_run_on_their_own_and_pass(built: tuple[Settings, DbtRunResult]) -> None:
    """The dbt unit tests the nightly leaves out run here (``dbt test --select test_type:unit``)."""
    result = unit_tests(built[0])
    # the on-run-start hook (the incremental facts' state schema) runs with every command
    ids = [n.unique_id for n in result.nodes if not n.unique_id.startswith("operation.")]
    assert len(ids) >= 6 and all(i.startswith("unit_test.") for i in ids), ids
    assert "unit_test.jixiao.int_project_years_financials.seed_004_execution_rates" in ids
    assert {n.status for n in result.nodes if n.unique_id in ids} == {"pass"}


def test_a_failing_unit_test_fails(built: tuple[Settings, DbtRunResult], tmp_path: Path) -> None:
    """The same command on a copy of the project whose expected 83.39 % is wrong must fail."""
    shutil.copytree(PROJECT_ROOT / "dbt_project", tmp_path / "dbt_project")
    shutil.copytree(PROJECT_ROOT / "seeds", tmp_path / "seeds")
    spec = tmp_path / "dbt_project" / "models" / "intermediate" / "budget" / "_budget__models.yml"
    text = spec.read_text(encoding="utf-8")
    wrong = "XF-01,22516.00,4484.00,0.833926,83.40,reported_executed"
    assert text.count("XF-01,22516.00,4484.00,0.833926,83.39,reported_executed") == 1
    spec.write_text(text.replace(wrong.replace("83.40", "83.39"), wrong), encoding="utf-8")
    with pytest.raises(DbtBuildFailed) as failure:
        unit_tests(built[0], project_dir=tmp_path / "dbt_project")
    failed = [n.unique_id for n in failure.value.result.failed]
    assert failed == ["unit_test.jixiao.int_project_years_financials.seed_004_execution_rates"]


def test_seed_004_execution_rates_and_generous_self_scores(con: duckdb.DuckDBPyConnection) -> None:
    got = {
        r["project_key"]: r
        for r in rows(
            con,
            """
        select project_key, final_budget_yuan, spent_yuan, balance_yuan, execution_rate_pct,
               recomputed_score, reported_score, grade
        from marts.mart_project_year where project_key like 'XF-%'""",
        )
    }
    assert got["XF-2023-01"]["execution_rate_pct"] == Decimal("83.39")
    assert got["XF-2023-02"]["execution_rate_pct"] == Decimal("58.37")
    assert got["XF-2023-03"]["execution_rate_pct"] == Decimal("99.52")
    # the earlier draft (spent 20000) is superseded by the later file (22516)
    assert got["XF-2023-01"]["spent_yuan"] == Decimal("22516.00")
    assert got["XF-2023-02"]["balance_yuan"] == Decimal("41210.00")
    # reported 100 each; 预算执行率 10 x rate gives 8.34 / 5.84 / 9.95
    assert [got[k]["recomputed_score"] for k in sorted(got)] == [
        Decimal("98.34"),
        Decimal("95.84"),
        Decimal("99.95"),
    ]
    assert all(r["reported_score"] == Decimal("100.00") for r in got.values())


def test_resubmission_history_stays_queryable(con: duckdb.DuckDBPyConnection) -> None:
    versions = rows(
        con,
        """
        select file_name, version_rank, is_latest from intermediate.int_submissions_ranked
        where project_key = 'XF-2023-01' order by version_rank""",
    )
    assert [(v["file_name"], v["is_latest"]) for v in versions] == [
        ("新丰县2023自评表.xlsx", True),
        ("新丰县2023自评表_初稿.xlsx", False),
    ]


def test_seed_002_scoring_table(con: duckdb.DuckDBPyConnection) -> None:
    rate = one(
        con,
        """
        select weight, reported_score, recomputed_score_2dp, rule_applied, rate_value
        from marts.fct_indicator_scores
        where project_key = 'JM-SZZF-2023' and level3_name = '资金支出率'""",
    )
    assert rate["rate_value"] == Decimal("0.988431")
    assert rate["recomputed_score_2dp"] == Decimal("11.86")
    assert rate["reported_score"] == Decimal("12.0000")
    outputs = rows(
        con,
        """
        select weight from marts.fct_indicator_scores
        where project_key = 'JM-SZZF-2023' and level1_name = '产出'""",
    )
    assert len(outputs) == 17
    assert {o["weight"] for o in outputs} == {Decimal("2.3529")}
    project = one(
        con,
        """
        select weight_total, recomputed_score, reported_score, score_difference, grade
        from marts.mart_project_year where project_key = 'JM-SZZF-2023'""",
    )
    assert project == {
        "weight_total": Decimal("100.0000"),
        "recomputed_score": Decimal("97.86"),
        "reported_score": Decimal("98.00"),
        "score_difference": Decimal("0.14"),
        "grade": "优",
    }


def test_indicator_full_marks_counted_once_in_the_marts(con: duckdb.DuckDBPyConnection) -> None:
    """fct_indicator_scores.is_full_marks (recomputed >= weight) feeds the reports' counts."""
    facts = rows(
        con,
        """
        select project_key, fiscal_year, weight, recomputed_score, is_full_marks
        from marts.fct_indicator_scores""",
    )
    assert facts and any(f["is_full_marks"] for f in facts)
    assert any(f["is_full_marks"] is False for f in facts)
    expected: dict[tuple[str, int], list[int]] = {}
    for f in facts:
        full = f["weight"] is not None and f["recomputed_score"] is not None
        full = full and f["recomputed_score"] >= f["weight"]
        assert f["is_full_marks"] == (
            None if f["weight"] is None or f["recomputed_score"] is None else full
        )
        n = expected.setdefault((f["project_key"], f["fiscal_year"]), [0, 0])
        n[0] += 1
        n[1] += 1 if full else 0
    got = {
        (r["project_key"], r["fiscal_year"]): [r["indicator_count"], r["full_marks_count"]]
        for r in rows(con, "select * from marts.mart_report_project_indicators")
    }
    assert got == expected
    # seed 002 (JM-SZZF-2023): 资金支出率 11.86 of 12 is not full marks
    assert got[("JM-SZZF-2023", 2023)][0] > got[("JM-SZZF-2023", 2023)][1]


def test_seed_002_review_flags(con: duckdb.DuckDBPyConnection) -> None:
    flags = rows(
        con,
        """
        select flag_code, detail, message_zh, message_en from marts.mart_review_flags
        where project_key = 'JM-SZZF-2023' order by flag_code, detail""",
    )
    too_low = {f["detail"] for f in flags if f["flag_code"] == "target_too_low"}
    assert "公共数据资源社会开放数据集（个）" in too_low
    assert "政务云资源算力规模（万核）" not in too_low  # 4.577 / 3.9 < 1.5
    above = [f for f in flags if f["flag_code"] == "reported_score_above_recomputed"]
    assert {f["detail"] for f in above} == {"资金支出率", "总分/total"}
    assert any("11.86" in f["message_zh"] and "11.86" in f["message_en"] for f in above)
    # 监管有效性 scored 6 of 8 but gives its reason: no missing-reason flag
    assert not [f for f in flags if f["flag_code"] == "missing_deviation_reason"]


def test_seed_000_reported_rate_gap_is_flagged(con: duckdb.DuckDBPyConnection) -> None:
    flag = one(
        con,
        """
        select message_zh, message_en, severity from marts.mart_review_flags
        where project_key = 'JM-SZZF-2019' and flag_code = 'reported_rate_mismatch'""",
    )
    assert "97.61%" in flag["message_zh"] and "98.86%" in flag["message_zh"]
    assert "97.61%" in flag["message_en"] and "98.86%" in flag["message_en"]


def test_seed_000_stated_totals_are_compared_with_the_detail(
    con: duckdb.DuckDBPyConnection,
) -> None:
    got = rows(
        con,
        """
        select measure, reported_amount_yuan, recomputed_amount_yuan, reported_rate,
            recomputed_rate, is_different
        from intermediate.int_reported_totals_compared
        where project_key = 'JM-SZZF-2019' order by measure, reported_amount_yuan""",
    )
    assert [(g["measure"], g["is_different"]) for g in got] == [
        ("final", False),
        ("paid", True),  # the 合计 row one payment short: 50400.00 万元
        ("paid", False),  # 50418.98 万元, to the fen
        ("pay_rate", True),  # 97.61% stated, 98.86% recomputed
    ]
    assert got[2]["recomputed_amount_yuan"] == Decimal("504189800.00")
    assert got[3]["recomputed_rate"] == Decimal("0.988607")
    flags = rows(
        con,
        """
        select message_zh, message_en from marts.mart_review_flags
        where project_key = 'JM-SZZF-2019' and flag_code = 'reported_total_mismatch'
        order by message_en""",
    )
    assert len(flags) == 2
    assert any(
        "504000000.00" in f["message_zh"] and "504189800.00" in f["message_zh"] for f in flags
    )
    assert any("97.61%" in f["message_en"] and "98.86%" in f["message_en"] for f in flags)


def test_seed_000_category_table(con: duckdb.DuckDBPyConnection) -> None:
    got = rows(
        con,
        """
        select category, project_count, amount_yuan, share_pct from marts.mart_category_year
        where parent_project_key = 'JM-SZZF-2019' and fiscal_year is null""",
    )
    by_category = {g["category"]: g for g in got}
    expected_pct = ["14.34", "10.61", "6.85", "5.62", "29.31", "33.28"]
    for (category, count, amount), pct in zip(JM_CATEGORIES, expected_pct, strict=True):
        assert by_category[category]["project_count"] == count
        assert by_category[category]["amount_yuan"] == wan(amount)
        assert by_category[category]["share_pct"] == Decimal(pct)
    assert sum(g["project_count"] for g in got) == 265
    assert sum(g["amount_yuan"] for g in got) == wan("50418.98")


def test_seed_001_scores_and_spending_buckets(con: duckdb.DuckDBPyConnection) -> None:
    level1 = rows(
        con,
        """
        select level1_name, max_score, score from marts.mart_level1_scores
        where project_key = 'DG-SZZF-2019' and evaluation_type = 'third_party'""",
    )
    assert sum(r["score"] for r in level1) == Decimal("77.20")
    project = one(
        con,
        """
        select evaluator_type, evaluator_score, grade, grade_basis from marts.mart_project_year
        where project_key = 'DG-SZZF-2019'""",
    )
    assert project == {
        "evaluator_type": "third_party",
        "evaluator_score": Decimal("77.20"),
        "grade": "中",
        "grade_basis": "evaluator",
    }
    buckets = {
        r["bucket_code"]: r["project_count"]
        for r in rows(
            con,
            """
        select bucket_code, project_count from marts.mart_spending_rate_distribution
        where parent_project_key = 'DG-SZZF-2019' and fiscal_year is null""",
        )
    }
    assert buckets == {
        "rate_100": 0,
        "rate_90_100": 0,
        "rate_80_90": 30,
        "rate_60_80": 8,
        "rate_below_60": 35,
        "no_funds": 2,
    }
    # the 2021 report prints it as seed 001 counts it: 低于60%的37个(含2个暂未下达资金)
    reported = rows(
        con,
        """
        select report_label, reported_project_count, total_project_count
        from marts.mart_report_spending_distribution
        where parent_project_key = 'DG-SZZF-2019' and report_year = 2021
        order by is_whole_period desc, sort_order limit 6""",
    )
    assert [(r["report_label"], r["reported_project_count"]) for r in reported] == [
        ("100%", 0),
        ("90%-100%", 0),
        ("80%-90%", 30),
        ("60%-80%", 8),
        ("低于60%（含暂未下达资金）", 37),
        ("其中：暂未下达资金", 2),
    ]
    assert {r["total_project_count"] for r in reported} == {75}


def test_seed_003_department_framework(con: duckdb.DuckDBPyConnection) -> None:
    project = one(
        con,
        """
        select allocation_rate, spent_to_allocated_rate, recomputed_score, grade
        from marts.mart_project_year where project_key = 'YC-DZZW-2022'""",
    )
    assert project == {
        "allocation_rate": Decimal("1.000000"),
        "spent_to_allocated_rate": Decimal("1.000000"),
        "recomputed_score": Decimal("100.00"),
        "grade": "优",
    }


def test_lagging_execution_is_flagged(con: duckdb.DuckDBPyConnection) -> None:
    months = rows(
        con,
        """
        select month, cumulative_spent_yuan, is_lagging from marts.mart_execution_monthly
        where project_key = 'XF-2023-02' order by month""",
    )
    assert len(months) == 12 and months[-1]["cumulative_spent_yuan"] == Decimal("57790.00")
    # nothing paid before November; even December ends at 58.37% of the budget
    assert all(m["is_lagging"] for m in months)
    flag = one(
        con,
        """select detail from marts.mart_review_flags
                       where project_key = 'XF-2023-02' and flag_code = 'lagging_execution'""",
    )
    assert flag["detail"] == "1月"
    # XF-2023-01 has no dated payments, so nothing to compare against the schedule
    assert not rows(
        con, "select * from marts.mart_execution_monthly where project_key = 'XF-2023-01'"
    )


def test_review_cases_are_flagged(con: duckdb.DuckDBPyConnection) -> None:
    flags = {
        (f["flag_code"], f["detail"]): f
        for f in rows(
            con,
            """
        select flag_code, detail, severity, message_zh, message_en from marts.mart_review_flags
        where project_key = 'REVIEW-2023'""",
        )
    }
    assert set(flags) == {
        ("weights_not_100", "95.0000"),
        ("qualitative_score_outside_tier", "群众办事便利度"),
        ("missing_deviation_reason", "培训场次"),
        ("reported_score_above_recomputed", "培训场次"),
        ("reported_score_above_recomputed", "总分/total"),
    }
    assert flags[("weights_not_100", "95.0000")]["severity"] == "error"
    tier = flags[("qualitative_score_outside_tier", "群众办事便利度")]
    assert "6.00-8.00" in tier["message_zh"] and "6.00-8.00" in tier["message_en"]
    # 8 of 10 training sessions: 45 x 8 / 10 = 36, below the reported 40
    score = one(
        con,
        """select recomputed_score_2dp, rule_applied from marts.fct_indicator_scores
                        where project_key = 'REVIEW-2023' and level3_name = '培训场次'""",
    )
    assert score == {
        "recomputed_score_2dp": Decimal("36.00"),
        "rule_applied": "higher_is_better_proportional",
    }


def test_department_totals_do_not_double_count_subprojects(con: duckdb.DuckDBPyConnection) -> None:
    dg = one(
        con,
        """select project_count, allocated_yuan from marts.mart_department_year
                     where department_name = '东莞市政务服务数据管理局'""",
    )
    assert dg == {"project_count": 1, "allocated_yuan": wan("100") * 73}


def test_date_dimension_covers_every_day_of_each_year(con: duckdb.DuckDBPyConnection) -> None:
    """日期维度：每个年度的每一天，含序时进度 (every day of every fiscal year, 序时进度)."""
    years = {
        r["fiscal_year"]: r["days"]
        for r in rows(
            con,
            """
        select fiscal_year, count(*) as days from marts.dim_date group by fiscal_year""",
        )
    }
    fiscal_years = {
        r["fiscal_year"] for r in rows(con, "select fiscal_year from marts.dim_fiscal_year")
    }
    assert fiscal_years and fiscal_years <= set(years)
    assert {y: (366 if y % 4 == 0 else 365) for y in years} == years  # 2020 is a leap year
    assert 2020 in years
    day = one(
        con,
        """select month, quarter, year_month, day_of_month, day_of_year, days_in_year,
                             day_of_week_iso, is_weekend, is_month_end, year_elapsed_rate,
                             month_schedule_rate
                      from marts.dim_date where calendar_date = date '2023-07-02'""",
    )
    assert day == {
        "month": 7,
        "quarter": 3,
        "year_month": 202307,
        "day_of_month": 2,
        "day_of_year": 183,
        "days_in_year": 365,
        "day_of_week_iso": 7,
        "is_weekend": True,
        "is_month_end": False,
        "year_elapsed_rate": Decimal("0.501370"),  # 183 / 365
        "month_schedule_rate": Decimal("0.583333"),
    }  # 7 / 12
    leap = one(
        con,
        """select day_of_year, is_month_end, year_elapsed_rate from marts.dim_date
                       where calendar_date = date '2020-02-29'""",
    )
    assert leap == {
        "day_of_year": 60,
        "is_month_end": True,
        "year_elapsed_rate": Decimal("0.163934"),
    }  # 60 / 366
    ends = rows(
        con,
        """select fiscal_year, year_elapsed_rate from marts.dim_date
                        where month = 12 and day_of_month = 31""",
    )
    assert len(ends) == len(years) and {e["year_elapsed_rate"] for e in ends} == {Decimal("1")}
    # the monthly mart's 序时进度 is the dimension's month-end schedule
    mismatched = rows(
        con,
        """
        select m.project_key, m.month from marts.mart_execution_monthly as m
        inner join marts.dim_date as d
            on d.fiscal_year = m.fiscal_year and d.month = m.month and d.is_month_end
        where d.month_schedule_rate <> m.time_schedule_rate""",
    )
    assert mismatched == []
    orphans = rows(
        con,
        """select p.payment_id from marts.fct_payments as p
                           left join marts.dim_date as d on p.payment_date = d.calendar_date
                           where p.payment_date is not null and d.calendar_date is null""",
    )
    assert orphans == []


def test_indicator_dimension_has_one_row_per_definition(con: duckdb.DuckDBPyConnection) -> None:
    """指标维度：每个指标定义一行，事实表以 indicator_key 关联 (one row per definition)."""
    definitions = one(
        con,
        """
        select count(*) as n, count(distinct indicator_key) as keys from (
            select distinct level1_name, level2_name, level3_name, kind, direction, unit,
                   indicator_key
            from marts.fct_indicator_scores)""",
    )
    assert definitions["n"] == definitions["keys"]
    assert one(con, "select count(*) as n from marts.dim_indicator")["n"] == definitions["keys"]
    open_data = one(
        con,
        """
        select d.level1_name, d.level2_name, d.kind, d.direction, d.project_count
        from marts.dim_indicator as d
        inner join marts.fct_indicator_results as r on r.indicator_key = d.indicator_key
        where r.project_key = 'JM-SZZF-2023'
            and r.level3_name like '公共数据资源社会开放数据集%'""",
    )
    assert open_data == {
        "level1_name": "产出",
        "level2_name": "数量指标",
        "kind": "quantitative",
        "direction": ">=",
        "project_count": 1,
    }
    # the funding block of every self-evaluation form is the same definition (预算执行率)
    budget_rate = one(
        con,
        """
        select project_count, indicator_count from marts.dim_indicator
        where level1_name = '预算执行率' and level3_name = '预算执行率'
            and kind = 'budget_rate' and level2_name is null""",
    )
    assert budget_rate["project_count"] >= 3 and budget_rate["indicator_count"] >= 3


def test_deviation_deduction_is_proposed_not_applied(con: duckdb.DuckDBPyConnection) -> None:
    """偏离度扣分只作建议：开放数据集 1330 -> 5453 建议扣 20%，重算得分不变."""
    open_data = one(
        con,
        """
        select weight, recomputed_score, deviation_ratio, deviation_band_code,
               proposed_deviation_deduction, proposed_score_after_deduction
        from marts.fct_indicator_scores
        where project_key = 'JM-SZZF-2023' and level3_name like '公共数据资源社会开放数据集%'""",
    )
    assert open_data == {
        "weight": Decimal("2.3529"),
        "recomputed_score": Decimal("2.3529"),
        "deviation_ratio": Decimal("4.100000"),
        "deviation_band_code": "over_2x",
        "proposed_deviation_deduction": Decimal("0.4706"),
        "proposed_score_after_deduction": Decimal("1.8824"),
    }
    cloud = one(
        con,
        """
        select deviation_band_code, proposed_deviation_deduction, proposed_score_after_deduction,
               recomputed_score
        from marts.fct_indicator_scores
        where project_key = 'JM-SZZF-2023' and level3_name like '政务云资源算力规模%'""",
    )
    assert cloud["deviation_band_code"] is None
    assert cloud["proposed_deviation_deduction"] == Decimal("0")
    assert cloud["proposed_score_after_deduction"] == cloud["recomputed_score"]
    # every proposal matches a target_too_low review flag, and the totals are untouched
    proposed = {
        r["indicator_id"]
        for r in rows(
            con,
            """
        select indicator_id from marts.fct_indicator_scores
        where proposed_deviation_deduction > 0""",
        )
    }
    flagged = {
        r["indicator_id"]
        for r in rows(
            con,
            """
        select indicator_id from marts.mart_review_flags where flag_code = 'target_too_low'""",
        )
    }
    assert proposed and proposed == flagged
    total = one(
        con,
        """select recomputed_score from marts.mart_project_year
                        where project_key = 'JM-SZZF-2023'""",
    )
    assert total["recomputed_score"] == Decimal("97.86")


def test_docs_generate(built: tuple[Settings, DbtRunResult]) -> None:
    target = docs_generate(built[0])
    assert (target / "index.html").exists() and (target / "catalog.json").exists()
    # the lineage dbt docs draws runs from the raw sources all the way to the BI marts
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    parents: dict[str, list[str]] = manifest["parent_map"]

    def sources_upstream(node: str, seen: set[str] | None = None) -> set[str]:
        seen = set() if seen is None else seen
        found: set[str] = set()
        for parent in parents.get(node, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                found.add(parent.rsplit(".", 1)[-1])
            found |= sources_upstream(parent, seen)
        return found

    mart = next(k for k in parents if k.endswith(".mart_project_year"))
    assert {"budget_lines", "payments", "indicators", "submissions"} <= sources_upstream(mart)


def test_inconsistent_budget_makes_build_fail(tmp_path: Path) -> None:
    """初始 100 万、压减 10 万、调整后却写 95 万：对账测试失败，build() 抛错。"""
    settings = get_settings(tmp_path)
    data = RawData()
    f = RawFile("坏数据.xlsx", "ledger", datetime(2024, 5, 1))
    sid = data.submission(f, "预算", "测试局", "BAD-1", "坏数据项目", 2023)
    for line_type, amount in [("initial", "100"), ("cut", "10"), ("final", "95")]:
        data.row(
            "budget_lines",
            f,
            "预算",
            sid,
            project_key="BAD-1",
            fiscal_year=2023,
            line_type=line_type,
            fund_source="total",
            amount_yuan=wan(amount),
            original_text=amount,
            original_unit="万元",
            line_date=None,
            reason=None,
        )
    data.write(settings.warehouse)
    with pytest.raises(DbtBuildFailed) as failure:
        build(settings)
    failed = [n.unique_id for n in failure.value.result.failed if n.status != "skipped"]
    assert failed == ["test.jixiao.assert_budget_reconciles"]
    assert "assert_budget_reconciles" in str(failure.value)


def test_a_grade_outside_its_band_fails_the_grade_test(
    built: tuple[Settings, DbtRunResult], tmp_path: Path
) -> None:
    """assert_grades_match_bands passes on the build and fails on a copy of its warehouse in
    which one project-year graded 优 is shown as 良 (the grade bands are dbt's alone)."""
    settings, result = built
    assert "test.jixiao.assert_grades_match_bands" in {
        n.unique_id for n in result.nodes if n.status == "pass"
    }
    doctored = get_settings(tmp_path / "home")
    doctored.warehouse.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(settings.warehouse, doctored.warehouse)
    with duckdb.connect(str(doctored.warehouse)) as c:
        key = c.execute(
            "select project_key, fiscal_year from marts.mart_project_year where grade = '优' "
            "order by 1, 2 limit 1"
        ).fetchone()
        assert key is not None
        c.execute(
            "update marts.mart_project_year set grade = '良' "
            "where project_key = ? and fiscal_year = ?",
            list(key),
        )
    with pytest.raises(DbtBuildFailed) as failure:
        run_dbt(doctored, ["test", "--select", "assert_grades_match_bands"])
    assert [n.unique_id for n in failure.value.result.failed] == [
        "test.jixiao.assert_grades_match_bands"
    ]
