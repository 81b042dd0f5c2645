"""Gates that cost what changed (增量闸门测试): real GX, real DuckDB files.

After a passing run a gate validates only the rows of the submissions that changed since
(row-level expectations, in GX) and evaluates uniqueness on the whole frame in SQL; it runs
in full when there is no state, the last run failed, a suite changed or the warehouse was
rebuilt. These tests feed each mode bad data to prove it still blocks, and compare the two
modes on good data. The warehouses are the hand-made ones of ``quality_data``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest
from tests.integration.quality import quality_data as data

from jixiao.config import Settings
from jixiao.quality import incremental as inc
from jixiao.quality.gates import GateResult, QualityGateFailed, result_path, run_gate

pytestmark = pytest.mark.slow

T2 = dt.datetime(2024, 3, 3, 2, 0, 0)
H3 = "e" * 64
SUITES_DIR = Path(__file__).resolve().parents[3] / "expectations"


def new_submission(project: str, file_hash: str = H3, **payment: object) -> data.Rows:
    """A file loaded after the first gate run: one submission of ``project`` for 2023."""
    sub = f"{file_hash}:自评表:{project}:2023"
    name = f"{project}_2023.xlsx"
    lineage = {"file_hash": file_hash, "file_name": name, "loaded_at": T2, "submission_id": sub}
    return {
        "load_log": [
            data._row(
                "load_log",
                load_id=f"L-{project}",
                file_hash=file_hash,
                file_name=name,
                loaded_at=T2,
                received_at=T2,
            )
        ],
        "submissions": [
            data._row(
                "submissions",
                submission_id=sub,
                file_hash=file_hash,
                file_name=name,
                loaded_at=T2,
                project_key=project,
                project_name=f"项目 {project}",
            )
        ],
        "budget_lines": [data._row("budget_lines", **lineage, project_key=project)],
        "payments": [data._row("payments", **lineage, project_key=project, **payment)],
    }


def add(path: Path, schema: str, rows: data.Rows) -> None:
    con = duckdb.connect(str(path))
    try:
        data.insert(con, schema, rows)
    finally:
        con.close()


def execute(path: Path, sql: str) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(sql)
    finally:
        con.close()


def mark_built(path: Path) -> None:
    """The build record pipeline.dbt_build leaves (without it the marts gate runs in full)."""
    execute(
        path,
        "create schema jixiao_state; create table jixiao_state.builds"
        " (kind varchar primary key, state varchar, recorded_at timestamp);"
        " insert into jixiao_state.builds values ('dbt_build',"
        ' \'{"project": "p1", "full_refresh_at": "2024-03-01T00:00:00"}\', now())',
    )


def failures(result: GateResult) -> dict[tuple[str, str], object]:
    return {
        (f.suite, f.expectation_type + ":" + str(f.column or f.kwargs.get("column_list"))): f
        for s in result.suites
        for f in s.failures
    }


def summary(result: GateResult) -> list[tuple[object, ...]]:
    """What a reader of the result sees per suite (without timings and validated rows)."""
    return [
        (s.suite, s.success, s.critical_success, s.evaluated, s.failed, s.row_count)
        for s in result.suites
    ]


def test_raw_incremental_run_blocks_a_changed_submission_with_bad_data(settings: Settings):
    data.create_raw(settings.warehouse, data.good_raw())
    first = run_gate("raw", settings)
    assert first.success and first.mode == "full"
    assert "no state" in first.mode_reason

    add(settings.warehouse, "raw", new_submission("P2", amount_yuan=D("-3.00")))
    with pytest.raises(QualityGateFailed) as info:
        run_gate("raw", settings)
    result = info.value.result
    assert result.mode == "incremental", result.mode_reason
    assert result.changed["keys"] == 1 and result.changed["files"] == 1
    [bad] = [f for f in result.critical_failures if f.suite == "raw__payments"]
    assert bad.column == "amount_yuan" and bad.unexpected_count == 1
    assert bad.sample_rows[0]["project_key"] == "P2"
    assert bad.sample_rows[0]["amount_yuan"] == "-3.00"
    payments = next(s for s in result.suites if s.suite == "raw__payments")
    assert payments.row_count == 2  # the whole frame ...
    assert payments.validated_rows == 1  # ... of which GX saw the changed row
    written = json.loads(result_path(settings, "raw").read_text(encoding="utf-8"))
    assert written["mode"] == "incremental" and "1 submission key" in written["mode_reason"]
    assert written["success"] is False

    # the run after a failure validates everything, and still blocks
    with pytest.raises(QualityGateFailed) as again:
        run_gate("raw", settings)
    assert again.value.result.mode == "full"
    assert "previous gate run failed" in again.value.result.mode_reason


def test_marts_incremental_run_blocks_bad_rows_and_duplicates_across_old_and_new(
    settings: Settings,
):
    data.create_marts(settings.warehouse, data.good_raw(), data.good_marts())
    mark_built(settings.warehouse)
    assert run_gate("marts", settings).mode == "full"

    add(settings.warehouse, "raw", new_submission("PN", file_hash="f" * 64))
    add(
        settings.warehouse,
        "marts",
        {
            # PAY1 is also the id of P1's (unchanged) payment: only the whole table shows it
            "fct_payments": [data._mrow("fct_payments", project_key="PN")],
            "mart_project_year": [
                data._mrow("mart_project_year", project_key="PN", grade="甲", spent_yuan=None)
            ],
        },
    )
    with pytest.raises(QualityGateFailed) as info:
        run_gate("marts", settings)
    result = info.value.result
    assert result.mode == "incremental", result.mode_reason
    found = failures(result)
    dup = found[("marts__fct_payments", "expect_column_values_to_be_unique:payment_id")]
    assert dup.severity == "critical"
    assert (dup.unexpected_count, dup.element_count) == (2, 2)
    assert {r["project_key"] for r in dup.sample_rows} == {"P1", "PN"}
    assert dup.expectation_id and dup.notes_zh  # reported as the suite declares it
    grade = found[("marts__mart_project_year", "expect_column_values_to_be_in_set:grade")]
    assert grade.sample_rows[0]["project_key"] == "PN"
    assert grade.unexpected_count == 1
    # the other suites validated only PN's rows, and still report every expectation
    full_count = {
        p.stem: len(json.loads(p.read_text(encoding="utf-8"))["expectations"])
        for p in (SUITES_DIR / "expectations").glob("marts__*.json")
    }
    assert {s.suite: s.evaluated for s in result.suites} == full_count


def test_marts_without_a_build_record_are_validated_in_full(settings: Settings):
    """Marts swapped without a dbt build record: what changed cannot be told, so every run
    validates them whole (the publish gate test swaps in bad marts this way)."""
    data.create_marts(settings.warehouse, data.good_raw(), data.good_marts())
    assert run_gate("marts", settings).mode == "full"
    second = run_gate("marts", settings)
    assert second.mode == "full" and "cannot be told" in second.mode_reason


def test_a_rebuilt_warehouse_is_validated_in_full(settings: Settings):
    data.create_marts(settings.warehouse, data.good_raw(), data.good_marts())
    mark_built(settings.warehouse)
    assert run_gate("marts", settings).mode == "full"
    assert run_gate("marts", settings).mode == "incremental"
    execute(
        settings.warehouse,
        "update jixiao_state.builds set state ="
        ' \'{"project": "p1", "full_refresh_at": "2024-03-02T00:00:00"}\'',
    )
    rebuilt = run_gate("marts", settings)
    assert rebuilt.mode == "full" and "full-refresh" in rebuilt.mode_reason


def test_unchanged_rows_are_not_revalidated_until_a_suite_changes_or_a_run_fails(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    suites = tmp_path / "expectations"
    shutil.copytree(SUITES_DIR, suites)
    monkeypatch.setattr(Settings, "expectations_dir", property(lambda self: suites))
    data.create_raw(settings.warehouse, data.good_raw())
    assert run_gate("raw", settings).success

    # a row changed in place, behind the append-only contract: its key's fingerprint stays
    execute(
        settings.warehouse,
        "update raw.budget_lines set amount_yuan = -7 where project_key = 'P1'"
        " and line_type = 'final'",
    )
    add(settings.warehouse, "raw", new_submission("P2"))
    quiet = run_gate("raw", settings)
    assert quiet.mode == "incremental" and quiet.success  # validated rows are not re-read
    assert quiet.changed["keys"] == 1

    # a suite change (here only its notes) makes the next run full, which catches the row
    path = suites / "expectations" / "raw__budget_lines.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    suite["expectations"][0]["meta"]["notes_en"] += " (reworded)"
    path.write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(QualityGateFailed) as info:
        run_gate("raw", settings)
    result = info.value.result
    assert result.mode == "full" and "suite" in result.mode_reason
    [bad] = result.critical_failures
    assert bad.suite == "raw__budget_lines" and bad.sample_rows[0]["amount_yuan"] == "-7.00"

    # after the failure every run is full until one passes; then incremental again
    execute(settings.warehouse, "update raw.budget_lines set amount_yuan = 1 where amount_yuan < 0")
    mended = run_gate("raw", settings)
    assert mended.success and mended.mode == "full"
    assert "previous gate run failed" in mended.mode_reason
    after = run_gate("raw", settings)
    assert after.mode == "incremental" and after.changed["keys"] == 0 and after.success


@pytest.mark.parametrize("gate", ["raw", "marts"])
def test_incremental_results_equal_full_results_on_good_data(settings: Settings, gate: str):
    raw = data.merge(data.good_raw(), data.superseded_bad_raw())
    data.create_marts(settings.warehouse, raw, data.good_marts())
    mark_built(settings.warehouse)
    assert run_gate(gate, settings).mode == "full"
    # a new project and a corrected version of P1 (superseding the file of the first run)
    add(settings.warehouse, "raw", new_submission("P2"))
    add(settings.warehouse, "raw", new_submission("P1", file_hash="9" * 64))
    if gate == "marts":
        add(
            settings.warehouse,
            "marts",
            {"fct_payments": [data._mrow("fct_payments", payment_id="PAY2", project_key="P2")]},
        )
    incremental = run_gate(gate, settings)
    full = run_gate(gate, settings, full=True)
    assert incremental.mode == "incremental" and full.mode == "full"
    assert incremental.success and full.success
    # P2|2023, P1|2023 and P1| (the register row of P1 belongs to P1|2023's submission)
    assert incremental.changed["keys"] == 3
    assert summary(incremental) == summary(full)
    # ... and the incremental run did validate fewer rows somewhere
    assert any(
        s.validated_rows is not None and s.row_count is not None and s.validated_rows < s.row_count
        for s in incremental.suites
    )
    assert all(s.validated_rows == s.row_count for s in full.suites)


def test_fingerprints_follow_the_incremental_facts_keys(settings: Settings):
    """The gate's keys are the macro's: project|year over raw.submissions and raw tables."""
    data.create_raw(settings.warehouse, data.merge(data.good_raw(), new_submission("P2")))
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute(inc.fingerprint_sql(con)).fetchall()
    finally:
        con.close()
    keys = {(scope, key): count for scope, key, count, _ in rows}
    assert keys[("key", "P2|2023")] == 3  # its submission, budget line and payment
    assert ("key", "P1|") in keys  # the project register has no year
    assert keys[("file", H3)] == 1
