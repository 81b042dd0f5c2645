"""Parquet export of the published marts, swapped atomically (Parquet 导出与原子切换).

Layout under ``published/``::

    parquet            -> parquet.versions/<version_id>   (symlink: the current version)
    parquet.previous   -> parquet.versions/<version_id>   (symlink: kept for rollback)
    parquet.versions/<version_id>/<table>/fiscal_year=2024/data_0.parquet
    parquet.versions/<version_id>/<table>/data_0.parquet  (tables without fiscal_year)

A version is written under a temporary name, renamed into ``parquet.versions/`` and then
published by replacing the ``parquet`` symlink with ``os.replace`` (one ``rename(2)``), so a
reader resolving ``published/parquet/...`` sees either the old or the new version, whole.
The partition column is also written inside the files (``WRITE_PARTITION_COLUMNS``) so tools
that ignore hive-style folder names (Excel, Power BI's folder connector) still see it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

CURRENT_LINK = "parquet"
PREVIOUS_LINK = "parquet.previous"
VERSIONS_DIR = "parquet.versions"
PARTITION_COLUMN = "fiscal_year"
#: Unreferenced versions younger than this are not deleted yet (旧版本保留宽限期).
PRUNE_GRACE_SECONDS = 600.0


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def stage_parquet(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    tables: Sequence[str],
    published_dir: Path,
    version_id: str,
) -> Path:
    """Write ``catalog.marts.<table>`` as Parquet into a new version folder (写入新版本目录)."""
    versions = published_dir / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    staging = versions / f".tmp-{version_id}-{os.getpid()}"
    final = versions / version_id
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for table in tables:
            _export_table(con, catalog, table, staging / table)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _export_table(con: duckdb.DuckDBPyConnection, catalog: str, table: str, dest: Path) -> None:
    columns = {
        str(r[0])
        for r in con.execute(
            "select column_name from duckdb_columns() "
            "where database_name = ? and schema_name = 'marts' and table_name = ?",
            [catalog, table],
        ).fetchall()
    }
    source = f"select * from {_q(catalog)}.marts.{_q(table)}"
    if PARTITION_COLUMN in columns:
        con.execute(
            f"copy ({source}) to {_sql_str(str(dest))} (format parquet, "
            f"partition_by ({PARTITION_COLUMN}), write_partition_columns true)"
        )
    else:
        dest.mkdir()
        con.execute(f"copy ({source}) to {_sql_str(str(dest / 'data_0.parquet'))} (format parquet)")


def _link_target(link: Path) -> str | None:
    return os.readlink(link) if link.is_symlink() else None


def _atomic_symlink(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` with one rename (原子替换符号链接)."""
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _adopt_plain_directory(published_dir: Path) -> None:
    """Move a pre-existing real ``parquet/`` folder into the versions area (兼容旧布局)."""
    current = published_dir / CURRENT_LINK
    if current.is_dir() and not current.is_symlink():
        legacy = published_dir / VERSIONS_DIR / f"legacy-{os.getpid()}"
        legacy.parent.mkdir(parents=True, exist_ok=True)
        os.rename(current, legacy)
        _atomic_symlink(f"{VERSIONS_DIR}/{legacy.name}", current)


def swap_in(published_dir: Path, version_dir: Path) -> None:
    """Make ``version_dir`` current; the old current becomes ``parquet.previous`` (切换版本)."""
    _adopt_plain_directory(published_dir)
    old = _link_target(published_dir / CURRENT_LINK)
    _atomic_symlink(f"{VERSIONS_DIR}/{version_dir.name}", published_dir / CURRENT_LINK)
    if old is not None:
        _atomic_symlink(old, published_dir / PREVIOUS_LINK)
    prune(published_dir)


def swap_back(published_dir: Path) -> bool:
    """Exchange ``parquet`` and ``parquet.previous``; False if there is no previous (回滚)."""
    current = _link_target(published_dir / CURRENT_LINK)
    previous = _link_target(published_dir / PREVIOUS_LINK)
    if previous is None or not (published_dir / previous).is_dir():
        return False
    _atomic_symlink(previous, published_dir / CURRENT_LINK)
    if current is not None:
        _atomic_symlink(current, published_dir / PREVIOUS_LINK)
    return True


def current_version(published_dir: Path) -> str | None:
    """Name of the current Parquet version folder (当前版本)."""
    target = _link_target(published_dir / CURRENT_LINK)
    return Path(target).name if target else None


def prune(published_dir: Path, grace_seconds: float = PRUNE_GRACE_SECONDS) -> list[str]:
    """Delete old version folders that neither link points to (清理旧版本).

    A folder is kept for ``grace_seconds`` after it was written even when no link points to
    it any more, so a reader that resolved ``parquet`` just before two quick publishes can
    finish reading. Temporary folders of a running publish are left alone (publishes are
    serialised by the publish lock; a crashed publish's leftovers are removed by the next).
    Returns the names removed.
    """
    versions = published_dir / VERSIONS_DIR
    keep = {
        Path(t).name
        for t in (
            _link_target(published_dir / CURRENT_LINK),
            _link_target(published_dir / PREVIOUS_LINK),
        )
        if t
    }
    if not versions.is_dir():
        return []
    removed = []
    now = time.time()
    for child in versions.iterdir():
        if child.name in keep or child.name.startswith(".tmp-"):
            continue
        if now - child.stat().st_mtime < grace_seconds:
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child.name)
    return sorted(removed)
