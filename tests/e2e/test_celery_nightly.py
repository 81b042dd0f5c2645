"""The nightly on Celery workers against PostgreSQL (Celery 执行器 / issue 17 item 4).

On 127.0.0.1 only: a Redis server (Debian's ``redis-server``, ``.ci/run`` installs it) as the
Celery broker, the session's PostgreSQL server (tests/e2e/pg_server.py) holding both the
Airflow metadata (database ``airflow_celery``, also Celery's result backend) and the
warehouse (database ``jixiao_celery``), and Airflow's components as separate processes with
``AIRFLOW__CORE__EXECUTOR=CeleryExecutor``: ``airflow scheduler``, ``airflow dag-processor``
(Airflow 3 parses DAG files in a process of its own), ``airflow api-server`` and one
``airflow celery worker``. ``jixiao_nightly`` is triggered through the REST API on the demo
inbox with ``JIXIAO_WAREHOUSE=postgres`` and must succeed. Shown:

- every task ran on the Celery worker: its task instance's hostname is the worker's name,
  which only the worker's processes have (``tests.e2e.worker_host``), its queue is Celery's
  ``default``, and Celery's result backend holds a successful result for each of them;
- the pool is only DuckDB's: ``dbt_build`` and ``gate_marts`` ran in the default pool, the
  tasks that open the DuckDB staging file in the one-slot ``jixiao_warehouse``;
- the night built on the server (row-level security on its marts) and published what the
  DuckDB night publishes: every marts table equal to the ``published_demo`` night's.

Everything is torn down afterwards. The wall time of each phase is printed and written to
``test-artifacts/celery_nightly_timings.json``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from jixiao.config import PROJECT_ROOT, Settings, get_settings
from jixiao.orchestration import WAREHOUSE_POOL, airflow_env
from jixiao.samples.demo import build_demo_inbox
from jixiao.warehouse import postgres
from tests.e2e.net import call_api, free_port
from tests.e2e.pg_server import PG_USER, PostgresServer, create_database
from tests.e2e.test_postgres_warehouse import compare_published

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

METADATA_DB = "airflow_celery"
WAREHOUSE_DB = "jixiao_celery"
WORKER = "jixiao-celery-worker-1"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
#: what the one-slot pool still guards on PostgreSQL: the tasks that open the DuckDB file
STAGING_TASKS = {"ingest", "plan_night", "gate_raw", "publish", "quality_report"}
BUILD_TASKS = {"dbt_build", "gate_marts"}


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


class Processes:
    """The servers this test started, each in a session of its own, with its log."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        with (self.logs / f"{name}.log").open("wb") as out:
            self.procs[name] = subprocess.Popen(
                args,
                env=env,
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = self.log(name)[-5000:]
                raise AssertionError(f"{name} exited ({proc.returncode}):\n{tail}")

    def tails(self) -> str:
        return "\n".join(f"--- {n}\n{self.log(n)[-2500:]}" for n in self.procs)

    def stop(self) -> None:
        """SIGTERM to each process group (the worker first: it drains), then SIGKILL."""
        for proc in reversed(self.procs.values()):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs.values()):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait(what: str, fn: Any, timeout: float, procs: Processes) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        procs.check()
        try:
            value = fn()
            if value:
                return value
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what} ({last}):\n{procs.tails()}")


@contextmanager
def _redis(procs: Processes, workdir: Path) -> Iterator[str]:
    """redis-server on 127.0.0.1:<free port>, nothing persisted; yields the broker URL."""
    port = free_port()
    procs.start(
        "redis",
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        dict(os.environ),
    )
    yield f"redis://127.0.0.1:{port}/0"


