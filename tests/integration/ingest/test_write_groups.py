"""Write groups: consecutive loaded files share one transaction (写入组).

The rows are those of one transaction per file; a write the warehouse refuses inside a group
quarantines that file only (the others load, and a file parsed with its context is parsed
again); a run that dies mid-group commits none of the group, and the next run loads it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from tests.integration.ingest import ingest_workbooks as wbk
from tests.integration.ingest.test_pool import PAY_HEADER, PROJECT_HEADER, TABLES, _batch, _dump

from jixiao.config import get_settings
from jixiao.ingest import loader
from jixiao.ingest.loader import ingest_files


def _outcome(summary: Any) -> list[tuple[Any, ...]]:
    return [
        (f.file, f.status, f.rows_loaded, f.rows_rejected, f.reason_code) for f in summary.files
    ]


def _load_log(settings: Any) -> list[tuple[str, str, str | None]]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(
            "select file_name, status, reason_code from raw.load_log order by file_name"
        ).fetchall()


def _failing_insert(monkeypatch: pytest.MonkeyPatch, table: str, file_name: str, exc: Exception):
    """Make the insert of ``table`` rows from ``file_name`` fail as the warehouse would."""
    real = loader._Loader._insert_arrow
    calls: list[int] = []

    def insert(self: Any, name: str, arrow: pa.Table) -> None:
        if name == table and file_name in arrow.column("file_name").to_pylist():
            calls.append(arrow.num_rows)
            raise exc
        real(self, name, arrow)

    monkeypatch.setattr(loader._Loader, "_insert_arrow", insert)
    return calls


@pytest.mark.parametrize("group_files", [2, 3, 32])
def test_groups_write_the_rows_of_one_transaction_per_file(tmp_path, monkeypatch, group_files):
    """Groups of 2, 3 and 32 files (ending at a quarantine and a duplicate too) give the rows
    and outcomes of groups of one file, the old per-file transaction."""
    paths = _batch(tmp_path / "batch")
    monkeypatch.setattr(loader, "WRITE_GROUP_FILES", 1)
    single = get_settings(tmp_path / "single").ensure()
    one = ingest_files(single, paths, workers=0)
    monkeypatch.setattr(loader, "WRITE_GROUP_FILES", group_files)
    grouped = get_settings(tmp_path / "grouped").ensure()
    many = ingest_files(grouped, paths, workers=0)
    assert _outcome(many) == _outcome(one)
    assert [f.status for f in many.files].count("loaded") == 8
    a, b = _dump(single), _dump(grouped)
    for table in TABLES:
        assert b[table] == a[table], table
    assert len(b["payments"]) == 5 * 7 + 1


def _register_then_payments(folder: Path) -> list[Path]:
    """05 registers P-C (丙局) and pays on it; 06 pays on P-C and needs 05's department."""
    folder.mkdir()
    wbk.ledger_workbook(
        folder / "01_register.xlsx",
        {"项目登记": [PROJECT_HEADER, ["P-A", "项目甲", "甲局", "基础设施"]]},
    )
    for i in (2, 3, 4):
        rows = [["P-A", 2023, f"2023-0{i}-01", f"{i}.5", "当年财政拨款", "单位"]]
        wbk.ledger_workbook(folder / f"0{i}_payments.xlsx", {"支付": [PAY_HEADER, *rows]})
    wbk.ledger_workbook(
        folder / "05_register_and_pay.xlsx",
        {
            "项目登记": [PROJECT_HEADER, ["P-C", "项目丙", "丙局", "基础设施"]],
            "支付": [PAY_HEADER, ["P-C", 2024, "2024-03-01", "9.75", "当年财政拨款", "单位"]],
        },
    )
    rows = [["P-C", 2024, "2024-04-01", "1.25", "当年财政拨款", "单位"]]
    wbk.ledger_workbook(folder / "06_payments.xlsx", {"支付": [PAY_HEADER, *rows]})
    return sorted(folder.iterdir())


def test_a_refused_write_quarantines_that_file_only(tmp_path, monkeypatch, caplog):
    """05's payments are refused when the group commits: 05 is quarantined (parse_error at the
    write stage, its bytes kept), 06 (parsed with 05's department) is parsed again, and every
    raw table holds what a run without 05 holds."""
    paths = _register_then_payments(tmp_path / "batch")
    bad = "05_register_and_pay.xlsx"
    without = get_settings(tmp_path / "without").ensure()
    ingest_files(without, [p for p in paths if p.name != bad], workers=0)

    calls = _failing_insert(
        monkeypatch, "payments", bad, duckdb.ConversionException("Could not convert")
    )
    settings = get_settings(tmp_path / "grouped").ensure()
    with caplog.at_level(logging.INFO, logger="jixiao.ingest.loader"):
        summary = ingest_files(settings, paths, workers=0)

    assert calls and calls[0] == 5  # the group's one payments insert (02, 03, 04, 05, 06)
    statuses = {f.file: (f.status, f.reason_code) for f in summary.files}
    assert statuses.pop(bad) == ("quarantined", "parse_error")
    assert set(statuses.values()) == {("loaded", None)}
    refused = next(f for f in summary.files if f.file == bad)
    assert "写入数据仓库" in refused.message_zh and "writing to the warehouse" in refused.message_en
    assert (settings.quarantine / refused.sha256 / bad).read_bytes() == (paths[4]).read_bytes()
    assert "re-parsing 06_payments.xlsx" in caplog.text
    a, b = _dump(without), _dump(settings)
    for table in TABLES:
        if table != "load_log":
            assert b[table] == a[table], table
    assert ("05_register_and_pay.xlsx", "quarantined", "parse_error") in _load_log(settings)
    assert not settings.staging.exists() or not any(settings.staging.iterdir())


def test_a_run_that_dies_mid_group_commits_none_of_it(tmp_path, monkeypatch):
    """The disk fails as the group commits: the run fails, no file of the group is logged,
    and the next run loads every one of them exactly once."""
    paths = _register_then_payments(tmp_path / "batch")
    reference = get_settings(tmp_path / "reference").ensure()
    ingest_files(reference, paths, workers=0)

    settings = get_settings(tmp_path / "dies").ensure()
    _failing_insert(monkeypatch, "payments", "06_payments.xlsx", duckdb.IOException("disk"))
    with pytest.raises(duckdb.IOException):
        ingest_files(settings, paths, workers=0)
    assert _load_log(settings) == []
    monkeypatch.undo()
    again = ingest_files(settings, paths, workers=0)
    assert [f.status for f in again.files] == ["loaded"] * len(paths)
    a, b = _dump(reference), _dump(settings)
    for table in TABLES:
        assert b[table] == a[table], table
