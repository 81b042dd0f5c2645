"""Shared bits for CLI commands: printing results and turning errors into exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from jixiao.errors import JixiaoError

T = TypeVar("T")


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def run_or_exit(fn: Callable[[], T]) -> T:
    """Run ``fn``; a jixiao error prints its message and exits 1 (出错时退出码为 1)."""
    try:
        return fn()
    except JixiaoError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
