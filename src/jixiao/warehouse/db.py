"""Warehouse access in one place (仓库访问): relations, build state, counts, load outcomes.

Every stage opens its DuckDB files through :func:`jixiao.config.duckdb_connect` (the operator's
memory limit, threads and spill directory); what they ask of a warehouse beyond their own
queries lives here, once: whether a relation exists, the fingerprint of what was loaded into
raw, the build state the nightly plans on, the per-year fingerprint of the project marts, the
rows per table and the files' load outcomes. :mod:`jixiao.pipeline` holds no SQL of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jixiao.config import Settings, duckdb_connect

#: the warehouse table that remembers the last successful build and the last published night
STATE_SCHEMA = "jixiao_state"
STATE_TABLE = f"{STATE_SCHEMA}.builds"

RAW_FINGERPRINT_SQL = """
select count(*), coalesce(cast(max(loaded_at) as varchar), ''),
       coalesce(bit_xor(hash(file_hash, file_name, status, loaded_at)), 0)
from raw.load_log
"""


def relations(con: Any, schema: str | None = None) -> set[str]:
    """The tables and views of an open connection (现有关系), as ``schema.name``; with
    ``schema``, that schema's names alone."""
    if schema is None:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    else:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    return {str(r[0]) for r in rows}


def columns(con: Any, schema: str, *, base_tables_only: bool = False) -> dict[str, set[str]]:
    """The column names of each table (and view, unless ``base_tables_only``) of ``schema``
    (各表的列)."""
    kinds = "('BASE TABLE')" if base_tables_only else "('BASE TABLE', 'VIEW')"
    rows = con.execute(
        "select c.table_name, c.column_name from information_schema.columns as c"
        " join information_schema.tables as t"
        "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
        f" where c.table_schema = ? and t.table_type in {kinds}",
        [schema],
    ).fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(str(table), set()).add(str(column))
    return out


def typed_columns(con: Any, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Each table (and view) of ``schema`` -> its (column, type) pairs in table order (列及类型):
    what the loader builds its Arrow tables from and what a mart checksum covers."""
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_schema = ? order by table_name, ordinal_position",
        [schema],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(str(table), []).append((str(column), str(kind)))
    return out


def table_exists(con: Any, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists on an open connection (表是否存在)."""
    return f"{schema}.{table}" in relations(con)


@contextmanager
def _reading(s: Settings, db: Path) -> Iterator[Any]:
    """A read-only connection to ``db``, or None when the file does not exist (只读连接)."""
    if not db.exists():
        yield None
        return
    con = duckdb_connect(s, db, read_only=True)
    try:
        yield con
    finally:
        con.close()


def raw_fingerprint(s: Settings) -> str:
    """What has been loaded into raw (原始层指纹): every load_log entry (loads, quarantines,
    duplicates) is appended by ingest, so a night that loaded nothing leaves it unchanged."""
    with _reading(s, s.warehouse) as con:
        if con is None:
            return "no-warehouse"
        if not table_exists(con, "raw", "load_log"):
            return "no-raw"
        row = con.execute(RAW_FINGERPRINT_SQL).fetchone()
    return ":".join(str(v) for v in row) if row else "no-raw"


def read_state(s: Settings) -> dict[str, dict[str, Any]]:
    """Every recorded build state (构建状态), by kind; empty without a warehouse or a record."""
    with _reading(s, s.warehouse) as con:
        if con is None or not table_exists(con, STATE_SCHEMA, "builds"):
            return {}
        rows = con.execute(f"select kind, state from {STATE_TABLE}").fetchall()
    return {str(kind): json.loads(state) for kind, state in rows}


def record_state(s: Settings, kind: str, state: dict[str, Any]) -> None:
    """Remember ``state`` under ``kind`` in the working warehouse (记录构建状态)."""
    con = duckdb_connect(s, s.warehouse)
    try:
        con.execute(f"create schema if not exists {STATE_SCHEMA}")
        con.execute(
            f"create table if not exists {STATE_TABLE} "
            "(kind varchar primary key, state varchar not null, recorded_at timestamp not null)"
        )
        con.execute(
            f"insert or replace into {STATE_TABLE} values (?, ?, ?)",
            [kind, json.dumps(state, sort_keys=True), datetime.now(UTC).replace(tzinfo=None)],
        )
    finally:
        con.close()


def year_fingerprints(con: Any, catalog: str) -> dict[int, tuple[int, int]]:
    """Per fiscal year, the row count and a content hash of that year's rows of
    ``catalog.marts.mart_project_year`` (年度指纹); empty when the catalog has no such table.
    The publisher compares the published file's with the staged copy's (``years_changed``)."""
    found = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? "
        "and schema_name = 'marts' and table_name = 'mart_project_year'",
        [catalog],
    ).fetchone()
    if not found or not found[0]:
        return {}
    rows = con.execute(
        "select fiscal_year, count(*), bit_xor(hash(t)) "
        f'from "{catalog}".marts.mart_project_year as t '
        "where fiscal_year is not null group by fiscal_year"
    ).fetchall()
    return {int(y): (int(n), int(h)) for y, n, h in rows}


def changed_years(
    before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]
) -> list[int]:
    """The fiscal years whose fingerprint differs, appeared or disappeared (变化的年度)."""
    return sorted(y for y in set(before) | set(after) if before.get(y) != after.get(y))


def table_counts(s: Settings, db: Path, schema: str) -> dict[str, int]:
    """Rows per table of ``schema`` (各表行数), leaving out names starting with ``_``."""
    counts: dict[str, int] = {}
    with _reading(s, db) as con:
        for name in sorted(relations(con, schema)) if con is not None else []:
            if not name.startswith("_"):
                row = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
                counts[name] = int(row[0]) if row else 0
    return counts


def file_outcomes(s: Settings, db: Path) -> dict[str, int]:
    """Files per load status, and the rows loaded and rejected (文件处理结果)."""
    with _reading(s, db) as con:
        if con is None or not table_exists(con, "raw", "load_log"):
            return {}
        rows = con.execute(
            "select status, count(*) from raw.load_log group by status order by status"
        ).fetchall()
        out = {f"files_{k}": int(v) for k, v in rows}
        totals = con.execute(
            "select coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0) "
            "from raw.load_log"
        ).fetchone()
        if totals:
            out["rows_loaded"], out["rows_rejected"] = int(totals[0]), int(totals[1])
        return out
