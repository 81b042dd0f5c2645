"""Warehouse access has one home (仓库访问只有一处): jixiao.warehouse.db.

``pipeline.py`` holds no SQL, and no module but ``warehouse/db.py`` asks the catalogue which
tables exist; the helpers themselves are checked on a real DuckDB file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pytest

from jixiao.config import PROJECT_ROOT, Settings, get_settings
from jixiao.warehouse import db

SRC = PROJECT_ROOT / "src" / "jixiao"
SQL_RE = re.compile(r"\b(select|insert|create|delete|update)\b\s+\S", re.IGNORECASE)
CATALOGUE_RE = re.compile(r"information_schema\.(tables|columns)|duckdb_tables\(\)")


def string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def sql_in(path: Path) -> list[str]:
    return [s for s in string_constants(path) if SQL_RE.search(s) and ("from" in s.lower())]


def test_pipeline_holds_no_sql() -> None:
    found = sql_in(SRC / "pipeline.py")
    assert found == [], found
    tree = ast.parse((SRC / "pipeline.py").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "duckdb" not in imported and "duckdb_connect" not in imported


def test_the_check_finds_sql(tmp_path: Path) -> None:
    """The scan above can fail: a module with a query in it is caught."""
    module = tmp_path / "m.py"
    module.write_text('"""Doc: select the rows from somewhere."""\nQ = "select n from raw.t"\n')
    assert sql_in(module) == ["select n from raw.t"]


def test_only_warehouse_db_asks_which_tables_exist() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p != SRC / "warehouse" / "db.py"
        and any(CATALOGUE_RE.search(s) for s in string_constants(p))
    ]
    # not existence checks on DuckDB: the publisher copies the table comments
    # (duckdb_tables()); the PostgreSQL module asks the server's own catalogue (its DuckDB
    # side, like the Spark module's, goes through warehouse.db)
    assert sorted(offenders) == ["publish/publisher.py", "warehouse/postgres.py"], offenders


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = get_settings(tmp_path / "home").ensure()
    s.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return s


def test_relations_and_outcomes_on_a_real_file(settings: Settings) -> None:
    s = settings
    assert db.raw_fingerprint(s) == "no-warehouse" and db.read_state(s) == {}
    con = duckdb.connect(str(s.warehouse))
    con.execute("create schema raw; create schema marts")
    con.execute(
        "create table raw.load_log (file_hash varchar, file_name varchar, status varchar,"
        " loaded_at timestamp, rows_loaded integer, rows_rejected integer)"
    )
    con.execute("create table marts.mart_project_year (project_key varchar, fiscal_year integer)")
    con.execute("create table marts._publish_info (n integer)")
    assert db.relations(con) >= {"raw.load_log", "marts.mart_project_year"}
    assert db.relations(con, "marts") == {"mart_project_year", "_publish_info"}
    assert db.table_exists(con, "raw", "load_log")
    con.execute("create view marts.v as select 1 as one")
    assert db.columns(con, "marts")["v"] == {"one"}
    assert "v" not in db.columns(con, "marts", base_tables_only=True)
    assert db.columns(con, "raw", base_tables_only=True)["load_log"] >= {"file_hash", "status"}
    con.execute("drop view marts.v")
    assert not db.table_exists(con, "raw", "payments")
    con.close()
    empty = db.raw_fingerprint(s)
    con = duckdb.connect(str(s.warehouse))
    con.execute(
        "insert into raw.load_log values ('h1', 'a.xlsx', 'loaded', '2026-12-01 01:00', 5, 1),"
        " ('h2', 'b.xlsx', 'quarantined', '2026-12-01 01:01', 0, 0)"
    )
    con.execute("insert into marts.mart_project_year values ('p1', 2023), ('p2', 2024)")
    con.close()
    assert db.raw_fingerprint(s) != empty
    assert db.file_outcomes(s, s.warehouse) == {
        "files_loaded": 1,
        "files_quarantined": 1,
        "rows_loaded": 5,
        "rows_rejected": 1,
    }
    assert db.table_counts(s, s.warehouse, "marts") == {"mart_project_year": 2}
    con = duckdb.connect(str(s.warehouse))
    catalog = s.warehouse.stem
    years = db.year_fingerprints(con, catalog)
    assert set(years) == {2023, 2024} and years[2023][0] == 1
    con.execute("update marts.mart_project_year set project_key = 'p3' where fiscal_year = 2024")
    after = db.year_fingerprints(con, catalog)
    assert after[2023] == years[2023] and after[2024] != years[2024]
    assert db.changed_years(years, after) == [2024]
    assert db.changed_years({}, after) == [2023, 2024]
    assert db.changed_years(after, {2023: after[2023]}) == [2024]
    assert db.year_fingerprints(con, "no_such_catalog") == {}
    con.close()


def test_build_state_round_trip(settings: Settings) -> None:
    s = settings
    db.record_state(s, "dbt_build", {"raw": "r1", "project": "p1"})
    db.record_state(s, "published_night", {"raw": "r0"})
    db.record_state(s, "dbt_build", {"raw": "r2", "project": "p1"})
    assert db.read_state(s) == {
        "dbt_build": {"project": "p1", "raw": "r2"},
        "published_night": {"raw": "r0"},
    }
