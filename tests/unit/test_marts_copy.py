"""replace_schemas (集市复制到 DuckDB), the DuckDB half of the PostgreSQL and Spark copies:
one transaction, exact types, comments, and a wrong row count rolls everything back."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from jixiao.config import Settings, get_settings
from jixiao.errors import DataError
from jixiao.warehouse.marts_copy import CopiedTable, replace_schemas


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return get_settings(tmp_path / "home").ensure()


def _table(rows: int, values: str = "(1, 12.34), (2, 0.01)") -> CopiedTable:
    return CopiedTable(
        schema="marts",
        name="fct_x",
        columns=(("id", "INTEGER", "编号 id"), ("amount_yuan", "DECIMAL(18, 2)", None)),
        comment="测试表 a test table",
        rows=rows,
        fill="insert into {table} values " + values,
        engine="Spark",
    )


def test_the_schemas_are_replaced_with_exact_types_and_comments(settings: Settings) -> None:
    database = settings.warehouse
    con = duckdb.connect(str(database))
    con.execute("create schema marts; create table marts.old_table (n integer)")
    con.close()
    copied = replace_schemas(settings, database, ("marts", "quality"), [_table(2)])
    assert copied == {"marts.fct_x": 2}
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = con.execute(
            "select schema_name, table_name, comment from duckdb_tables() order by all"
        ).fetchall()
        assert tables == [("marts", "fct_x", "测试表 a test table")]
        assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'quality'")
        types = con.execute(
            "select column_name, data_type, comment from duckdb_columns()"
            " where table_name = 'fct_x' order by column_index"
        ).fetchall()
        assert types == [("id", "INTEGER", "编号 id"), ("amount_yuan", "DECIMAL(18,2)", None)]
        rows = con.execute("select * from marts.fct_x order by id").fetchall()
        assert rows == [(1, Decimal("12.34")), (2, Decimal("0.01"))]
    finally:
        con.close()


def test_a_wrong_row_count_rolls_everything_back(settings: Settings) -> None:
    database = settings.warehouse
    replace_schemas(settings, database, ("marts",), [_table(2)])
    with pytest.raises(DataError) as exc:
        replace_schemas(settings, database, ("marts",), [_table(3, "(9, 9.99)")])
    message = str(exc.value)
    assert "行数不符" in message and "3 rows on Spark, 1 in DuckDB" in message
    con = duckdb.connect(str(database), read_only=True)
    try:  # the previous copy, untouched
        assert con.execute("select id from marts.fct_x order by id").fetchall() == [(1,), (2,)]
    finally:
        con.close()


def test_the_servers_csv_is_read_in_its_dialect_and_an_empty_table_needs_none(
    settings: Settings, tmp_path: Path
) -> None:
    """PostgreSQL's COPY CSV (NULL unquoted, '' quoted, commas and quotes inside text) is read
    exactly; an empty table (an empty file, which DuckDB's sniffer refuses) is not read at
    all. Seen at 1% of a province-year: mart_report_spending_distribution had no rows."""
    from jixiao.warehouse.postgres import csv_fill

    assert csv_fill(tmp_path / "empty.csv", 0) is None
    path = tmp_path / "t.csv"
    path.write_text('1,12.34,""\n2,,"含,逗号 ""引号"""\n', encoding="utf-8")
    columns = (("id", "INTEGER", None), ("amount_yuan", "DECIMAL(18, 2)", None))
    columns += (("note", "VARCHAR", None),)
    tables = [
        CopiedTable("marts", "t", columns, None, 2, csv_fill(path, 2), "PostgreSQL"),
        CopiedTable("marts", "empty", columns, None, 0, csv_fill(path, 0), "PostgreSQL"),
    ]
    assert replace_schemas(settings, settings.warehouse, ("marts",), tables) == {
        "marts.t": 2,
        "marts.empty": 0,
    }
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute("select * from marts.t order by id").fetchall()
    finally:
        con.close()
    assert rows == [(1, Decimal("12.34"), ""), (2, None, '含,逗号 "引号"')]
