"""Which nightly tasks take the one-slot warehouse pool, per engine (每种引擎的任务池).

DuckDB allows one writer, so on DuckDB every task that opens the warehouse shares
``jixiao_warehouse`` (test_dag_integrity checks the default). On PostgreSQL the build and the
marts gate work on the server and leave the pool; the tasks that open the DuckDB staging file
keep it. The pool is decided when the DAG file is parsed, so each engine is parsed in a
process of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from jixiao.config import PROJECT_ROOT

PARSE = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={dags!r})
assert not bag.import_errors, bag.import_errors
dag = bag.dags["jixiao_nightly"]
print("POOLS " + json.dumps({{t.task_id: t.pool for t in dag.tasks}}))
"""

STAGING_TASKS = ("ingest", "plan_night", "gate_raw", "publish", "quality_report")
BUILD_TASKS = ("dbt_build", "gate_marts")


def _pools(engine: str | None) -> dict[str, str]:
    env = dict(os.environ, AIRFLOW__CORE__LOAD_EXAMPLES="False")
    env.pop("JIXIAO_WAREHOUSE", None)
    if engine is not None:
        env["JIXIAO_WAREHOUSE"] = engine
    proc = subprocess.run(
        [sys.executable, "-c", PARSE.format(dags=str(PROJECT_ROOT / "dags"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("POOLS ")]
    assert lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    pools: dict[str, str] = json.loads(lines[-1].removeprefix("POOLS "))
    return pools


@pytest.mark.parametrize("engine", [None, "duckdb", "spark"])
def test_single_writer_engines_run_every_warehouse_task_in_the_pool(engine: str | None) -> None:
    pools = _pools(engine)
    for task_id in (*STAGING_TASKS, *BUILD_TASKS):
        assert pools[task_id] == "jixiao_warehouse", (engine, task_id)
    assert pools["pull"] == pools["discover"] == "default_pool"


def test_on_postgres_the_build_and_the_marts_gate_leave_the_pool() -> None:
    pools = _pools("postgres")
    for task_id in BUILD_TASKS:
        assert pools[task_id] == "default_pool", task_id
    # the DuckDB staging file is still one writer: what opens it keeps the pool
    for task_id in STAGING_TASKS:
        assert pools[task_id] == "jixiao_warehouse", task_id


def test_an_unknown_engine_fails_the_parse_in_both_languages() -> None:
    env = dict(os.environ, JIXIAO_WAREHOUSE="oracle")
    proc = subprocess.run(
        [sys.executable, "-c", "from jixiao.orchestration import build_pool; build_pool()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "JIXIAO_WAREHOUSE 须为" in proc.stderr and "must be one of" in proc.stderr
