"""``jixiao airflow ...``: run the Airflow CLI on this project's local setup (本地 Airflow)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer


def airflow(ctx: typer.Context) -> None:
    """Pass arguments to ``airflow`` with jixiao's AIRFLOW_HOME, DAGs folder and pool.

    Example: ``jixiao airflow standalone`` (web UI on http://localhost:8080).
    """
    from jixiao.config import get_settings
    from jixiao.orchestration import init_airflow

    settings = get_settings().ensure()
    env = init_airflow(settings)
    exe = str(Path(sys.executable).with_name("airflow"))
    os.execve(exe, [exe, *ctx.args], env)  # noqa: S606 - fixed executable
