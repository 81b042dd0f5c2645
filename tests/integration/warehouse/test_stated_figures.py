"""Integration: every figure the source documents state has a home in the marts (issue 18).

文件所述数字在集市中均有对应列：执行不足标记、评价期间比率、产出完成等级、验收状态。
The warehouse is built from raw rows made of the seed documents' figures (raw_fixtures.py);
each assertion recomputes a figure a document prints from those rows, never a stored output.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import pytest

from jixiao.config import Settings, get_settings
from jixiao.samples.demo import DG_MILESTONES
from jixiao.warehouse.dbt import DbtRunResult, build, run_dbt

from .raw_fixtures import DG_DEPT, T0, XINFENG, RawData, RawFile, realistic_raw_data

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


#: seed 000: 已终验 201 of the 265 sub-projects (the ledger's 验收 column, one row each)
JM_FINAL_ACCEPTED = 201


def with_acceptance(data: RawData) -> RawData:
    """Milestone rows as the ledgers carry them (验收情况).

    Seed 001's 如期完成率 table counts sub-projects per stage on the parent (启动 100 / 96 …
    终验 24 / 23, from ``jixiao.samples.demo.DG_MILESTONES``); seed 000's ledger gives each of
    its 265 sub-projects its stages, 201 of them 终验.
    """
    dg = RawFile("东莞数字政府建设项目评价2019-2021.xlsx", "ledger", T0)
    for stage, planned, actual in DG_MILESTONES:
        data.row(
            "milestones",
            dg,
            "如期完成率",
            None,
            project_key="DG-SZZF-2019",
            fiscal_year=2021,
            stage=stage,
            planned_count=planned,
            actual_count=actual,
        )
    jm = RawFile("江门数字政府专项资金2019-2022台账.xlsx", "ledger", T0)
    subprojects = [p for p in data.tables["projects"] if p["parent_project_key"] == "JM-SZZF-2019"]
    for n, sub in enumerate(subprojects):
        year = next(
            p["fiscal_year"]
            for p in data.tables["payments"]
            if p["project_key"] == sub["project_key"]
        )
        for stage in ("立项", "初验", "终验"):
            data.row(
                "milestones",
                jm,
                "验收",
                None,
                project_key=sub["project_key"],
                fiscal_year=year,
                stage=stage,
                planned_count=1,
                actual_count=1 if stage != "终验" or n < JM_FINAL_ACCEPTED else 0,
            )
    return data


def raw_data() -> RawData:
    return with_acceptance(realistic_raw_data())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, DbtRunResult]:
    settings = get_settings(tmp_path_factory.mktemp("jixiao_home"))
    raw_data().write(settings.warehouse)
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


def rate(numerator: Decimal, denominator: Decimal) -> Decimal:
    """A fraction to six places, half up, as the warehouse's ratio() gives it."""
    return (numerator / denominator).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def thresholds(con: duckdb.DuckDBPyConnection) -> dict[str, Decimal]:
    return {
        r["threshold_code"]: r["threshold_value"]
        for r in rows(con, "select * from staging.review_thresholds")
    }


#: the dbt unit tests of the models issue 18 added (their figures are the documents')
UNIT_TESTS = {
    "int_review_flags_unioned": "seed_004_low_execution_flagged",
    "mart_output_completion": "seed_001_output_completion_from_reported_score",
}


def test_unit_tests_reproduce_the_documents(built: tuple[Settings, DbtRunResult]) -> None:
    selection = [f"test_type:unit,{model}" for model in UNIT_TESTS]
    result = run_dbt(built[0], ["test", "--select", *selection])
    passed = {n.unique_id.rsplit(".", 1)[-1] for n in result.nodes if n.status == "pass"}
    assert set(UNIT_TESTS.values()) <= passed, [(n.unique_id, n.status) for n in result.nodes]


