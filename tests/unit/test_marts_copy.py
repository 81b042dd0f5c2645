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
