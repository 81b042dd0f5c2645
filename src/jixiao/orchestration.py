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
"""One-slot pool shared by every task that opens the DuckDB warehouse file (DuckDB 单写者)."""

#: engines whose warehouse is one process's at a time: the DuckDB file (one writer or many
#: readers, never both) and Spark's local session (its Derby metastore admits one process)
SINGLE_WRITER_ENGINES = ("duckdb", "spark")


def build_pool() -> str | None:
    """The pool of the tasks whose work is in the warehouse engine (构建任务的池): the nightly's
    ``dbt_build`` and ``gate_marts``.

    :data:`WAREHOUSE_POOL` (one slot) on DuckDB and Spark; ``None`` (Airflow's default pool) on
    PostgreSQL, a server that many sessions read and write at once (MVCC), so neither the
    build nor the validation of the server's marts needs a warehouse of its own. Read from
    ``JIXIAO_WAREHOUSE`` when the DAG file is parsed: the dag-processor must see the engine the
    workers use (docker-compose gives every service the same). An unknown engine is refused
    in Chinese and English (:attr:`jixiao.config.Settings.warehouse_engine`, which reads only
    the environment: no file is touched at parse time).
    """
    engine = Settings(PROJECT_ROOT).warehouse_engine
    return WAREHOUSE_POOL if engine in SINGLE_WRITER_ENGINES else None


PASSWORDS_FILE = "simple_auth_manager_passwords.json.generated"
"""Where ``airflow standalone`` writes the generated admin password, under AIRFLOW_HOME."""


def api_address(environ: dict[str, str] | None = None) -> tuple[str, int]:
    """The api-server's host and port (Airflow 网页与 API 地址): ``JIXIAO_AIRFLOW_HOST`` /
    ``JIXIAO_AIRFLOW_PORT``, default 127.0.0.1:8080, so that the local UI is not open to the
    network unless the operator says so (``JIXIAO_AIRFLOW_HOST=0.0.0.0``)."""
    environ = dict(os.environ) if environ is None else environ
    host = environ.get("JIXIAO_AIRFLOW_HOST", "").strip() or "127.0.0.1"
    raw = environ.get("JIXIAO_AIRFLOW_PORT", "").strip() or "8080"
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(
            f"JIXIAO_AIRFLOW_PORT={raw!r} 不是有效端口（1-65535） / is not a port (1-65535)"
        )
    return host, int(raw)


def airflow_env(settings: Settings, airflow_home: Path | None = None) -> dict[str, str]:
    """Environment for an Airflow process that runs jixiao's DAGs on ``settings``.

    The api-server listens on :func:`api_address` (127.0.0.1 unless told otherwise); an
    ``AIRFLOW__API__*`` or ``AIRFLOW__CORE__EXECUTION_API_SERVER_URL`` already in the environment
    wins. The generated admin password goes to ``<AIRFLOW_HOME>/`` :data:`PASSWORDS_FILE`.
    """
    home = airflow_home or (settings.home / "airflow")
    env = dict(os.environ)
    host, port = api_address(env)
    every_interface = host in ("0.0.0.0", "::")  # noqa: S104 - compared, not bound
    local = "127.0.0.1" if every_interface else host
    defaults = {
        "AIRFLOW__API__HOST": host,
        "AIRFLOW__API__PORT": str(port),
        # tasks reach the execution API on this machine whichever interface the UI listens on
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{local}:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / PASSWORDS_FILE),
    }
    if not every_interface:  # listening on every interface, the browser's address is unknown
        defaults["AIRFLOW__API__BASE_URL"] = f"http://{local}:{port}"
    for key, value in defaults.items():
        env.setdefault(key, value)
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
