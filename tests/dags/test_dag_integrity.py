"""DAG integrity: the DAGs import cleanly, are configured like production, do no I/O at parse.

These import the real DAG files with Airflow's DagBag (no mocks).
"""

from __future__ import annotations

import ast
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jixiao.config import PROJECT_ROOT

DAGS_DIR = PROJECT_ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
HEAVY = [
    "pandas",
    "duckdb",
    "great_expectations",
    "dbt",
    "openpyxl",
    "python_calamine",
    "pyarrow",
    "matplotlib",
]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import os

    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {"jixiao_nightly", "jixiao_yearly_report"}


def test_one_dag_per_file_named_after_it(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag_id, dag in dagbag.dags.items():
        assert Path(dag.fileloc).stem == dag_id


def test_every_dag_has_tags_retries_schedule_and_docs(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no doc_md"
        assert dag.timetable is not None and dag.timetable.can_be_scheduled, f"{dag_id} unscheduled"
        assert dag.catchup is False, dag_id
        assert dag.max_active_runs == 1, dag_id
        assert dag.default_args.get("retries", 0) >= 1, f"{dag_id} has no retries"
        assert dag.default_args.get("on_failure_callback"), f"{dag_id} records no alert"


def test_airflow_glue_has_one_home(dagbag) -> None:  # type: ignore[no-untyped-def]
    """Both DAGs take their default args and callbacks from jixiao.airflow (no copies), and
    every task that runs a data stage fails fast on a data error through ``fails_fast``."""
    from jixiao.airflow import default_args

    expected = default_args()
    for dag_id, dag in dagbag.dags.items():
        assert dag.default_args == expected, dag_id
    fail_fast = {
        "jixiao_nightly": {"pull", "ingest", "gate_raw", "dbt_build", "gate_marts", "publish"},
        "jixiao_yearly_report": {"check_gate", "build_reports"},
    }
    for dag_id, task_ids in fail_fast.items():
        dag = dagbag.dags[dag_id]
        wrapped = {
            t.task_id
            for t in dag.tasks
            if hasattr(getattr(t, "python_callable", None), "__wrapped__")
        }
        assert wrapped == task_ids, (dag_id, wrapped)
    for path in DAG_FILES:  # the glue is not written again in a DAG file
        text = path.read_text(encoding="utf-8")
        assert "timedelta" not in text and "record_failure" not in text, path.name
        assert "fail_fast_on_data_error" not in text, path.name


def test_fails_fast_turns_a_data_error_into_a_failure_without_retry() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from jixiao.airflow import fails_fast
    from jixiao.errors import DataError

    @fails_fast
    def stage(kind: str) -> str:
        if kind == "data":
            raise DataError("闸门未通过 / gate failed")
        if kind == "transient":
            raise OSError("database is locked")
        return kind

    assert stage("ok") == "ok"
    with pytest.raises(AirflowFailException, match="gate failed"):
        stage("data")
    with pytest.raises(OSError, match="locked"):  # retried by Airflow, not failed at once
        stage("transient")


def test_nightly_shape(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["jixiao_nightly"]
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone.name) == "Asia/Shanghai"
    order = [
        "pull",
        "discover",
        "ingest",
        "plan_night",
        "gate_raw",
        "dbt_build",
        "gate_marts",
        "publish",
    ]
    for up, down in itertools.pairwise(order):
        assert down in dag.get_task(up).downstream_task_ids, f"{up} -> {down} missing"
    publish = dag.get_task("publish")
    assert [o.uri for o in publish.outlets] == ["jixiao://published/marts"]
    assert publish.downstream_task_ids == set()  # a leaf: a skipped publish ends the run well
    # every task that opens the DuckDB warehouse shares the one-slot pool
    tasks = ("ingest", "plan_night", "gate_raw", "dbt_build", "gate_marts", "publish")
    for task_id in (*tasks, "quality_report"):
        assert dag.get_task(task_id).pool == "jixiao_warehouse", task_id
    assert dag.get_task("quality_report").trigger_rule == "all_done"
    # a failed pull (a wrong sources file) never stops what is already in the inbox
    assert dag.get_task("discover").trigger_rule == "all_done"
    assert dag.get_task("pull").downstream_task_ids == {"discover"}


def test_nightly_short_circuit_skips_the_work_but_not_the_report(dagbag) -> None:  # type: ignore[no-untyped-def]
    """A quiet night skips gate_raw and, through its trigger rules, dbt, the marts gate and
    publish; quality_report (all_done) is not skipped with them."""
    from airflow.providers.standard.operators.python import ShortCircuitOperator

    dag = dagbag.dags["jixiao_nightly"]
    plan = dag.get_task("plan_night")
    assert isinstance(plan, ShortCircuitOperator)
    # True (the default) would skip every task downstream, the quality report included
    assert plan.ignore_downstream_trigger_rules is False
    assert plan.downstream_task_ids == {"gate_raw"}
    for task_id in ("gate_raw", "dbt_build", "gate_marts", "publish"):
        assert dag.get_task(task_id).trigger_rule == "all_success", task_id
    assert "quality_report" not in plan.get_direct_relative_ids(upstream=False)
    assert dag.get_task("quality_report").upstream_task_ids == {"ingest", "gate_marts"}
    assert dag.params["force"] is False


def test_yearly_report_refuses_without_gate_and_listens_to_publish(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["jixiao_yearly_report"]
    assert "year" in dag.params and dag.params["unit"] is None  # unit: wan or yuan, per run
    assert "check_gate" in dag.get_task("resolve_years").downstream_task_ids
    assert "build_reports" in dag.get_task("check_gate").downstream_task_ids
    assert dag.get_task("check_gate").retries == 0
    # yearly after the fiscal year closes, and whenever new marts are published
    assert dag.timetable.timetable.expression == "0 6 15 1 *"
    assert "jixiao://published/marts" in repr(dag.timetable.asset_condition)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_module_level_code_is_declarations_only(path: Path) -> None:
    """Top level holds imports, constants, defs and the DAG call; nothing that does work."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Assign, ast.AnnAssign, ast.Expr)
    for node in tree.body:
        assert isinstance(node, allowed), f"{path.name}:{node.lineno} {type(node).__name__}"
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            assert isinstance(func, ast.Name) and func.id == path.stem, (
                f"{path.name}:{node.lineno}: only the DAG function may be called at top level"
            )


PROBE = r"""
import importlib.util, json, sys
import airflow.sdk, pendulum, jixiao.airflow  # warm imports first (the shared glue)
opened = []
SYSTEM = (sys.prefix, sys.base_prefix, "/usr/share/zoneinfo", "/dev/null")
def hook(event, args):
    if event == "socket.connect":
        opened.append(f"socket {args[1]!r}")
    if event != "open" or not isinstance(args[0], str):
        return
    path = args[0]
    if "/__pycache__/" in path or path.startswith(SYSTEM) or path.endswith(".py"):
        return
    opened.append(path)
sys.addaudithook(hook)
before = set(sys.modules)
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
new = sorted(set(sys.modules) - before)
print(json.dumps({"opened": opened, "new_modules": new}))
"""


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parsing_does_no_io_and_no_heavy_imports(path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PATH": "/usr/bin:/bin",
            "HOME": str(Path.home()),
        },
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    heavy = [m for m in result["new_modules"] if m.split(".")[0] in HEAVY]
    assert heavy == [], f"{path.name} imports heavy modules at parse time: {heavy[:5]}"
    assert result["opened"] == [], f"{path.name} opens files at parse time: {result['opened']}"