def _celery_env(
    settings: Settings, airflow_home: Path, server: PostgresServer, broker: str, api_port: int
) -> dict[str, str]:
    """jixiao's Airflow environment (jixiao.orchestration.airflow_env) with the metadata on
    PostgreSQL, the CeleryExecutor on the Redis broker and the warehouse on PostgreSQL."""
    saved = {k: os.environ.pop(k, None) for k in ("JIXIAO_AIRFLOW_HOST", "JIXIAO_AIRFLOW_PORT")}
    os.environ["JIXIAO_AIRFLOW_PORT"] = str(api_port)
    try:
        for key in ("HOST", "PORT", "BASE_URL"):
            os.environ.pop(f"AIRFLOW__API__{key}", None)
        os.environ.pop("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", None)
        env = airflow_env(settings, airflow_home)
    finally:
        os.environ.pop("JIXIAO_AIRFLOW_PORT", None)
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value
    metadata = (
        f"postgresql+psycopg2://{PG_USER}:{server.password}@127.0.0.1:{server.port}/{METADATA_DB}"
    )
    env.update(server.env(WAREHOUSE_DB))
    env.update(
        {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": broker,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata,
            # solo: each task is supervised from the worker's main process. Under Celery's
            # default prefork pool a task is forked from a daemonic child and ingest's process
            # pool fails ("daemonic processes are not allowed to have children"); under the
            # threads pool Airflow's supervisor cannot set its signal handlers ("signal only
            # works in main thread"). Both measured here; more workers, not more slots, scale
            "AIRFLOW__CELERY__POOL": "solo",
            # the components share one signing secret: the worker's tasks call the api-server
            "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(16).hex(),
            "AIRFLOW__API__SECRET_KEY": os.urandom(16).hex(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            # only the triggered run: no run for the cron's latest missed interval on unpause
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    return env


def test_the_nightly_runs_on_a_celery_worker_against_postgres(
    postgres_server: PostgresServer,
    published_demo: Settings,
    tmp_path: Path,
) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()
    settings = get_settings(tmp_path / "jixiao_home").ensure()
    build_demo_inbox(settings.inbox)
    airflow_home = tmp_path / "airflow"
    airflow_home.mkdir()
    create_database(postgres_server, METADATA_DB)
    create_database(postgres_server, WAREHOUSE_DB)
    procs = Processes(tmp_path)
    api_port = free_port()
    base = f"http://127.0.0.1:{api_port}"
    with ExitStack() as stack:
        stack.callback(procs.stop)
        broker = stack.enter_context(_redis(procs, tmp_path))
        env = _celery_env(settings, airflow_home, postgres_server, broker, api_port)
        for args in (
            ["db", "migrate"],
            ["pools", "set", WAREHOUSE_POOL, "1", "DuckDB allows one writer"],
        ):
            proc = subprocess.run(
                [_airflow(), *args], env=env, capture_output=True, text=True, timeout=600
            )
            assert proc.returncode == 0, (args, proc.stdout[-3000:], proc.stderr[-3000:])
        timings["metadata_migrate_seconds"] = round(time.monotonic() - started, 1)
        worker_env = dict(
            env,
            JIXIAO_TEST_WORKER=WORKER,
            AIRFLOW__CORE__HOSTNAME_CALLABLE="tests.e2e.worker_host.name",
            PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")]),
        )
        procs.start("api-server", [_airflow(), "api-server", "--port", str(api_port)], env)
        procs.start("scheduler", [_airflow(), "scheduler"], env)
        procs.start("dag-processor", [_airflow(), "dag-processor"], env)
        procs.start(
            "worker",
            [_airflow(), "celery", "worker", "--skip-serve-logs"],
            worker_env,
        )
        _wait("api-server", lambda: call_api(base, "GET", "/api/v2/monitor/health"), 240, procs)
        _wait(
            "DAG parsed", lambda: call_api(base, "GET", "/api/v2/dags/jixiao_nightly"), 240, procs
        )
        timings["components_up_seconds"] = round(time.monotonic() - started, 1)
        call_api(base, "PATCH", "/api/v2/dags/jixiao_nightly", {"is_paused": False})
        run = call_api(
            base, "POST", "/api/v2/dags/jixiao_nightly/dagRuns", {"logical_date": None, "conf": {}}
        )
        run_id = run["dag_run_id"]
        path = f"/api/v2/dags/jixiao_nightly/dagRuns/{run_id}"

        def finished() -> Any:
            state = call_api(base, "GET", path)["state"]
            return state if state in ("success", "failed") else None

        night_started = time.monotonic()
        state = _wait("the DAG run", finished, 600, procs)
        timings["night_seconds"] = round(time.monotonic() - night_started, 1)
        tis = call_api(base, "GET", f"{path}/taskInstances")["task_instances"]
        assert state == "success", (
            json.dumps([(t["task_id"], t["state"]) for t in tis]) + "\n" + procs.tails()
        )
        worker_log = procs.log("worker")
    timings["total_seconds"] = round(time.monotonic() - started, 1)
    print("Celery nightly timings:", timings)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "celery_nightly_timings.json").write_text(
        json.dumps(timings, indent=2) + "\n", encoding="utf-8"
    )

    by_task = {t["task_id"]: t for t in tis}
    assert {t: ti["state"] for t, ti in by_task.items()} == {
        t: "success" for t in (*STAGING_TASKS, *BUILD_TASKS, "pull", "discover")
    }
    # every task ran in a process of the Celery worker, from Celery's queue
    for task_id, ti in by_task.items():
        assert ti["hostname"] == WORKER, (task_id, ti["hostname"])
        assert ti["queue"] == "default", (task_id, ti["queue"])
    assert "celery@" in worker_log and "ready" in worker_log, worker_log[-3000:]
    with postgres.connect(postgres_server.address(METADATA_DB)) as con, con.cursor() as cur:
        cur.execute("select count(*) from celery_taskmeta where status = 'SUCCESS'")
        assert cur.fetchone()[0] >= len(by_task)
    # the one-writer pool is DuckDB's: the build and the marts gate ran outside it
    for task_id in BUILD_TASKS:
        assert by_task[task_id]["pool"] == "default_pool", task_id
    for task_id in STAGING_TASKS:
        assert by_task[task_id]["pool"] == WAREHOUSE_POOL, task_id

    # built on the server, secured, and published as the DuckDB night publishes
    with postgres.connect(postgres_server.address(WAREHOUSE_DB)) as con, con.cursor() as cur:
        cur.execute(
            "select relrowsecurity from pg_class where oid = 'marts.mart_project_year'::regclass"
        )
        assert cur.fetchone() == (True,)
    found = compare_published(
        published_demo.published, settings.published, "the Celery night on PostgreSQL"
    )
    assert found.compared >= 30 and found.problems == [], found.problems
