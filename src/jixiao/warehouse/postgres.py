"""The raw layer on a PostgreSQL server (PostgreSQL 原始层 / issue 17, first step).

With ``JIXIAO_WAREHOUSE=postgres`` dbt builds the project on a PostgreSQL server (the
``postgres`` target of dbt_project/profiles.yml). This module puts the raw layer there:

* :func:`create_raw_schema` runs ``src/jixiao/ingest/raw_schema.sql`` itself on the server.
  The file is written in SQL that both engines accept (``create table if not exists``,
  ``varchar``, ``decimal(p, s)``, ``alter table ... add column if not exists``, window
  functions), so the current-submission views ``raw._submission_versions`` and
  ``raw._submission_tables`` are the SAME rule on both engines, not a second copy.
* :func:`copy_raw_tables` copies every raw table from a DuckDB warehouse file with COPY: DuckDB
  writes the table as CSV (decimals as their exact text, never a float), PostgreSQL reads it
  with ``COPY ... FROM STDIN`` in one transaction per table (the table is emptied first in the
  same transaction, so the server's raw tables become an exact copy of the file's), then
  ``ANALYZE`` so the planner knows the new row counts.

The server's address comes from the environment, as dbt's profile reads it
(:func:`connection_settings`). The database must use the ``C`` collation (:func:`check_collation`):
DuckDB orders text by its bytes, and a model that ranks by a text column must rank the same
way on both engines.
Ingest writing raw rows straight into PostgreSQL is a later step of issue 17.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jixiao.config import Settings, duckdb_connect
from jixiao.errors import DataError

RAW_SCHEMA_SQL = Path(__file__).resolve().parents[1] / "ingest" / "raw_schema.sql"
"""The one definition of the raw schema and its views, run unchanged on both engines."""


@dataclass(frozen=True)
class PostgresAddress:
    """Where the PostgreSQL warehouse is (PostgreSQL 连接参数), as profiles.yml reads it."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def dsn(self) -> dict[str, Any]:
        """Keyword arguments for :func:`psycopg2.connect`."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }


def connection_settings() -> PostgresAddress:
    """The server from ``JIXIAO_PG_HOST`` / ``_PORT`` / ``_USER`` / ``_PASSWORD`` / ``_DBNAME``
    (defaults 127.0.0.1, 5432, jixiao, no password, jixiao; the same as profiles.yml's)."""
    raw_port = os.environ.get("JIXIAO_PG_PORT") or "5432"
    try:
        port = int(raw_port)
    except ValueError as exc:
        raise ValueError(
            f"JIXIAO_PG_PORT 须为端口号，实际为 {raw_port!r} / "
            f"JIXIAO_PG_PORT must be a port number, got {raw_port!r}"
        ) from exc
    return PostgresAddress(
        host=os.environ.get("JIXIAO_PG_HOST") or "127.0.0.1",
        port=port,
        user=os.environ.get("JIXIAO_PG_USER") or "jixiao",
        password=os.environ.get("JIXIAO_PG_PASSWORD") or "",
        dbname=os.environ.get("JIXIAO_PG_DBNAME") or "jixiao",
    )


@contextmanager
def connect(address: PostgresAddress | None = None) -> Iterator[Any]:
    """An open psycopg2 connection to the warehouse (连接 PostgreSQL), closed afterwards."""
    import psycopg2

    con = psycopg2.connect(**(address or connection_settings()).dsn())
    try:
        con.set_client_encoding("UTF8")
        yield con
    finally:
        con.close()


#: Collations that order text by its bytes (UTF-8 code points), as DuckDB does (字节序排序规则).
BYTE_ORDER_COLLATIONS = frozenset({"C", "POSIX", "C.UTF-8", "C.utf8"})


def check_collation(con: Any) -> str:
    """Refuse a database whose default collation is not byte order (排序规则检查).

    Models rank rows by text (file and sheet names, flag codes) and compare text: under a
    linguistic collation (``zh_CN``, ``en_US``, any ICU locale) PostgreSQL would order them
    otherwise than DuckDB and the marts would differ. Create the database with
    ``template template0 locale 'C'`` (or ``initdb --locale=C``). Returns the collation.
    """
    with con.cursor() as cur:
        cur.execute(
            "select datcollate, datlocprovider from pg_database where datname = current_database()"
        )
        collate, provider = cur.fetchone()
    con.rollback()
    if provider != "c" or collate not in BYTE_ORDER_COLLATIONS:
        raise DataError(
            f"PostgreSQL 数据库的排序规则须为 C（字节序），实际为 {collate}（{provider}）："
            "请以 locale 'C' 建库 / the PostgreSQL database must use the C (byte order) "
            f"collation, as DuckDB orders text, not {collate} (provider {provider}): "
            "create it with template template0 locale 'C'"
        )
    return str(collate)


def create_raw_schema(con: Any) -> None:
    """Create (or extend) the raw schema and its views on the server (建立原始层), in one
    transaction, from the same raw_schema.sql DuckDB runs."""
    with con, con.cursor() as cur:
        cur.execute(RAW_SCHEMA_SQL.read_text(encoding="utf-8"))


def raw_tables(con: Any) -> dict[str, list[str]]:
    """The server's raw base tables and their columns in table order (原始表及其列)."""
    with con.cursor() as cur:
        cur.execute(
            "select c.table_name, c.column_name from information_schema.columns as c"
            " join information_schema.tables as t"
            "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
            " where c.table_schema = 'raw' and t.table_type = 'BASE TABLE'"
            " order by c.table_name, c.ordinal_position"
        )
        tables: dict[str, list[str]] = {}
        for table, column in cur.fetchall():
            tables.setdefault(str(table), []).append(str(column))
    con.rollback()
    return tables


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def copy_raw_tables(settings: Settings, con: Any, source: Path | None = None) -> dict[str, int]:
    """Copy every raw table of the DuckDB file ``source`` (default: ``settings.warehouse``)
    into the server's raw schema with COPY (复制原始表), one transaction per table; return the
    rows copied per table. The schema must exist (:func:`create_raw_schema`); a column the
    DuckDB file lacks is a data error (the file predates the schema: run ingest on it first).
    """
    tables = raw_tables(con)
    if not tables:
        raise DataError(
            "PostgreSQL 上没有原始层表，请先建立原始层 / the server has no raw tables: "
            "run create_raw_schema first"
        )
    database = source or settings.warehouse
    copied: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="jixiao-raw-copy-") as tmp:
        duck = duckdb_connect(settings, database, read_only=True)
        try:
            for table, cols in tables.items():
                have = {
                    str(r[0])
                    for r in duck.execute(
                        "select column_name from information_schema.columns"
                        " where table_schema = 'raw' and table_name = ?",
                        [table],
                    ).fetchall()
                }
                missing = [c for c in cols if c not in have]
                if missing:
                    raise DataError(
                        f"DuckDB 文件缺少原始层列 raw.{table}({', '.join(missing)}) / the DuckDB "
                        f"file lacks raw.{table} columns {', '.join(missing)}: {database}"
                    )
                column_list = ", ".join(_quoted(c) for c in cols)
                csv_path = Path(tmp) / f"{table}.csv"
                # DuckDB writes NULL as an empty field and '' as "" (quoted): PostgreSQL's CSV
                # COPY reads them back the same way; decimals and timestamps as exact text
                duck.execute(
                    f"copy (select {column_list} from raw.{_quoted(table)}) to '{csv_path}'"
                    " (format csv, header false)"
                )
                with con, con.cursor() as cur, csv_path.open("r", encoding="utf-8") as fh:
                    cur.execute(f"truncate table raw.{_quoted(table)}")
                    cur.copy_expert(
                        f"copy raw.{_quoted(table)} ({column_list}) from stdin"
                        " with (format csv, header false)",
                        fh,
                    )
                    copied[table] = int(cur.rowcount)
                # fresh statistics: without them the planner takes a just-filled table for
                # empty and joins raw._submission_tables by nested loops (the variant corpus'
                # 37 000 submissions: over 200 s for one count, 0.6 s after analyze)
                with con, con.cursor() as cur:
                    cur.execute(f"analyze raw.{_quoted(table)}")
                csv_path.unlink()
        finally:
            duck.close()
    return copied


def load_raw(settings: Settings, source: Path | None = None) -> dict[str, Any]:
    """Create the raw schema on the server and copy the DuckDB file's raw tables into it
    (载入原始层到 PostgreSQL); returns the rows per table and the seconds it took."""
    started = time.monotonic()
    with connect() as con:
        check_collation(con)
        create_raw_schema(con)
        copied = copy_raw_tables(settings, con, source)
    return {"rows": copied, "seconds": round(time.monotonic() - started, 3)}
