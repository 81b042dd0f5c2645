"""The dashboard's metrics are compiled from the semantic layer (仪表板指标来自语义层).

``bi/superset/dashboard_spec.py`` turns the MetricFlow definitions of
``dbt_project/models/semantic/_semantic__models.yml`` into the Superset datasets' SQL metrics;
here the compiled SQL runs on DuckDB over a small mart and gives the ratios of sums the
definitions say, and a definition the compiler does not understand is refused.
"""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from jixiao.config import PROJECT_ROOT

SPEC = PROJECT_ROOT / "bi" / "superset" / "dashboard_spec.py"


@pytest.fixture(scope="module")
def spec():  # type: ignore[no-untyped-def]
    loaded = importlib.util.spec_from_file_location("dashboard_spec", SPEC)
    assert loaded and loaded.loader
    module = importlib.util.module_from_spec(loaded)
    sys.modules["dashboard_spec"] = module
    loaded.loader.exec_module(module)
    return module


def test_every_semantic_metric_of_the_marts_is_compiled(spec) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load(spec.SEMANTIC_YML.read_text(encoding="utf-8"))
    compiled = {}
    for sm in doc["semantic_models"]:
        model = sm["model"].removeprefix("ref('").removesuffix("')")
        compiled.update(spec.semantic_metrics(model))
    assert set(compiled) == {m["name"] for m in doc["metrics"]}
    # the datasets carry them: the project mart's metrics are the semantic layer's
    assert set(spec.PROJECT_METRICS) >= {"execution_rate", "allocation_rate", "average_score"}
    assert spec.PROJECT_METRICS["execution_rate"][:2] == compiled["execution_rate"]


def test_the_compiled_sql_is_a_ratio_of_sums(spec) -> None:  # type: ignore[no-untyped-def]
    con = duckdb.connect()
    con.execute(
        "create table mart_project_year (project_key varchar, parent_project_key varchar,"
        " final_budget_yuan decimal(18,2), allocated_yuan decimal(18,2),"
        " spent_yuan decimal(18,2), recomputed_score decimal(12,2), grade varchar)"
    )
    con.execute(
        "insert into mart_project_year values"
        " ('a', null, 100, 100, 90, 95, '优'),"
        " ('b', null, 300, 200, 100, null, null),"
        " ('b1', 'b', 300, 200, 100, 80, '良')"  # a sub-project: counted in its parent
    )
    metrics = spec.semantic_metrics("mart_project_year")
    sql = ", ".join(f"{expr} as {name}" for name, (_, expr) in metrics.items())
    row = con.execute(f"select {sql} from mart_project_year").fetchone()
    got = dict(zip(metrics, row, strict=True))
    assert Decimal(str(got["execution_rate"])) == Decimal("0.475")  # 190 / 400
    assert Decimal(str(got["allocation_rate"])) == Decimal("0.75")  # 300 / 400
    assert Decimal(str(got["average_score"])) == Decimal("95")  # the one top-level score
    assert got["project_count"] == 2 and got["graded_project_count"] == 1


def test_an_uncompilable_definition_is_refused(spec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load(spec.SEMANTIC_YML.read_text(encoding="utf-8"))
    doc["metrics"].append(
        {
            "name": "cumulative_spent",
            "label": "累计支出",
            "type": "cumulative",
            "type_params": {"measure": "spent_yuan"},
        }
    )
    doctored = tmp_path / "semantic.yml"
    doctored.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="cumulative"):
        spec.semantic_metrics("mart_project_year", doctored)
