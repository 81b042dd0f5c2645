"""Integration: the headline metrics, defined once in the dbt semantic layer (指标只定义一次).

The warehouse is built from the realistic raw dataset (raw_fixtures.py), then every metric of
``dbt_project/models/semantic/`` is queried through MetricFlow (``mf query``, a subprocess, as
a user would run it) and compared with the same figure computed here, independently, from the
mart rows with :class:`~decimal.Decimal`: ratios are ratios of summed yuan amounts
(sum(spent) / sum(final budget)), never an average of the projects' rates.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao.config import Settings, get_settings
from jixiao.warehouse.dbt import build, dbt_paths

from .raw_fixtures import JM_DEPT, XF_DEPT, realistic_raw_data

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MF = Path(sys.executable).parent / "mf"
Key = tuple[Any, ...]


class MetricFlow:
    """``mf query`` on a built warehouse (MetricFlow 查询)."""

    def __init__(self, settings: Settings, project: Path) -> None:
        self.settings = settings
        self.project = project

    def env(self) -> dict[str, str]:
        # the same variables jixiao.warehouse.dbt sets for dbt (profiles.yml reads them)
        s = self.settings
        return {
            **os.environ,
            "JIXIAO_WAREHOUSE_PATH": str(s.warehouse),
            "JIXIAO_DUCKDB_MEMORY_LIMIT": s.duckdb_memory_limit,
            "JIXIAO_DUCKDB_THREADS": str(s.duckdb_threads),
            "JIXIAO_DUCKDB_TEMP_DIR": str(s.duckdb_temp_dir),
            "DBT_PROJECT_DIR": str(self.project),
            "DBT_PROFILES_DIR": str(self.project),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def query(self, metrics: list[str], group_by: list[str]) -> list[dict[str, str]]:
        out = self.project / f"query_{len(list(self.project.glob('query_*.csv')))}.csv"
        args = [str(MF), "query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by)]
        done = subprocess.run(
            [*args, "--csv", str(out), "--quiet"],
            cwd=self.project,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0 and out.exists(), done.stdout + done.stderr
        with out.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = get_settings(tmp_path_factory.mktemp("jixiao_home"))
    realistic_raw_data().write(settings.warehouse)
    build(settings)
    return settings


@pytest.fixture(scope="module")
def mf(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> MetricFlow:
    """mf reads ``<project>/target/semantic_manifest.json``; jixiao's dbt writes its target under
    JIXIAO_HOME, so mf gets a project folder of its own (dbt_project.yml, profiles.yml and the
    built manifest) and the repository stays clean."""
    project = tmp_path_factory.mktemp("mf_project")
    source = built.dbt_project_dir
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(source / name, project / name)
    (project / "target").mkdir()
    shutil.copy(dbt_paths(built)["target"] / "semantic_manifest.json", project / "target")
    return MetricFlow(built, project)


@pytest.fixture(scope="module")
def marts(built: Settings) -> dict[str, list[dict[str, Any]]]:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    try:
        found = {}
        for table in (
            "mart_project_year",
            "mart_department_year",
            "mart_evaluation_periods",
            "mart_review_flags",
            "mart_spending_rate_distribution",
        ):
            result = con.execute(f"select * from marts.{table}")
            names = [d[0] for d in result.description]
            found[table] = [dict(zip(names, r, strict=True)) for r in result.fetchall()]
        return found
    finally:
        con.close()


def dec(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(text)


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def total(values: Iterable[Any]) -> Decimal | None:
    """SQL sum(): the sum of the non-null values, null when there are none."""
    present = [Decimal(v) for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def assert_close(got: Decimal | None, expected: Decimal | None, what: object) -> None:
    """MetricFlow divides in DOUBLE: equal to 12 significant digits (money stays exact)."""
    if expected is None:
        assert got is None, (what, got)
        return
    assert got is not None, (what, expected)
    assert abs(got - expected) <= Decimal("1e-12") * max(Decimal(1), abs(expected)), (
        what,
        got,
        expected,
    )


def grouped(
    rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Key]
) -> dict[Key, list[dict[str, Any]]]:
    groups: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return dict(groups)


def year(text: str) -> int | None:
    """metric_time__year ('2023-01-01 00:00:00') or a fiscal_year column as a year."""
    return int(text[:4]) if text else None


def top_level(project_years: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows mart_department_year sums (top_level_projects()): not a sub-project of a listed
    project. The semantic models use parent_project_key is null, the same rows when every
    parent is listed, which the test data must satisfy."""
    listed = {r["project_key"] for r in project_years}
    rows = [r for r in project_years if r["parent_project_key"] not in listed]
    assert rows == [r for r in project_years if r["parent_project_key"] is None]
    return rows


