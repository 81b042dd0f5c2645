"""Test fixtures build their mart tables from the dbt contracts (issue 16, item 5).

tests/contracts.py reads the enforced contracts from the dbt yml; the gate fixtures
(tests/integration/quality/quality_data.py) and the report fixtures
(tests/integration/reports/report_marts_fixture.py) create their tables from it. Here: the DDL
it emits is the contract for every enforced model, a table that drifts from its contract (a
column too many, one missing, reordered, retyped) is caught, and both fixtures' tables are their
contracts. Fast: DuckDB in memory or in tmp_path, no dbt.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from jixiao.config import Settings
from jixiao.publish import publisher
from tests import contracts
from tests.integration.quality import quality_data
from tests.integration.reports import report_marts_fixture

ALL = sorted(contracts.contracts())
#: every mart the two fixtures create
FIXTURE_MARTS = sorted(
    set(quality_data.MART_TABLES)
    | set(quality_data.QA_TABLES)
    | set(report_marts_fixture.UPSTREAM_MARTS)
    | set(report_marts_fixture.STATED_MARTS)
)


def _memory_table(c: contracts.Contract, schema: str = "marts") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"create schema {schema}")
    con.execute(c.ddl(schema))
    return con


def test_contracts_are_the_enforced_models() -> None:
    # every BI mart has one; each names a model that exists, and intermediate models have none
    assert len(ALL) >= 38
    sql_models = {p.stem for p in (contracts.DBT_PROJECT / "models").rglob("*.sql")}
    assert set(ALL) <= sql_models
    assert not [m for m in ALL if m.startswith(("stg_", "int_"))]
    assert set(FIXTURE_MARTS) <= set(ALL)
    for c in contracts.contracts().values():
        assert c.source.is_relative_to(contracts.DBT_PROJECT / "models" / "marts")
        assert len(set(c.names)) == len(c.names), c.model


@pytest.mark.parametrize("model", ALL)
def test_ddl_is_the_contract(model: str) -> None:
    c = contracts.contract(model)
    con = _memory_table(c)
    columns = contracts.table_columns(con, "marts", model)
    assert [n for n, _ in columns] == c.names  # names and order
    assert [t for _, t in columns] == [contracts.normalize_type(t) for _, t in c.columns]
    assert contracts.differences(c, columns) == []
    contracts.check_tables(con, [model])


def _doctored(c: contracts.Contract, kind: str) -> contracts.Contract:
    cols = list(c.columns)
    if kind == "extra":
        cols.insert(2, ("not_in_contract", "varchar"))
    elif kind == "missing":
        del cols[1]
    elif kind == "reordered":
        cols[0], cols[1] = cols[1], cols[0]
    elif kind == "retyped":  # the drift the hand-written DDL had: decimal(12,2) for (20,2)
        i = next(i for i, (_, t) in enumerate(cols) if t.startswith("decimal"))
        cols[i] = (cols[i][0], "decimal(9,1)")
    return dataclasses.replace(c, columns=tuple(cols))


@pytest.mark.parametrize("kind", ["extra", "missing", "reordered", "retyped"])
@pytest.mark.parametrize("model", ["mart_project_year", "fct_indicator_scores", "fct_budget"])
def test_a_drifted_table_is_caught(model: str, kind: str) -> None:
    real = contracts.contract(model)
    drifted = _doctored(real, kind)
    con = _memory_table(drifted)
    problems = contracts.differences(real, contracts.table_columns(con, "marts", model))
    expected = {
        "extra": f"{model}: column not_in_contract is not in the contract",
        "missing": f"{model}: contract column {real.names[1]} is missing",
        "reordered": f"{model}: column order",
        "retyped": "DECIMAL(9,1), the contract says DECIMAL(",
    }[kind]
    assert any(expected in p for p in problems), problems
    with pytest.raises(AssertionError, match="drifted from the dbt contracts"):
        contracts.check_tables(con, [model])
    # and the other way round: a fixture checked against a doctored contract fails too
    con = _memory_table(real)
    with pytest.raises(AssertionError, match=model):
        contracts.check_tables(con, [model], source={model: drifted})


def test_a_missing_table_is_caught() -> None:
    con = duckdb.connect()
    assert contracts.differences(contracts.contract("dim_project"), ()) == [
        "dim_project: no such table"
    ]
    with pytest.raises(AssertionError, match="dim_project: no such table"):
        contracts.check_tables(con, ["dim_project"])


def test_a_row_naming_a_column_the_contract_lacks_fails() -> None:
    # the fixtures insert by name: a column dropped from the contract fails loudly, a column
    # the row does not name is null
    con = duckdb.connect()
    contracts.create_tables(con, ["mart_review_flags"])
    con.execute("insert into marts.mart_review_flags by name select 'F1' as flag_id")
    assert con.execute("select flag_id, severity from marts.mart_review_flags").fetchall() == [
        ("F1", None)
    ]
    with pytest.raises(duckdb.BinderException):
        con.execute("insert into marts.mart_review_flags by name select 1 as not_in_contract")
    with pytest.raises(KeyError, match="no enforced contract"):
        contracts.create_tables(con, ["int_projects_deduplicated"])


def _project(tmp_path: Path, project_config: str, models_yml: str) -> Path:
    (tmp_path / "models" / "marts").mkdir(parents=True)
    (tmp_path / "dbt_project.yml").write_text(
        f"name: p\nmodels:\n  p:\n{project_config}", encoding="utf-8"
    )
    (tmp_path / "models" / "marts" / "_m.yml").write_text(models_yml, encoding="utf-8")
    return tmp_path


def test_parse_follows_dbts_contract_config(tmp_path: Path) -> None:
    models = """version: 2
