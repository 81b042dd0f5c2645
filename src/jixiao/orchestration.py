"""Running the DAGs locally: a project-local Airflow with SQLite metadata (本地编排).

``make demo``, ``make airflow`` and the end-to-end tests all take their Airflow settings from
``airflow_env`` so the three never drift apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from jixiao.config import PROJECT_ROOT, Settings

WAREHOUSE_POOL = "jixiao_warehouse"
"""One-slot pool shared by every task that writes the DuckDB warehouse (DuckDB 单写者)."""


def airflow_env(settings: Settings, airflow_home: Path | None = None) -> dict[str, str]:
    """Environment for an Airflow process that runs jixiao's DAGs on ``settings``."""
    home = airflow_home or (settings.home / "airflow")
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
            "JIXIAO_HOME": str(settings.home),
            # `airflow standalone` starts its components as `airflow ...` from PATH
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        }
    )
    return env


def _airflow(
    args: list[str], env: dict[str, str], check: bool = True, output: IO[str] | None = None
) -> int:
    exe = Path(sys.executable).with_name("airflow")
    cmd = [str(exe), *args]
    if output is not None:
        output.flush()
    proc = subprocess.run(
        cmd,
        env=env,
        check=False,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"airflow {' '.join(args)} 失败 / failed with exit code {proc.returncode}"
        )
    return proc.returncode


def init_airflow(
    settings: Settings, airflow_home: Path | None = None, output: IO[str] | None = None
) -> dict[str, str]:
    """Migrate the SQLite metadata database and create the warehouse pool (初始化 Airflow).

    ``output``: where Airflow's own output goes (e.g. the demo's log file); default the console.
    """
    env = airflow_env(settings, airflow_home)
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    _airflow(["db", "migrate"], env, output=output)
    _airflow(
        ["pools", "set", WAREHOUSE_POOL, "1", "DuckDB allows one writer / DuckDB 仅允许单写者"],
        env,
        output=output,
    )
    return env


def dags_test(
    dag_id: str,
    settings: Settings,
    conf: dict[str, object] | None = None,
    airflow_home: Path | None = None,
    output: IO[str] | None = None,
) -> int:
    """Run one DAG run through Airflow (`airflow dags test`), returning the exit code.

    ``output``: where the run's log lines go (e.g. the demo's log file); default the console.
    """
    env = airflow_env(settings, airflow_home)
    args = ["dags", "test", dag_id]
    if conf:
        args += ["-c", json.dumps(conf)]
    return _airflow(args, env, check=False, output=output)