def test_every_metric_is_labelled_in_chinese_and_english(mf: MetricFlow) -> None:
    manifest = json.loads((mf.project / "target" / "semantic_manifest.json").read_text("utf-8"))
    metrics = {m["name"]: m for m in manifest["metrics"]}
    headline = {
        "execution_rate": "预算执行率",
        "allocation_rate": "资金到位率",
        "payment_rate": "支付率",
        "average_score": "平均得分",
        "graded_project_count": "等级分布",
        "review_flag_count": "复核问题数",
        "spending_rate_bucket_count": "支出率分档",
    }
    for name, zh in headline.items():
        assert zh in metrics[name]["label"], metrics[name]["label"]
    for name in ("execution_rate", "allocation_rate", "payment_rate", "average_score"):
        assert metrics[name]["type"] == "ratio", name
    for m in metrics.values():
        for text in (m["label"], m["description"]):
            assert any("\u4e00" <= c <= "\u9fff" for c in text), (m["name"], text)
            assert any(c.isascii() and c.isalpha() for c in text), (m["name"], text)


def test_department_year_rates_and_scores(
    mf: MetricFlow, marts: dict[str, list[dict[str, Any]]]
) -> None:
    got = {
        (r["department"], int(r["project_year__fiscal_year"])): r
        for r in mf.query(
            ["execution_rate", "allocation_rate", "average_score", "project_count", "spent_total"],
            ["department", "project_year__fiscal_year"],
        )
    }
    groups = grouped(
        top_level(marts["mart_project_year"]), lambda r: (r["department_name"], r["fiscal_year"])
    )
    assert set(got) == set(groups) and len(groups) >= 6
    departments = {
        (r["department_name"], r["fiscal_year"]): r for r in marts["mart_department_year"]
    }
    for key, rows in groups.items():
        final = total(r["final_budget_yuan"] for r in rows)
        spent = total(r["spent_yuan"] for r in rows)
        allocated = total(r["allocated_yuan"] for r in rows)
        scores = [r["recomputed_score"] for r in rows if r["recomputed_score"] is not None]
        row = got[key]
        assert_close(dec(row["execution_rate"]), ratio(spent, final), (key, "execution_rate"))
        assert_close(dec(row["allocation_rate"]), ratio(allocated, final), (key, "allocation"))
        assert_close(
            dec(row["average_score"]),
            ratio(total(scores), Decimal(len(scores)) if scores else None),
            (key, "average_score"),
        )
        assert int(row["project_count"]) == len(rows)
        assert dec(row["spent_total"]) == spent, key  # the yuan sum itself is exact
        # the same figures as the department mart, which rounds the rate to six places
        mart = departments[key]
        assert mart["project_count"] == len(rows) and mart["spent_yuan"] == spent
        rate = dec(row["execution_rate"])
        assert (rate is None) == (mart["execution_rate"] is None), key
        if rate is not None:
            assert abs(rate - mart["execution_rate"]) <= Decimal("0.0000005"), key

    # seed 004 (江门 2023): 9044.14 / 9150 万元 = 98.84 %
    assert round(dec(got[(JM_DEPT, 2023)]["execution_rate"]) or 0, 4) == Decimal("0.9884")


def test_execution_rate_is_a_ratio_of_sums_not_an_average_of_rates(
    mf: MetricFlow, marts: dict[str, list[dict[str, Any]]]
) -> None:
    """新丰 2023: four projects at 83.39 %, 58.37 %, 99.52 % and 100 %: the average of the four
    rates is 85.32 %, the department's rate 448778 / 496000 = 90.48 %."""
    (row,) = [
        r
        for r in mf.query(["execution_rate"], ["department", "metric_time__year"])
        if r["department"] == XF_DEPT and year(r["metric_time__year"]) == 2023
    ]
    rows = [
        r
        for r in top_level(marts["mart_project_year"])
        if r["department_name"] == XF_DEPT and r["fiscal_year"] == 2023
    ]
    rates = [r["execution_rate"] for r in rows]
    assert len(rates) == 4 and None not in rates
    average_of_rates = sum(rates, Decimal(0)) / len(rates)
    sums = ratio(total(r["spent_yuan"] for r in rows), total(r["final_budget_yuan"] for r in rows))
    assert sums == Decimal(448778) / Decimal(496000)
    got = dec(row["execution_rate"])
    assert_close(got, sums, "xf 2023")
    assert got is not None and abs(got - average_of_rates) > Decimal("0.04")