models:
- name: a
  columns: [{name: x, data_type: integer}, {name: y, data_type: text}]
- name: b
  config: {contract: {enforced: false}}
  columns: [{name: x, data_type: integer}]
- name: c
  contract: {enforced: true}
  columns: [{name: z, data_type: "decimal(18,2)"}]
"""
    # folder-level +contract enforces a and c, b opts out
    found = contracts.parse_contracts(
        _project(tmp_path / "one", "    marts:\n      +contract: {enforced: true}\n", models)
    )
    assert sorted(found) == ["a", "c"]
    assert found["a"].columns == (("x", "integer"), ("y", "text"))
    assert found["a"].ddl("m") == 'create table "m"."a" ("x" integer, "y" text)'
    # no folder config: only c's own
    found = contracts.parse_contracts(_project(tmp_path / "two", "    +schema: s\n", models))
    assert sorted(found) == ["c"]
    # an enforced contract without a type on every column is refused, not guessed
    with pytest.raises(ValueError, match="data_type on every column"):
        contracts.parse_contracts(
            _project(
                tmp_path / "three",
                "    +schema: s\n",
                "models:\n- name: d\n  config: {contract: {enforced: true}}\n"
                "  columns: [{name: x}]\n",
            )
        )


def test_quality_fixture_tables_are_the_contracts(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    marts = quality_data.merge(quality_data.good_marts(), quality_data.bad_marts())
    quality_data.create_marts(db, quality_data.good_raw(), marts, skip=("mart_review_flags",))
    con = duckdb.connect(str(db))
    try:
        kept = [t for t in quality_data.MART_TABLES if t != "mart_review_flags"]
        contracts.check_tables(con, kept)
        contracts.check_tables(con, quality_data.QA_TABLES, "quality")
        assert contracts.table_columns(con, "marts", "mart_review_flags") == ()
        # the raw tables are raw_schema.sql's
        ref = duckdb.connect()
        contracts.create_raw_schema(ref)
        raw = [r[0] for r in ref.execute("select table_name from duckdb_tables()").fetchall()]
        assert raw
        for table in raw:
            assert contracts.table_columns(con, "raw", table) == contracts.table_columns(
                ref, "raw", table
            )
        assert con.execute("select count(*) from marts.mart_project_year").fetchone() == (12,)
    finally:
        con.close()


def test_report_fixture_tables_are_the_contracts(tmp_path: Path) -> None:
    db = report_marts_fixture._upstream_marts(tmp_path / "m.duckdb")  # checks itself, too
    con = duckdb.connect(str(db))
    try:
        contracts.check_tables(
            con, report_marts_fixture.UPSTREAM_MARTS + report_marts_fixture.STATED_MARTS
        )
        assert [
            (n, contracts.normalize_type(t))
            for n, t in contracts.table_columns(con, "marts", publisher.SCORES_TABLE)
        ] == [(n, contracts.normalize_type(t)) for n, t in contracts.published_scores_columns()]
    finally:
        con.close()


def test_published_scores_columns_are_what_the_publisher_writes(settings: Settings) -> None:
    # the publisher's own writer, on a mart_project_year made from its contract
    con = duckdb.connect()
    try:
        contracts.create_tables(con, ["mart_project_year"])
        con.execute(f"attach ':memory:' as {publisher._PUB}")
        con.execute(f"create schema {publisher._PUB}.marts")
        publisher._write_published_scores(
            con,
            str(con.execute("select current_database()").fetchone()[0]),  # type: ignore[index]
            settings,
            run_id="r1",
            published_at=datetime(2024, 4, 2, 2, 10, tzinfo=UTC),
            fingerprint="f",
        )
        written = con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = ? "
            "and schema_name = 'marts' and table_name = ? order by column_index",
            [publisher._PUB, publisher.SCORES_TABLE],
        ).fetchall()
    finally:
        con.close()
    assert written == [
        (n, contracts.normalize_type(t)) for n, t in contracts.published_scores_columns()
    ]
