"""The raw layer written incrementally by the ingest (原始层增量写入 / issue 17).

DuckDB only (no Spark session, no PostgreSQL server): a staging file loaded in two nights
through ``pipeline.ingest`` with ``JIXIAO_WAREHOUSE=spark`` writes new Parquet parts after each
night, and the Parquet tables, read back with DuckDB, equal the raw tables exactly (every row
as text, every column type). An unchanged file writes no part; a crash between parts leaves
orphan parts that the next export removes; folders from another staging file are exported
again whole. With ``JIXIAO_WAREHOUSE=postgres`` and no server listening, the ingest still
loads and its stage is a warning that says why.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao import pipeline
from jixiao.config import Settings, get_settings
from jixiao.samples import bad_inputs
from jixiao.samples.demo import build_demo_inbox
from jixiao.warehouse import raw_delta
from jixiao.warehouse import spark as jspark


def _stage(s: Settings, run_id: str, name: str) -> dict[str, Any]:
    record = json.loads((s.quality / "runs" / f"{run_id}.json").read_text(encoding="utf-8"))
    stage: dict[str, Any] = record["stages"][name]
    return stage


def _demo_files(s: Settings) -> list[Path]:
    scratch = s.home / "demo_workbooks"
    build_demo_inbox(scratch)
    return sorted(p for p in scratch.rglob("*") if p.is_file())


def _deliver(s: Settings, files: list[Path]) -> list[str]:
    for f in files:
        shutil.copy2(f, s.inbox / f.name)
    return pipeline.discover(s)


def _text_rows(con: duckdb.DuckDBPyConnection, relation: str) -> Counter[tuple[Any, ...]]:
    return Counter(con.execute(f"select cast(columns(*) as varchar) from {relation}").fetchall())


def _types(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"describe select * from {relation}").fetchall()]


def assert_parquet_equals_raw(s: Settings, database: Path | None = None) -> dict[str, int]:
    """Every raw base table of the staging file against its Parquet folder: the same columns
    and types, the same rows as a multiset of texts; returns the rows per table."""
    root = jspark.raw_parquet_dir(s)
    con = duckdb.connect(str(database or s.warehouse), read_only=True)
    try:
        tables = raw_delta.base_tables(con)
        assert {f.name for f in root.iterdir() if f.is_dir()} == set(tables)
        counts: dict[str, int] = {}
        for table in tables:
            parquet = f"read_parquet('{root / table / jspark.PART_GLOB}')"
            assert _types(con, parquet) == _types(con, f"raw.{table}"), table
            want, got = _text_rows(con, f"raw.{table}"), _text_rows(con, parquet)
            assert got == want, (table, sum(want.values()), sum(got.values()))
            counts[table] = sum(want.values())
    finally:
        con.close()
    return counts


def _parts(s: Settings) -> set[Path]:
    return set(jspark.raw_parquet_dir(s).rglob("*.parquet"))


def test_two_nights_to_parquet_equal_the_raw_tables(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = settings
    monkeypatch.setenv("JIXIAO_WAREHOUSE", "spark")
    monkeypatch.delenv("JIXIAO_SPARK_DIR", raising=False)
    demo = _demo_files(s)
    bad = s.home / "bad"
    bad.mkdir()
    truncated = bad_inputs.zip_truncated_tail(bad)  # quarantined: a load_log row alone
    rejected = [bad_inputs.unparseable_values(bad)]  # loads, some rows rejected

    # night 1: two demo files and a quarantined one
    first = pipeline.ingest(_deliver(s, demo[:2] + truncated), s, "night-1")
    assert first["files_loaded"] == 2 and first["files_quarantined"] == 1
    sync = first["raw_sync"]
    assert sync["status"] == "passed" and sync["mode"] == "incremental", sync
    assert sync["attempts"] == 3 and sync["rows"] > 0
    assert _stage(s, "night-1", "ingest")["status"] == "passed"
    assert _stage(s, "night-1", "ingest")["detail"]["raw_sync"]["attempts"] == 3
    night1 = assert_parquet_equals_raw(s)
    assert night1["load_log"] == 3
    night1_file = s.home / "night1.duckdb"
    shutil.copy2(s.warehouse, night1_file)

    # an unchanged staging file: nothing written
    before = {p: p.stat().st_mtime_ns for p in _parts(s)}
    again = jspark.export_raw_incremental(s)
    assert (again["mode"], again["attempts"], again["groups"]) == ("incremental", 0, 0)
    assert {p: p.stat().st_mtime_ns for p in _parts(s)} == before

    # night 2: the rest of the demo and a file with rejected rows; the export dies after the
    # data parts of its first group, before that group's load_log part (the watermark)
    real_write = jspark._write_part

    def crash_at_the_watermark(duck: Any, select: str, folder: Path, *a: Any, **k: Any) -> int:
        if folder.name == raw_delta.LOG_TABLE:
            raise OSError("disk full (simulated)")
        return real_write(duck, select, folder, *a, **k)

    monkeypatch.setattr(jspark, "_write_part", crash_at_the_watermark)
    second = pipeline.ingest(_deliver(s, demo[2:] + rejected), s, "night-2")
    monkeypatch.setattr(jspark, "_write_part", real_write)
    assert second["files_loaded"] == 4 and second["rows_rejected"] > 0
    stage = _stage(s, "night-2", "ingest")
    assert stage["status"] == "warning", stage
    assert "OSError" in stage["summary"] and "the next export" in stage["summary"], stage
    assert second["raw_sync"]["status"] == "failed"
    committed = {p.name for p in (jspark.raw_parquet_dir(s) / "load_log").glob("part-*")}
    orphans = [p for p in _parts(s) if p.name not in committed]
    assert orphans, "the simulated crash left no orphan part"

    caught_up = jspark.export_raw_incremental(s, group_files=2)
    assert caught_up["orphans_removed"] == len(orphans)
    assert caught_up["mode"] == "incremental"
    # night 2: 4 new files (discover leaves night 1's out), in two groups of two
    assert caught_up["attempts"] == 4 and caught_up["groups"] == 2
    assert not any(p.exists() for p in orphans)
    night2 = assert_parquet_equals_raw(s)
    assert night2["load_log"] == 7 and night2["rejected_rows"] > 0
    assert all(night2[t] >= night1[t] for t in night1)
    # night 1's parts were kept, never rewritten
    assert all(p.stat().st_mtime_ns == before[p] for p in before)

    # Parquet of another staging file (here night 1's, which lacks night 2's attempts): not
    # mixed, exported again whole and said so
    other = jspark.export_raw_incremental(s, night1_file)
    assert other["mode"] == "full" and "does not" in other["reason"], other
    assert assert_parquet_equals_raw(s, night1_file) == night1

    # the ingest of another installation into these folders: exported whole, and the ingest
    # stage warns with the reason
    monkeypatch.setenv("JIXIAO_SPARK_DIR", str(jspark.spark_dir(s)))
    elsewhere = get_settings(s.home.parent / "elsewhere").ensure()
    pipeline.ingest(_deliver(elsewhere, demo[:1]), elsewhere, "elsewhere")
    stage = _stage(elsewhere, "elsewhere", "ingest")
    assert stage["status"] == "warning" and "does not" in stage["summary"], stage
    assert stage["detail"]["raw_sync"]["mode"] == "full"
    assert assert_parquet_equals_raw(elsewhere)["load_log"] == 1


def test_an_empty_staging_file_exports_empty_tables(settings: Settings) -> None:
    """No attempt yet: one empty part per table, so that Spark can read every folder's
    schema; the first attempts are appended after it."""
    from jixiao.config import duckdb_connect
    from jixiao.ingest.loader import ensure_raw_schema

    with duckdb_connect(settings, settings.warehouse) as con:
        ensure_raw_schema(con)
    out = jspark.export_raw_incremental(settings)
    assert out["attempts"] == 0 and sum(out["rows"].values()) == 0
    assert all(list(f.glob(jspark.PART_GLOB)) for f in out["folders"].values())
    assert sum(assert_parquet_equals_raw(settings).values()) == 0
    assert jspark.export_raw_incremental(settings)["orphans_removed"] == 0


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_server_that_is_down_does_not_fail_the_ingest(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = settings
    monkeypatch.setenv("JIXIAO_WAREHOUSE", "postgres")
    monkeypatch.setenv("JIXIAO_PG_HOST", "127.0.0.1")
    monkeypatch.setenv("JIXIAO_PG_PORT", str(_unused_port()))
    out = pipeline.ingest(_deliver(s, _demo_files(s)[:1]), s, "down")
    assert out["files_loaded"] == 1
    stage = _stage(s, "down", "ingest")
    assert stage["status"] == "warning", stage
    assert "原始层未能写入 postgres" in stage["summary"], stage
    assert "dbt_build syncs again" in stage["summary"], stage
    assert "OperationalError" in stage["summary"], stage
    assert stage["detail"]["files_loaded"] == 1
    assert stage["detail"]["raw_sync"]["status"] == "failed"
    con = duckdb.connect(str(s.warehouse), read_only=True)
    try:
        loaded = con.execute("select count(*) from raw.load_log where status = 'loaded'")
        assert loaded.fetchone() == (1,)
    finally:
        con.close()
