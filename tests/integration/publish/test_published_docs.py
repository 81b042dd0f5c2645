"""The published file documents itself where BI users look (发布库自带中英文说明).

One real night on the demo workbooks (ingest, raw gate, dbt build, marts gate, publish), then,
as an analyst's tool reads it (SQLAlchemy duckdb-engine, read-only, on the published file):

- every published table and every column carries a non-empty comment in Chinese and English,
  and a known one is exactly the text of its dbt yml;
- every mart whose rows belong to a project or a parent project carries the department key
  (``department_name``, the key of ``dim_department``), filled wherever the project is known
  and equal to the project's department;
- ``manifest.json`` has the exposures: the published file, each yearly report and the
  quality report, every one depending on marts that exist, the published file on all of them.

The publisher's own tables get column comments too (checked on a small synthetic warehouse).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from tests.integration.publish.conftest import MakeMarts

from jixiao.config import PROJECT_ROOT, Settings
from jixiao.publish.publisher import INFO_TABLE, SCORES_TABLE, create_readonly_engine, publish

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{2,}")
#: marts allowed to lack the department key though their rows belong to a project
DEPARTMENT_KEY_EXEMPT: set[str] = set()  # none: every such mart carries the key


@pytest.fixture(scope="module")
def night(published_demo: Settings) -> Settings:
    """The demo workbooks through one night, published (tests/conftest.py, shared)."""
    return published_demo


def _rows(engine: sa.Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as con:
        return [tuple(r) for r in con.execute(sa.text(sql), params).fetchall()]


def _comments(engine: sa.Engine) -> tuple[dict[str, str | None], dict[tuple[str, str], str | None]]:
    tables = dict(
        _rows(
            engine,
            "select table_name, comment from duckdb_tables() where schema_name = 'marts'",
        )
    )
    columns = {
        (t, c): comment
        for t, c, comment in _rows(
            engine,
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'marts'",
        )
    }
    return tables, columns


def _yml_model(name: str) -> dict[str, Any]:
    for path in (PROJECT_ROOT / "dbt_project" / "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in doc.get("models") or []:
            if model.get("name") == name:
                return dict(model)
    raise AssertionError(f"no yml for {name}")


def _bilingual(text: str | None) -> bool:
    return bool(text and text.strip() and CJK.search(text) and LATIN.search(text))


@pytest.mark.slow
def test_every_published_table_and_column_has_a_bilingual_comment(night: Settings) -> None:
    engine = create_readonly_engine(night)
    assert engine.dialect.name == "duckdb"
    tables, columns = _comments(engine)
    assert len(tables) >= 20 and len(columns) >= 300  # the demo's marts, not an empty file
    assert {INFO_TABLE, SCORES_TABLE, "mart_project_year", "dim_department"} <= set(tables)
    assert [t for t, c in tables.items() if not _bilingual(c)] == []
    assert [k for k, c in columns.items() if not _bilingual(c)] == []

    # the inspector a BI tool lists tables with sees the same text as the dbt yml
    yml = _yml_model("mart_project_year")
    inspector = sa.inspect(engine)
    assert (
        inspector.get_table_comment("mart_project_year", schema="marts")["text"]
        == (yml["description"])
    )
    described = {c["name"]: c["description"] for c in yml["columns"]}
    assert "预算执行率" in described["execution_rate"]
    assert columns[("mart_project_year", "execution_rate")] == described["execution_rate"]
    assert columns[("mart_project_year", "grade")] == described["grade"]
    # the scores snapshot takes the mart's comment for the columns it copies
    assert columns[(SCORES_TABLE, "grade")] == described["grade"]


@pytest.mark.slow
def test_marts_sliced_by_department_carry_the_department_key(night: Settings) -> None:
    engine = create_readonly_engine(night)
    _, columns = _comments(engine)
    by_table: dict[str, set[str]] = {}
    for table, column in columns:
        by_table.setdefault(table, set()).add(column)
    departments = {r[0] for r in _rows(engine, "select department_name from marts.dim_department")}
    assert len(departments) == 4  # the demo's four departments

    checked = []
    for table, cols in sorted(by_table.items()):
        key = next((k for k in ("project_key", "parent_project_key") if k in cols), None)
        if not table.startswith("mart_") or key is None or table in DEPARTMENT_KEY_EXEMPT:
            continue
        assert "department_name" in cols, f"{table} has {key} but no department_name"
        # filled wherever the project is known, and the project's (or its sub-projects') own
        wrong = _rows(
            engine,
            f"""
            with owners as (
                select project_key as k, department_name from marts.dim_project
                union
                select parent_project_key, department_name from marts.dim_project
                where parent_project_key is not null
            )
            select m.{key}, m.department_name
            from marts.{table} as m
            where m.{key} in (select k from owners)
              and (m.department_name is null or m.department_name not in (
                  select department_name from owners where k = m.{key}))
            """,
        )
        assert wrong == [], f"{table}: {wrong[:5]}"
        got = {r[0] for r in _rows(engine, f"select distinct department_name from marts.{table}")}
        assert got - {None} <= departments, table
        checked.append(table)
    # the marts of issue 14 that had no department key, among the rest
    assert {
        "mart_review_flags",
        "mart_level1_scores",
        "mart_output_completion",
        "mart_evaluation_periods",
        "mart_category_year",
        "mart_spending_rate_distribution",
        "mart_project_year",
    } <= set(checked)
    # every demo department has its category spending under its own key
    with_key = _rows(
        engine,
        "select count(distinct department_name) from marts.mart_category_year "
        "where department_name is not null",
    )
    assert with_key[0][0] == len(departments)


@pytest.mark.slow
def test_exposures_name_the_published_file_reports_and_quality_report(night: Settings) -> None:
    manifest = json.loads((night.home / "dbt" / "target" / "manifest.json").read_text("utf-8"))
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    expected = {
        "published_marts": "dashboard",
        "yearly_report_department": "analysis",
        "yearly_report_region": "analysis",
        "yearly_report_project_selfeval": "analysis",
        "quality_report": "dashboard",
    }
    assert {n: exposures[n]["type"] for n in expected if n in exposures} == expected
    marts_models = {
        n["unique_id"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    for name in expected:
        e = exposures[name]
        assert _bilingual(e["description"]) and _bilingual(e["label"]), name
        assert e["owner"]["name"], name
        nodes = set(e["depends_on"]["nodes"])
        assert nodes and nodes & marts_models, name
        assert nodes <= set(manifest["nodes"]) | set(manifest["sources"]), name
    # the published file exposes every mart it publishes; a new mart must be added there
    published = set(exposures["published_marts"]["depends_on"]["nodes"])
    assert marts_models - published == set()
    engine = create_readonly_engine(night)
    tables = {r[0] for r in _rows(engine, "select table_name from duckdb_tables()")}
    names = {manifest["nodes"][u]["alias"] for u in published}
    assert names == tables - {INFO_TABLE, SCORES_TABLE}


def test_publisher_tables_have_column_comments(make_marts: MakeMarts, tmp_path: Path) -> None:
    settings = make_marts("run-docs")
    publish(settings, run_id="run-docs")
    engine = create_readonly_engine(settings)
    _, columns = _comments(engine)
    own = {k: v for k, v in columns.items() if k[0] in (INFO_TABLE, SCORES_TABLE)}
    assert {t for t, _ in own} == {INFO_TABLE, SCORES_TABLE}
    assert [k for k, c in own.items() if not _bilingual(c)] == []
    # copied from the source warehouse's comments (the synthetic fct_budget has one)
    assert columns[("fct_budget", "final_yuan")] == "调整后预算（元）"