# ------------------------------------------------------------------ 1. low execution
def test_seed_004_low_execution_is_a_finding(con: duckdb.DuckDBPyConnection) -> None:
    """政务系统管理 spent 57,790 of 99,000 元 (58.37 %) and self-scored 100: flagged."""
    limits = thresholds(con)
    severe, low = limits["low_execution_severe_rate"], limits["low_execution_rate"]
    for key, name, _initial, final, spent in XINFENG:
        expected_rate = rate(Decimal(spent), Decimal(final))
        found = rows(
            con,
            "select * from marts.mart_review_flags where project_key = ? "
            "and flag_code like 'low_execution%'",
            key,
        )
        if expected_rate >= low:
            assert found == [], (name, found)
            continue
        assert len(found) == 1, (name, found)
        flag = found[0]
        assert flag["flag_code"] == (
            "low_execution_severe" if expected_rate < severe else "low_execution"
        )
        assert flag["execution_rate"] == expected_rate
        assert flag["final_yuan"] == Decimal(final) and flag["spent_yuan"] == Decimal(spent)
        pct = f"{(expected_rate * 100).quantize(Decimal('0.01'))}%"
        assert flag["detail"] == pct and pct in flag["message_zh"] and pct in flag["message_en"]
        assert f"{Decimal(spent):.2f}" in flag["message_zh"]
    flagged = {
        r["project_key"]: r
        for r in rows(
            con,
            "select project_key, flag_code, severity, execution_rate from marts.mart_review_flags "
            "where project_key like 'XF-%' and flag_code like 'low_execution%'",
        )
    }
    # the documents' one low-execution project, and the self-score it sits beside
    assert set(flagged) == {"XF-2023-02"}
    assert flagged["XF-2023-02"]["severity"] == "warning"
    assert flagged["XF-2023-02"]["execution_rate"] == Decimal("0.583737")
    self_score = rows(
        con,
        "select reported_score from marts.mart_project_year where project_key = 'XF-2023-02'",
    )
    assert self_score == [{"reported_score": Decimal("100.00")}]


def test_other_flags_carry_no_execution_figures(con: duckdb.DuckDBPyConnection) -> None:
    others = rows(
        con,
        "select flag_code from marts.mart_review_flags where flag_code not like 'low_execution%' "
        "and (execution_rate is not null or final_yuan is not null or spent_yuan is not null)",
    )
    assert others == []
    every_low = rows(
        con,
        "select flag_code, execution_rate, final_yuan, spent_yuan from marts.mart_review_flags "
        "where flag_code like 'low_execution%'",
    )
    assert every_low and all(
        r["execution_rate"] == rate(r["spent_yuan"], r["final_yuan"]) for r in every_low
    )


# ------------------------------------------------------------------ 2. evaluation periods
def test_seed_000_period_rates_have_a_row(con: duckdb.DuckDBPyConnection) -> None:
    """Seed 000: 支付率 97.61 % printed for 2019-2022; 50418.98 / 51000 万元 = 98.86 %."""
    raw = raw_data().tables
    key = "JM-SZZF-2019"
    sign = {"initial": 1, "addition": 1, "cut": -1}
    arranged = sum(
        (
            sign[b["line_type"]] * b["amount_yuan"]
            for b in raw["budget_lines"]
            if b["project_key"] == key
        ),
        Decimal(0),
    )
    subprojects = {p["project_key"] for p in raw["projects"] if p["parent_project_key"] == key}
    paid = sum(
        (p["amount_yuan"] for p in raw["payments"] if p["project_key"] in subprojects), Decimal(0)
    )
    stated = next(
        e for e in raw["evaluations"] if e["project_key"] == key and e["reported_rate"] is not None
    )
    line = next(
        t for t in raw["reported_totals"] if t["project_key"] == key and t["measure"] == "pay_rate"
    )
    # the documents' figures, from the raw rows
    assert arranged == Decimal("510000000.00") and paid == Decimal("504189800.00")
    found = rows(con, "select * from marts.mart_evaluation_periods where project_key = ?", key)
    assert len(found) == 1, found
    period = found[0]
    assert (period["period_start_year"], period["period_end_year"]) == (2019, 2022)
    assert period["period_year_count"] == 4 and period["years_with_figures"] == 4
    assert period["final_yuan"] == arranged and period["spent_yuan"] == paid
    assert period["recomputed_rate"] == rate(paid, arranged) == Decimal("0.988607")
    assert period["reported_rate"] == stated["reported_rate"] == Decimal("0.9761")
    assert period["rate_difference"] == stated["reported_rate"] - rate(paid, arranged)
    assert (period["reported_rate_pct"], period["recomputed_rate_pct"]) == (
        Decimal("97.61"),
        Decimal("98.86"),
    )
    assert period["rate_difference_pct"] == Decimal("-1.25") and period["is_rate_different"]
    # lineage: the evaluation row that printed the rate, and the summary line beside it
    assert period["reported_rate_source"] == "evaluation"
    assert period["reported_rate_evaluation_type"] == "self"
    assert (period["reported_rate_file_name"], period["reported_rate_row_number"]) == (
        stated["file_name"],
        stated["row_number"],
    )
    assert period["stated_line_rate"] == line["rate"]
    assert (period["stated_line_sheet_name"], period["stated_line_row_number"]) == (
        line["sheet_name"],
        line["row_number"],
    )
    assert "支付率 97.61%" in period["stated_line_text"]
    assert period["reported_final_yuan"] == arranged
    assert period["reported_paid_yuan"] == paid  # the summary line; the short 合计 row is counted
    statements = [t for t in raw["reported_totals"] if t["project_key"] == key]
    assert period["stated_figure_count"] == len(statements) == 4
    # the 合计 row a payment short (50400.00 万元) and the rate differ from the detail
    assert period["stated_figure_mismatch_count"] == 2


