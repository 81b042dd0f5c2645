"""The raw gate's frames read the one definition of the current submission (当前报送).

No dbt here: the raw gate runs before ``dbt build``, so its frames must work on a warehouse
that holds only the raw schema (with the views of raw_schema.sql), for the whole warehouse
and for one year.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jixiao.quality.frames import CURRENT_TABLES, VERSIONS, frames_for

from .raw_fixtures import RawData, RawFile, _budget

T0 = datetime(2024, 4, 1, 9, 0, 0)


def _two_versions(db: Path) -> None:
    """Key K-1 twice: the newer by 填报日期 arrives first; an unattributed old payment too."""
    data = RawData()
    for name, loaded, filled, final in [
        ("新.xlsx", T0, datetime(2024, 3, 10), Decimal("200.00")),
        ("旧.xlsx", T0 + timedelta(hours=1), datetime(2024, 2, 1), Decimal("100.00")),
    ]:
        f = RawFile(name, "ledger", loaded)
        sid = data.submission(f, "预算", "测试局", "K-1", "测试项目", 2023)
        _budget(data, f, sid, "K-1", 2023, "final", final, unit="元")
        data.tables["load_log"].append(
            dict(
                load_id=name,
                file_hash=f.file_hash,
                file_name=name,
                file_size_bytes=1,
                received_at=loaded,
                loaded_at=loaded,
                status="loaded",
                rows_read=1,
                rows_loaded=1,
                rows_rejected=0,
                document_filled_on=filled.date(),
            )
        )
    data.write(db)


@pytest.mark.parametrize("year", [None, 2023])
def test_every_raw_frame_runs_on_the_raw_schema_alone(tmp_path: Path, year: int | None) -> None:
    db = tmp_path / "w.duckdb"
    _two_versions(db)
    with duckdb.connect(str(db), read_only=True) as con:
        for frame in frames_for("raw"):
            con.execute(frame.render(year)).fetchall()
        budget = frames_for("raw")[[f.suite for f in frames_for("raw")].index("raw__budget_lines")]
        got = con.execute(f"select file_name, amount_yuan from ({budget.render(year)})").fetchall()
        assert got == [("新.xlsx", Decimal("200.00"))]
        subs = frames_for("raw")[[f.suite for f in frames_for("raw")].index("raw__submissions")]
        got = con.execute(f"select file_name from ({subs.render(year)})").fetchall()
        assert got == [("新.xlsx",)]


def test_frames_name_the_views_they_need() -> None:
    frames = {f.suite: f for f in frames_for("raw")}
    assert VERSIONS in frames["raw__submissions"].tables
    assert CURRENT_TABLES in frames["raw__payments"].tables
    assert "raw._submission_" not in frames["raw__load_log"].sql


def test_a_key_tied_on_every_signal_is_ambiguous_for_the_gate(tmp_path: Path) -> None:
    """Two files for one key loaded at the same instant, no date signals: dbt must pick one
    (file_hash), and the raw gate's submissions frame shows both so the gate reports it."""
    data = RawData()
    for name in ("甲.xlsx", "乙.xlsx"):
        f = RawFile(name, "ledger", T0)
        sid = data.submission(f, "预算", "测试局", "K-2", "测试项目", 2023)
        _budget(data, f, sid, "K-2", 2023, "final", Decimal("1.00"), unit="元")
    db = tmp_path / "w.duckdb"
    data.write(db)
    with duckdb.connect(str(db), read_only=True) as con:
        subs = frames_for("raw")[[f.suite for f in frames_for("raw")].index("raw__submissions")]
        found = con.execute(f"select file_name from ({subs.render(None)})").fetchall()
        got = sorted(r[0] for r in found)
        assert got == ["乙.xlsx", "甲.xlsx"]
        current = con.execute(f"select count(*) from {VERSIONS} where is_current").fetchone()
        assert current == (1,)
