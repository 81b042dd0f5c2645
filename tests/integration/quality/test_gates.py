"""Quality gates run real GX checkpoints and block on critical failures (质量闸门测试).

Each test builds a DuckDB warehouse in a temp JIXIAO_HOME, runs the gate and checks what GX
reported. The "bad" tests prove that *every* critical expectation in the suites fails on
data made to break it (the set of failing critical expectations equals the set declared
critical in ``expectations/``), and the "good" tests that the same suites pass clean data.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.quality import quality_data as data

from jixiao.quality.gates import (
    QualityGateFailed,
    gate_passed,
    gate_summary,
    result_path,
    run_gate,
)

pytestmark = pytest.mark.slow

SUITES_DIR = Path(__file__).resolve().parents[3] / "expectations" / "expectations"


def critical_expectations(gate: str) -> set[tuple[str, str]]:
    """(suite, expectation id) of every critical expectation of ``gate``, read from the JSON."""
    out = set()
    for path in SUITES_DIR.glob(f"{gate}__*.json"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        for e in suite["expectations"]:
            if e["meta"]["severity"] == "critical":
                out.add((suite["name"], e["id"]))
    return out


def failing(result_json: dict, severity: str) -> set[tuple[str, str]]:
    return {
        (f["suite"], f["expectation_id"])
        for s in result_json["suites"]
        for f in s["failures"]
        if f["severity"] == severity
    }


def test_raw_gate_passes_good_data_and_ignores_superseded_rows(settings):
    data.create_raw(settings.warehouse, data.merge(data.good_raw(), data.superseded_bad_raw()))
    result = run_gate("raw", settings)
    assert result.success, result.failure_message()
    assert result.critical_failures == []
    written = json.loads(result_path(settings, "raw").read_text(encoding="utf-8"))
    assert written["success"] is True
    assert {s["suite"] for s in written["suites"]} == {
        p.stem for p in SUITES_DIR.glob("raw__*.json")
    }
    rows = {s["suite"]: s["row_count"] for s in written["suites"]}
    assert rows["raw__budget_lines"] == 2  # the superseded file's line is not validated
    assert rows["raw__indicator_groups"] == 1  # the blank-weight group is skipped
    assert Path(written["data_docs"]).is_file()
    # Data Docs built once for the run still hold a page for every suite's result
    site = Path(written["data_docs"]).parent
    for suite in rows:
        assert list((site / "validations" / suite).rglob("*.html")), suite
    assert gate_passed(settings, "raw")


def test_raw_gate_fails_every_critical_expectation_on_bad_data(settings):
    data.create_raw(settings.warehouse, data.merge(data.good_raw(), data.bad_raw()))
    with pytest.raises(QualityGateFailed) as info:
        run_gate("raw", settings)
    written = json.loads(result_path(settings, "raw").read_text(encoding="utf-8"))
    assert written["success"] is False
    expected = critical_expectations("raw")
    assert len(expected) > 40
    missing = expected - failing(written, "critical")
    assert not missing, f"critical expectations that bad data did not trip: {missing}"
    assert not gate_passed(settings, "raw")
    assert "has not run yet" in gate_summary(settings, "marts")
    message = str(info.value)
    assert "质量闸门 raw 未通过" in message and "quality gate raw failed" in message
    # sample rows name the offending values
    assert '"amount_yuan": "-1.00"' in message
    assert '"original_unit": "美元"' in message


def test_warnings_do_not_block_but_are_reported(settings):
    data.create_raw(settings.warehouse, data.merge(data.good_raw(), data.warning_raw()))
    result = run_gate("raw", settings)
    assert result.success
    assert not result.gx_success  # GX itself saw a failure ...
    [warning] = result.warnings  # ... which the suite marks as a warning
    assert warning.suite == "raw__projects" and warning.column == "category"
    assert warning.sample_rows[0]["category"] == "外星项目"


def test_year_scoped_gate_only_sees_that_year(settings):
    bad_2022 = {
        "budget_lines": [data._row("budget_lines", fiscal_year=2022, amount_yuan=data.D("-9"))]
    }
    data.create_raw(settings.warehouse, data.merge(data.good_raw(), bad_2022))
    assert run_gate("raw", settings, year=2023).success
    assert result_path(settings, "raw", 2023).is_file()
    with pytest.raises(QualityGateFailed):
        run_gate("raw", settings, year=2022)


def test_marts_gate_passes_good_marts(settings):
    data.create_marts(settings.warehouse, data.good_raw(), data.good_marts())
    result = run_gate("marts", settings)
    assert result.success, result.failure_message()
    assert result.warnings == []
    assert gate_passed(settings, "marts", year=2023)


def test_marts_gate_fails_every_critical_expectation_on_bad_marts(settings):
    data.create_marts(
        settings.warehouse,
        data.good_raw(),
        data.merge(data.good_marts(), data.bad_marts(), data.uncovered_budget()),
    )
    with pytest.raises(QualityGateFailed):
        run_gate("marts", settings)
    written = json.loads(result_path(settings, "marts").read_text(encoding="utf-8"))
    missing = critical_expectations("marts") - failing(written, "critical")
    assert not missing, f"critical expectations that bad data did not trip: {missing}"
    assert not gate_passed(settings, "marts", year=2023)


def test_budget_without_evaluation_needs_a_flag(settings):
    """dbt's qa_budget_coverage says which budgeted project-years nothing covers (its unit
    test budget_coverage_counts_periods_and_flags says how); the gate stops on them."""
    lonely = data.uncovered_budget()
    data.create_marts(settings.warehouse, data.good_raw(), data.merge(data.good_marts(), lonely))
    with pytest.raises(QualityGateFailed) as info:
        run_gate("marts", settings)
    [failure] = info.value.result.critical_failures
    assert failure.suite == "marts__budget_coverage"
    summary = gate_summary(settings, "marts", 2023)
    assert "未通过" in summary and "P-LONELY" in summary
    assert failure.sample_rows[0]["project_key"] == "P-LONELY"
    settings.warehouse.unlink()
    flagged = data.uncovered_budget(flagged=True)
    data.create_marts(settings.warehouse, data.good_raw(), data.merge(data.good_marts(), flagged))
    assert run_gate("marts", settings).success


def test_marts_gate_fails_when_a_mart_is_missing(settings):
    data.create_marts(
        settings.warehouse, data.good_raw(), data.good_marts(), skip=("mart_level1_scores",)
    )
    with pytest.raises(QualityGateFailed) as info:
        run_gate("marts", settings)
    assert "marts.mart_level1_scores" in str(info.value)
    failed = {f.suite for f in info.value.result.critical_failures}
    assert failed == {"marts__mart_level1_scores"}


def test_marts_gate_fails_when_a_quality_check_was_not_built(settings):
    data.create_marts(
        settings.warehouse, data.good_raw(), data.good_marts(), skip=("qa_budget_coverage",)
    )
    with pytest.raises(QualityGateFailed) as info:
        run_gate("marts", settings)
    assert "quality.qa_budget_coverage" in str(info.value)
    failed = {f.suite for f in info.value.result.critical_failures}
    assert failed == {"marts__budget_coverage"}
