"""``jixiao airflow ...``: run the Airflow CLI on this project's local setup (本地 Airflow)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer


def airflow(ctx: typer.Context) -> None:
    """Pass arguments to ``airflow`` with jixiao's AIRFLOW_HOME, DAGs folder and pool.

    Example: ``jixiao airflow standalone`` (web UI on http://127.0.0.1:8080; set
    JIXIAO_AIRFLOW_HOST / JIXIAO_AIRFLOW_PORT to change it).
    """
    from jixiao.config import get_settings
    from jixiao.orchestration import init_airflow

    settings = get_settings().ensure()
    env = init_airflow(settings)
    if ctx.args[:1] in (["standalone"], ["api-server"]):
        typer.echo(standalone_banner(env), err=True)
    exe = str(Path(sys.executable).with_name("airflow"))
    os.execve(exe, [exe, *ctx.args], env)  # noqa: S606 - fixed executable


def standalone_banner(env: dict[str, str]) -> str:
    """Where the UI listens and where the admin password is (网页地址与管理员密码位置)."""
    host = env["AIRFLOW__API__HOST"]
    url = (
        env.get("AIRFLOW__API__BASE_URL")
        or f"http://<本机地址 this machine>:{env['AIRFLOW__API__PORT']}"
    )
    passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    exposed = (
        "仅本机可访问 / reachable from this machine only"
        if host in ("127.0.0.1", "localhost", "::1")
        else f"监听 {host}，网络中其他机器可访问 / listening on {host}, reachable from the network"
    )
    return (
        f"Airflow 网页 / web UI: {url} ({exposed}; JIXIAO_AIRFLOW_HOST / JIXIAO_AIRFLOW_PORT)\n"
        f"管理员 admin 的密码首次启动时生成，保存在 / the admin password is generated on first "
        f"start and kept in:\n  {passwords}"
    )