def test_every_evaluation_has_a_period_row(con: duckdb.DuckDBPyConnection) -> None:
    evaluated = {
        (r["project_key"], r["period_start_year"], r["fiscal_year"])
        for r in rows(
            con,
            "select distinct project_key, period_start_year, fiscal_year "
            "from intermediate.int_evaluations_deduplicated",
        )
    }
    periods = {
        (r["project_key"], r["period_start_year"], r["period_end_year"])
        for r in rows(con, "select * from marts.mart_evaluation_periods")
    }
    assert evaluated and evaluated <= periods
    # a period without a stated rate has no difference and no lineage, never a made-up one
    unstated = rows(
        con,
        "select * from marts.mart_evaluation_periods where reported_rate is null",
    )
    assert unstated and all(
        r["rate_difference"] is None
        and r["reported_rate_source"] is None
        and not r["is_rate_different"]
        for r in unstated
    )


# ------------------------------------------------------------------ 3. output completion
def _grade(con: duckdb.DuckDBPyConnection, score_rate: Decimal) -> str:
    bands = rows(con, "select * from staging.output_completion_grades")
    return next(
        b["completion_grade_zh"]
        for b in bands
        if score_rate >= b["min_rate"] and (b["max_rate"] is None or score_rate < b["max_rate"])
    )


def test_seed_001_evaluated_only_project_gets_a_grade(con: duckdb.DuckDBPyConnection) -> None:
    """Seed 001: 产出 23.88 of 30 (79.6 %) by the third party -> 部分完成, source named."""
    raw = raw_data().tables
    row = next(
        e
        for e in raw["evaluations"]
        if e["project_key"] == "DG-SZZF-2019" and e["level1_name"] == "产出"
    )
    score_rate = rate(row["score"], row["max_score"])
    assert score_rate == Decimal("0.796000")
    found = rows(
        con,
        "select * from marts.mart_output_completion where project_key = 'DG-SZZF-2019'",
    )
    assert len(found) == 1, found
    grade = found[0]
    assert grade["score_source"] == "third_party" and grade["is_preferred"]
    assert (grade["output_score"], grade["output_max_score"]) == (Decimal("23.88"), Decimal("30"))
    assert grade["output_score_rate"] == score_rate and grade["output_score_rate_pct"] == Decimal(
        "79.60"
    )
    assert grade["completion_grade_zh"] == _grade(con, score_rate) == "部分完成"
    assert (grade["file_name"], grade["row_number"]) == (row["file_name"], row["row_number"])


def test_every_evaluated_project_year_has_one_preferred_grade(
    con: duckdb.DuckDBPyConnection,
) -> None:
    preferred = rows(
        con,
        "select project_key, fiscal_year, count(*) as n from marts.mart_output_completion "
        "where is_preferred group by all",
    )
    assert preferred and all(r["n"] == 1 for r in preferred)
    with_output = {
        (r["project_key"], r["fiscal_year"])
        for r in rows(
            con,
            "select project_key, fiscal_year from marts.mart_level1_scores "
            "where level1_name = '产出'",
        )
    }
    assert with_output == {(r["project_key"], r["fiscal_year"]) for r in preferred}
    # where indicators exist, the preferred grade is mart_project_year's (recomputed) one
    both = rows(
        con,
        "select c.completion_grade_zh, p.output_completion_grade, c.score_source, "
        "c.output_score_rate from marts.mart_output_completion c join marts.mart_project_year p "
        "using (project_key, fiscal_year) where c.is_preferred and p.output_completion_grade "
        "is not null",
    )
    assert both and all(
        r["completion_grade_zh"]
        == r["output_completion_grade"]
        == _grade(con, r["output_score_rate"])
        and r["score_source"] == "recomputed"
        for r in both
    )


