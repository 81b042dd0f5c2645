"""Marts built on another engine, written into the DuckDB working file (集市复制到 DuckDB).

On PostgreSQL (:func:`jixiao.warehouse.postgres.copy_marts_to_duckdb`) and on Spark
(:func:`jixiao.warehouse.spark_marts.copy_marts_to_duckdb`) dbt builds the marts elsewhere; the
marts gate validates, and publish publishes, a copy of them in the DuckDB working file. Each
engine exports its tables its own way (CSV by ``COPY ... TO STDOUT``, Parquet by Spark) and
maps its types to exact DuckDB ones; what happens in DuckDB is the same for both and lives here:
:func:`replace_schemas` drops and recreates the schemas in ONE transaction (a reader sees the
old copy or the new one), creates every table with its columns and types, fills it with the
engine's statement, checks the row count against the engine's, and writes the table and column
comments (dbt's docs, which the publisher hands on to BI tools). Any failure rolls it all back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jixiao.config import Settings, duckdb_connect
from jixiao.errors import DataError


@dataclass(frozen=True)
class CopiedTable:
    """One table to write (待写入的表)."""

    schema: str
    name: str
    columns: tuple[tuple[str, str, str | None], ...]
    """(name, DuckDB type, comment) in table order."""
    comment: str | None
    rows: int
    """The rows the engine holds: the copy must have exactly these many."""
    fill: str | None
    """The DuckDB statement that inserts the rows, ``{table}`` standing for the quoted
    table name (None: the table is empty)."""
    engine: str
    """Where it was built, for the error message (PostgreSQL, Spark)."""


def quoted(name: str) -> str:
    """A DuckDB identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def comment_statements(
    qualified: str, comment: str | None, columns: tuple[tuple[str, str, str | None], ...]
) -> list[str]:
    """``COMMENT ON`` the table ``qualified`` and its columns (表与列的说明), as DuckDB and
    PostgreSQL both accept them; nothing for an empty comment."""
    statements = [f"comment on table {qualified} is {literal(comment)}"] if comment else []
    statements += [
        f"comment on column {qualified}.{quoted(column)} is {literal(text)}"
        for column, _, text in columns
        if text
    ]
    return statements


def replace_schemas(
    settings: Settings, database: Path, schemas: tuple[str, ...], tables: list[CopiedTable]
) -> dict[str, int]:
    """Replace ``schemas`` of the DuckDB file ``database`` with ``tables``, in one
    transaction (替换模式); return the rows per ``schema.table``."""
    import duckdb

    copied: dict[str, int] = {}
    duck = duckdb_connect(settings, database)
    try:
        duck.execute("begin transaction")
        for schema in schemas:
            duck.execute(f"drop schema if exists {quoted(schema)} cascade")
            duck.execute(f"create schema {quoted(schema)}")
        for table in tables:
            qualified = f"{quoted(table.schema)}.{quoted(table.name)}"
            columns = ", ".join(f"{quoted(c)} {kind}" for c, kind, _ in table.columns)
            duck.execute(f"create table {qualified} ({columns})")
            if table.fill:
                duck.execute(table.fill.format(table=qualified))
            got = duck.execute(f"select count(*) from {qualified}").fetchone()
            have = int(got[0]) if got else None
            if have != table.rows:
                raise DataError(
                    f"复制 {table.schema}.{table.name} 行数不符：{table.engine} {table.rows}，"
                    f"DuckDB {have} / copying {table.schema}.{table.name}: {table.rows} rows on "
                    f"{table.engine}, {have} in DuckDB"
                )
            for statement in comment_statements(qualified, table.comment, table.columns):
                duck.execute(statement)
            copied[f"{table.schema}.{table.name}"] = table.rows
        duck.execute("commit")
    except (duckdb.Error, DataError):
        duck.execute("rollback")
        raise
    finally:
        duck.close()
    return copied
