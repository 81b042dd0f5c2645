"""End-to-end fixtures: a project-local Airflow (SQLite metadata) per test session, and one
PostgreSQL server per session on 127.0.0.1 (:mod:`tests.e2e.pg_server`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jixiao.config import Settings, get_settings
from jixiao.orchestration import airflow_env, init_airflow
from tests.e2e.pg_server import PostgresServer, running_postgres_server

RUNNER = Path(__file__).with_name("run_dag.py")


@dataclass
class AirflowRig:
    settings: Settings
    airflow_home: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = airflow_env(self.settings, self.airflow_home)
        env.update(extra)
        return env

    def run(
        self, dag_id: str, conf: dict[str, Any] | None = None, **extra_env: str
    ) -> dict[str, Any]:
        """Run the DAG with dag.test() in a subprocess and return states per task."""
        args = [sys.executable, str(RUNNER), dag_id]
        if conf:
            args.append(json.dumps(conf))
        proc = subprocess.run(
            args, env=self.env(**extra_env), capture_output=True, text=True, timeout=900
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("DAGRUN_RESULT ")]
        if not lines:
            raise AssertionError(
                f"{dag_id} produced no result (exit {proc.returncode}):\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        result: dict[str, Any] = json.loads(lines[-1].removeprefix("DAGRUN_RESULT "))
        result["log"] = proc.stdout[-20000:] + proc.stderr[-20000:]
        return result


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite metadata DB for the session (`airflow db migrate` takes ~15 s)."""
    home = tmp_path_factory.mktemp("airflow_home")
    init_airflow(get_settings(tmp_path_factory.mktemp("unused_home")), airflow_home=home)
    return home


@pytest.fixture
def rig(tmp_path: Path, airflow_home: Path) -> AirflowRig:
    settings = get_settings(tmp_path / "jixiao_home").ensure()
    return AirflowRig(settings=settings, airflow_home=airflow_home)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """initdb + pg_ctl start on 127.0.0.1:<free port> for the session, a ``jixiao`` database
    (:func:`tests.e2e.pg_server.running_postgres_server`)."""
    with running_postgres_server() as server:
        yield server