# ------------------------------------------------------------------ 4. acceptance status
def test_seed_000_final_acceptance_count_and_share(con: duckdb.DuckDBPyConnection) -> None:
    """Seed 000: 已终验 201 of 265 sub-projects, per department and category, per year."""
    raw = raw_data().tables
    jm_subs = {
        p["project_key"]: p for p in raw["projects"] if p["parent_project_key"] == "JM-SZZF-2019"
    }
    final_rows = [
        m for m in raw["milestones"] if m["project_key"] in jm_subs and m["stage"] == "终验"
    ]
    planned = sum(m["planned_count"] for m in final_rows)
    reached = sum(m["actual_count"] for m in final_rows)
    assert (reached, planned) == (201, 265)
    dept = rows(
        con,
        "select * from marts.mart_acceptance_stages where grouping_level = 'department' "
        "and department_name = ? and fiscal_year is null and stage = '终验'",
        jm_subs[next(iter(jm_subs))]["department_name"],
    )
    assert len(dept) == 1, dept
    assert (dept[0]["reached_count"], dept[0]["planned_count"]) == (reached, planned)
    assert dept[0]["reached_share"] == rate(Decimal(reached), Decimal(planned))
    assert dept[0]["reached_share_pct"] == Decimal("75.85") and dept[0]["status_zh"] == "已终验"
    # per category and per year, recomputed from the raw rows
    by_category: dict[str, list[int]] = {}
    by_year: dict[int, list[int]] = {}
    for m in final_rows:
        for bucket, key in (
            (by_category, jm_subs[m["project_key"]]["category"]),
            (by_year, m["fiscal_year"]),
        ):
            counts = bucket.setdefault(key, [0, 0])
            counts[0] += m["actual_count"]
            counts[1] += m["planned_count"]
    categories = rows(
        con,
        "select category, reached_count, planned_count from marts.mart_acceptance_stages "
        "where grouping_level = 'category' and fiscal_year is null and stage = '终验' "
        "and department_name = ?",
        dept[0]["department_name"],
    )
    assert {
        r["category"]: [r["reached_count"], r["planned_count"]] for r in categories
    } == by_category
    years = rows(
        con,
        "select fiscal_year, reached_count, planned_count from marts.mart_acceptance_stages "
        "where grouping_level = 'department' and fiscal_year is not null and stage = '终验' "
        "and department_name = ?",
        dept[0]["department_name"],
    )
    assert {r["fiscal_year"]: [r["reached_count"], r["planned_count"]] for r in years} == by_year
    # the latest stage per sub-project: 201 已终验, the others 已初验
    status = rows(
        con,
        "select acceptance_status_zh, count(*) as n from marts.mart_project_acceptance "
        "where parent_project_key = 'JM-SZZF-2019' group by all",
    )
    assert {r["acceptance_status_zh"]: r["n"] for r in status} == {"已终验": 201, "已初验": 64}


def test_seed_001_stage_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Seed 001's 如期完成率 table: 启动 100 / 96 … 初验 40 / 40, 终验 24 / 23."""
    found = rows(
        con,
        "select stage, stage_order, planned_count, reached_count, reached_share "
        "from marts.mart_acceptance_stages where grouping_level = 'department' "
        "and department_name = ? and fiscal_year = 2021 order by stage_order",
        DG_DEPT,
    )
    assert [(r["stage"], r["planned_count"], r["reached_count"]) for r in found] == DG_MILESTONES
    assert all(
        r["reached_share"] == rate(Decimal(r["reached_count"]), Decimal(r["planned_count"]))
        for r in found
    )
    parent = rows(
        con, "select * from marts.mart_project_acceptance where project_key = 'DG-SZZF-2019'"
    )
    assert len(parent) == 1
    assert parent[0]["latest_stage"] == "终验" and parent[0]["latest_stage_year"] == 2021