def test_payment_rate_and_review_flags_with_metric_time(
    mf: MetricFlow, marts: dict[str, list[dict[str, Any]]]
) -> None:
    """Metrics of three semantic models in one query, by department and metric_time."""
    got = {
        (r["department"], year(r["metric_time__year"])): r
        for r in mf.query(
            ["execution_rate", "payment_rate", "review_flag_count"],
            ["department", "metric_time__year"],
        )
    }
    periods = grouped(
        marts["mart_evaluation_periods"], lambda r: (r["department_name"], r["period_end_year"])
    )
    for key, rows in periods.items():
        expected = ratio(total(r["spent_yuan"] for r in rows), total(r["final_yuan"] for r in rows))
        assert_close(dec(got[key]["payment_rate"]), expected, (key, "payment_rate"))
    flags = grouped(marts["mart_review_flags"], lambda r: (r["department_name"], r["fiscal_year"]))
    assert sum(len(v) for v in flags.values()) == len(marts["mart_review_flags"]) > 0
    for key, rows in flags.items():
        assert int(got[key]["review_flag_count"]) == len(rows), key
    counted = {k for k, r in got.items() if r["review_flag_count"]}
    assert counted == set(flags)
    # seed 000: paid 50418.98 of 51000 万元 over 2019-2022 = 98.86 % (the document prints 97.61 %)
    assert round(dec(got[(JM_DEPT, 2022)]["payment_rate"]) or 0, 4) == Decimal("0.9886")


def test_grade_distribution(mf: MetricFlow, marts: dict[str, list[dict[str, Any]]]) -> None:
    got = mf.query(["graded_project_count"], ["project_year__grade", "project_year__fiscal_year"])
    expected = grouped(
        [r for r in top_level(marts["mart_project_year"]) if r["grade"] is not None],
        lambda r: (r["grade"], r["fiscal_year"]),
    )
    assert expected and sum(len(v) for v in expected.values()) >= 5
    found = {}
    for r in got:
        if r["project_year__grade"]:
            found[(r["project_year__grade"], int(r["project_year__fiscal_year"]))] = int(
                r["graded_project_count"]
            )
        else:
            assert int(r["graded_project_count"]) == 0, r
    assert found == {k: len(v) for k, v in expected.items()}


def test_spending_rate_buckets(mf: MetricFlow, marts: dict[str, list[dict[str, Any]]]) -> None:
    got = mf.query(
        ["spending_rate_bucket_count"],
        ["spending_rate_row__bucket_code", "spending_rate_row__fiscal_year"],
    )
    yearly = [r for r in marts["mart_spending_rate_distribution"] if r["fiscal_year"] is not None]
    expected = {
        k: sum(r["project_count"] for r in v)
        for k, v in grouped(yearly, lambda r: (r["bucket_code"], r["fiscal_year"])).items()
    }
    found = {}
    for r in got:
        if r["spending_rate_row__fiscal_year"]:
            key = (r["spending_rate_row__bucket_code"], int(r["spending_rate_row__fiscal_year"]))
            found[key] = int(r["spending_rate_bucket_count"])
        else:  # the whole-period rows are not counted again
            assert r["spending_rate_bucket_count"] == "", r
    assert found == expected and sum(expected.values()) > 0


def test_the_yearly_reports_print_the_metrics(built: Settings, mf: MetricFlow) -> None:
    """Each department report's 项目概况 row (预算执行率, 资金到位率 and 平均复核得分, as the report
    model holds them before formatting) is the metric's value for that department and year:
    the reports read the marts, and the marts' rates are the metric definitions."""
    from jixiao.reports.content import build_report, department_scopes
    from jixiao.reports.marts import load_year

    got = {
        (r["department"], int(r["project_year__fiscal_year"])): r
        for r in mf.query(
            ["execution_rate", "average_score", "project_count", "spent_total"],
            ["department", "project_year__fiscal_year"],
        )
    }
    checked = 0
    for fiscal_year in sorted({k[1] for k in got}):
        data = load_year(built.warehouse, fiscal_year, built)
        for scope in department_scopes(data):
            report = build_report(scope, data, unit="yuan")
            basic = next(t for s in report.sections for t in s.tables if t.key == "basic")
            row = dict(zip([c.header for c in basic.columns], basic.rows[0], strict=True))
            metric = got[(scope.name, fiscal_year)]
            assert row["项目数（个）"] == int(metric["project_count"]), scope.name
            assert row["实际支出（元）"] == dec(metric["spent_total"]), scope.name
            for header, name, places in (
                ("预算执行率", "execution_rate", 6),
                ("平均复核得分", "average_score", 2),
            ):
                value = dec(metric[name])
                printed = row[header]
                assert (printed is None) == (value is None), (scope.name, header)
                if value is not None:  # the marts round: rates to 6 places, scores to 2
                    assert printed == round(value, places), (scope.name, header, printed, value)
            checked += 1
    assert checked >= 6
