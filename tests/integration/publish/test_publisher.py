"""Write-audit-publish: publish, read, failed publishes, rollback (发布、失败保护、回滚)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jixiao.config import Settings
from jixiao.errors import DataError
from jixiao.publish import parquet
from jixiao.publish.publisher import (
    NothingToPublish,
    PublishError,
    RollbackUnavailable,
    connect_readonly,
    current,
    previous_path,
    publish,
    rollback,
)

from .conftest import approve_marts

MakeMarts = Callable[..., Settings]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _counts(settings: Settings) -> dict[str, int]:
    con = connect_readonly(settings)
    try:
        return {
            t: int(con.execute(f'select count(*) from marts."{t}"').fetchone()[0])
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' "
                "and table_name not like '\\_%' escape '\\' order by 1"
            ).fetchall()
        }
    finally:
        con.close()


def _parquet_count(settings: Settings, table: str) -> int:
    root = settings.published_dir / "parquet" / table
    con = duckdb.connect()
    try:
        row = con.execute(
            f"select count(*) from read_parquet('{root}/**/*.parquet', hive_partitioning = false)"
        ).fetchone()
        return int(row[0])
    finally:
        con.close()


def _staging_leftovers(settings: Settings) -> list[str]:
    names = [p.name for p in settings.published_dir.glob(".jixiao.*")]
    versions = settings.published_dir / parquet.VERSIONS_DIR
    if versions.is_dir():
        names += [p.name for p in versions.glob(".tmp-*")]
    return names


def test_publish_then_read(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    result = publish(settings, run_id="run-1")

    assert result.row_counts == {"dim_department": 2, "fct_budget": 6, "mart_project_year": 6}
    assert result.previous_path is None  # first publish: nothing to keep
    assert _counts(settings) == result.row_counts
    con = connect_readonly(settings)
    try:
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables "
                "where table_schema = 'marts'"
            ).fetchall()
        )
        # the dbt view is materialised: the published file has no dependency on the warehouse
        assert kinds["mart_project_year"] == "BASE TABLE"
        assert kinds["_publish_info"] == "BASE TABLE"
        dtype = con.execute(
            "select data_type from duckdb_columns() where table_name = 'fct_budget' "
            "and column_name = 'final_yuan'"
        ).fetchone()[0]
        assert dtype == "DECIMAL(18,2)"
        amount = con.execute(
            "select final_yuan from marts.fct_budget order by final_yuan limit 1"
        ).fetchone()[0]
        assert amount == Decimal("1000.25")
        comments = con.execute(
            "select comment from duckdb_tables() where table_name = 'fct_budget'"
        ).fetchone()[0]
        assert "预算事实表" in comments
        info = con.execute(
            "select distinct run_id, storage_version, marts_fingerprint from marts._publish_info"
        ).fetchall()
        assert info == [("run-1", "v1.4.0", result.marts_fingerprint)]
        info_counts = dict(
            con.execute("select table_name, row_count from marts._publish_info").fetchall()
        )
        assert info_counts == result.row_counts
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("delete from marts.fct_budget")
    finally:
        con.close()

    # Parquet: partitioned by fiscal_year where the table has it, one file otherwise
    pq = settings.published_dir / "parquet"
    assert pq.is_symlink()
    years = sorted(p.name for p in (pq / "fct_budget").iterdir())
    assert years == ["fiscal_year=2023", "fiscal_year=2024"]
    assert (pq / "dim_department" / "data_0.parquet").is_file()
    assert _parquet_count(settings, "fct_budget") == 6
    assert _parquet_count(settings, "_publish_info") == 3
    assert not _staging_leftovers(settings)


def test_failed_publish_leaves_published_version_untouched(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    publish(settings, run_id="run-1")
    before_hash = _sha256(settings.published)
    before_link = os.readlink(settings.published_dir / "parquet")
    before_versions = sorted(os.listdir(settings.published_dir / parquet.VERSIONS_DIR))

    # run-2 has more rows and a view that fails after the good tables were already copied
    make_marts("run-2", 5, broken=True)
    with pytest.raises(PublishError, match=r"已发布版本未改变.*simulated failure") as failed:
        publish(settings, run_id="run-2")
    assert isinstance(failed.value.__cause__, duckdb.Error)

    assert _sha256(settings.published) == before_hash
    assert os.readlink(settings.published_dir / "parquet") == before_link
    assert sorted(os.listdir(settings.published_dir / parquet.VERSIONS_DIR)) == before_versions
    assert not previous_path(settings).exists()
    assert not _staging_leftovers(settings)
    assert current(settings).run_id == "run-1"
    assert _counts(settings)["fct_budget"] == 6
    assert _parquet_count(settings, "fct_budget") == 6


def test_failed_audit_gate_blocks_the_swap(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    publish(settings, run_id="run-1")
    before_hash = _sha256(settings.published)
    make_marts("run-2", 5)
    seen: list[int] = []

    def gate(staged: Path) -> None:
        # the gate sees the closed, complete staged file, not the published one
        con = duckdb.connect(str(staged), read_only=True)
        try:
            seen.append(int(con.execute("select count(*) from marts.fct_budget").fetchone()[0]))
        finally:
            con.close()
        raise DataError("模拟质量闸门拦截 / simulated gate failure")

    with pytest.raises(DataError, match="simulated gate failure"):
        publish(settings, run_id="run-2", audit=gate)

    assert seen == [10]
    assert _sha256(settings.published) == before_hash
    assert current(settings).run_id == "run-1"
    assert not _staging_leftovers(settings)


def test_rollback_restores_previous_row_counts(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    first = publish(settings, run_id="run-1")
    make_marts("run-2", 5)
    second = publish(settings, run_id="run-2")
    assert second.previous_path == previous_path(settings)
    assert _counts(settings)["fct_budget"] == 10
    assert first.marts_fingerprint != second.marts_fingerprint

    back = rollback(settings)
    assert back.run_id == "run-1"
    assert back.row_counts == first.row_counts
    assert _counts(settings) == first.row_counts
    assert _parquet_count(settings, "fct_budget") == 6

    # the version rolled back from is kept: a second rollback rolls forward
    forward = rollback(settings)
    assert forward.run_id == "run-2"
    assert _counts(settings) == second.row_counts
    assert _parquet_count(settings, "fct_budget") == 10


def test_rollback_without_previous_version_is_refused(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    with pytest.raises(RollbackUnavailable, match=r"无法回滚.*roll back"):
        rollback(settings)
    publish(settings, run_id="run-1")
    with pytest.raises(RollbackUnavailable):
        rollback(settings)
    assert current(settings).run_id == "run-1"


def test_nothing_to_publish_is_refused(settings: Settings) -> None:
    with pytest.raises(NothingToPublish, match=r"不存在.*does not exist"):
        publish(settings, run_id="x")
    con = duckdb.connect(str(settings.warehouse))
    con.execute("create schema marts")
    con.close()
    approve_marts(settings)  # even a passed gate does not make an empty schema publishable
    with pytest.raises(NothingToPublish, match=r"拒绝发布空库.*empty database"):
        publish(settings, run_id="x")
    assert not settings.published.exists()


def test_same_data_gives_same_fingerprint(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    a = publish(settings, run_id="a")
    b = publish(settings, run_id="b")
    assert a.marts_fingerprint == b.marts_fingerprint
    make_marts("run-1", 4)
    c = publish(settings, run_id="c")
    assert c.marts_fingerprint != a.marts_fingerprint


def test_old_parquet_versions_are_pruned(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 2)
    for rid in ("r1", "r2", "r3"):
        publish(settings, run_id=rid)
    versions = settings.published_dir / parquet.VERSIONS_DIR
    assert len(os.listdir(versions)) == 3  # the unreferenced one is still in its grace period
    removed = parquet.prune(settings.published_dir, grace_seconds=0)
    assert len(removed) == 1 and removed[0].endswith("_r1")
    kept = sorted(os.listdir(versions))
    assert [k.rsplit("_", 1)[1] for k in kept] == ["r2", "r3"]
    assert parquet.current_version(settings.published_dir).endswith("_r3")
