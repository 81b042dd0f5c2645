"""The marts built on Spark, back into the DuckDB working file (Spark 集市复制回 DuckDB / issue 17).

With ``JIXIAO_WAREHOUSE=spark`` the nightly's ``dbt_build`` (:func:`jixiao.pipeline.dbt_build`)
loads the raw layer into the process's Spark session (:func:`jixiao.warehouse.spark.load_raw`),
builds the dbt project there (dbt-spark ``method: session``, in the same process), and then, in
that same process, :func:`copy_marts_from_spark` copies the ``marts`` and ``quality`` databases
of the session into the working DuckDB file. The marts gate validates that copy and publish
publishes it, exactly as on PostgreSQL (:func:`jixiao.warehouse.postgres.copy_marts_to_duckdb`):
BI tools and the reports read the published DuckDB file whatever engine built it.

Why in the build's process: Spark's Derby metastore belongs to one process at a time, and a
second session costs half a minute to start; the gate and publish tasks need no Spark.

How: each table leaves Spark as Parquet (``DataFrame.write.parquet``: decimals as Parquet
DECIMAL, ``timestamp_ntz`` as a timestamp without time zone, text as UTF-8) into a temporary
folder, and DuckDB reads it into a table whose column types are mapped from Spark's schema
(:func:`duckdb_type`: ``decimal(18,2)`` -> ``DECIMAL(18, 2)``; a type without an exact DuckDB
counterpart is refused, never guessed), with an explicit cast per column. The comments are the
catalogue's where Spark kept them (dbt's persisted docs); a column Spark has no comment for keeps
the description the dbt manifest gives it, so BI tools see the same documentation as after a
DuckDB build. DuckDB replaces both schemas in one transaction: a reader sees the old copy or
the new one; the row count of every table is checked against Spark's.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from jixiao.config import Settings
from jixiao.errors import DataError
from jixiao.warehouse.marts_copy import CopiedTable, literal, quoted, replace_schemas

MARTS_SCHEMAS = ("marts", "quality")
"""The Spark databases the marts gate validates and publish publishes (as on PostgreSQL)."""

_SIMPLE_TYPES = {
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "date": "DATE",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMPTZ",
}
_DECIMAL = re.compile(r"decimal\((\d+),(\d+)\)")
_TEXT = re.compile(r"(var)?char\(\d+\)")


def duckdb_type(table: str, column: str, spark_type: str) -> str:
    """The DuckDB type of a Spark column, from ``DataType.simpleString()`` (类型映射)."""
    simple = spark_type.lower().replace(" ", "")
    found = _DECIMAL.fullmatch(simple)
    if found:
        return f"DECIMAL({int(found.group(1))}, {int(found.group(2))})"
    if _TEXT.fullmatch(simple):
        return "VARCHAR"
    mapped = _SIMPLE_TYPES.get(simple)
    if mapped is None:
        raise DataError(
            f"Spark 列 {table}.{column} 的类型 {spark_type} 在 DuckDB 中没有精确对应 / "
            f"Spark column {table}.{column} of type {spark_type} has no exact DuckDB type: "
            "give the model a contracted type"
        )
    return mapped


def _backquoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def manifest_descriptions(settings: Settings) -> dict[tuple[str, str], dict[str, str]]:
    """(schema, table) -> {"": table description, column: description} from the dbt manifest
    of the last build (dbt 文档说明), the descriptions persist_docs writes on DuckDB."""
    from jixiao.warehouse.dbt import dbt_paths

    path = dbt_paths(settings)["target"] / "manifest.json"
    if not path.is_file():
        return {}
    nodes = json.loads(path.read_text(encoding="utf-8")).get("nodes", {})
    found: dict[tuple[str, str], dict[str, str]] = {}
    for node in nodes.values():
        if node.get("resource_type") != "model":
            continue
        docs = {"": node.get("description") or ""}
        for name, column in (node.get("columns") or {}).items():
            docs[name] = column.get("description") or ""
        found[(str(node.get("schema")), str(node.get("alias") or node.get("name")))] = docs
    return found


def copy_marts_to_duckdb(
    settings: Settings,
    spark: Any,
    target: Path | None = None,
    schemas: tuple[str, ...] = MARTS_SCHEMAS,
) -> dict[str, int]:
    """Replace ``schemas`` of the DuckDB file ``target`` (default: the working file) with an
    exact copy of the Spark session's databases of those names (集市复制到 DuckDB); return
    the rows per ``schema.table`` (:func:`jixiao.warehouse.marts_copy.replace_schemas`)."""
    docs = manifest_descriptions(settings)
    with tempfile.TemporaryDirectory(prefix="jixiao-spark-marts-") as tmp:
        tables: list[CopiedTable] = []
        for schema in schemas:
            names = [
                t
                for t in spark.catalog.listTables(schema)
                if t.tableType != "VIEW" and not t.isTemporary
            ]
            if schema == "marts" and not names:
                raise DataError(
                    "Spark 上的 marts 库没有表，请先运行 dbt build / database marts has no "
                    "tables in the Spark session: run dbt build first"
                )
            for table in sorted(names, key=lambda t: t.name):
                qualified = f"{_backquoted(schema)}.{_backquoted(table.name)}"
                frame = spark.table(qualified)
                table_docs = docs.get((schema, table.name), {})
                columns = tuple(
                    (
                        f.name,
                        duckdb_type(f"{schema}.{table.name}", f.name, f.dataType.simpleString()),
                        table_docs.get(f.name) or None,
                    )
                    for f in frame.schema.fields
                )
                folder = Path(tmp) / f"{len(tables)}"
                frame.coalesce(1).write.parquet(str(folder))
                rows = int(spark.sql(f"select count(*) from {qualified}").collect()[0][0])
                parts = sorted(folder.glob("*.parquet"))
                fill = None
                if parts:
                    select = ", ".join(f"cast({quoted(c)} as {kind})" for c, kind, _ in columns)
                    files = "[" + ", ".join(literal(str(p)) for p in parts) + "]"
                    # {table} is filled in by replace_schemas: braces of the paths escaped
                    fill = "insert into {table} " + (
                        f"select {select} from read_parquet({files})".replace("{", "{{").replace(
                            "}", "}}"
                        )
                    )
                comment = table.description or table_docs.get("") or None
                tables.append(
                    CopiedTable(schema, table.name, columns, comment, rows, fill, "Spark")
                )
        database = target or settings.warehouse
        return replace_schemas(settings, database, schemas, tables)


def copy_marts_from_spark(settings: Settings, target: Path | None = None) -> dict[str, Any]:
    """:func:`copy_marts_to_duckdb` from the process's Spark session (集市复制回 DuckDB);
    returns the rows per table and the seconds it took."""
    from jixiao.warehouse import spark as jspark

    started = time.monotonic()
    copied = copy_marts_to_duckdb(settings, jspark.session(settings), target)
    return {"rows": copied, "seconds": round(time.monotonic() - started, 3)}
