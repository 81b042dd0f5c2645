"""``jixiao validate``: run a Great Expectations gate (质量校验).

Exit codes: 0 passed, 2 a critical expectation failed, 1 failed to run (see
:mod:`jixiao.cli._exit`).
"""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json
from jixiao.cli._exit import run_with_exit_codes


def validate(
    gate: str = typer.Option("marts", help="raw | marts"),
    report: bool = typer.Option(True, help="Also rebuild the quality report"),
) -> None:
    """Run the raw or mart quality gate; exit 2 when a critical expectation fails."""
    from jixiao import pipeline, runs

    if gate not in ("raw", "marts"):
        typer.secho(f"未知闸门 / unknown gate: {gate} (expected raw | marts)", fg="red", err=True)
        raise typer.Exit(2)  # a usage error, as typer reports bad options
    fn = pipeline.gate_raw if gate == "raw" else pipeline.gate_marts
    run_id = runs.new_run_id()
    try:
        echo_json(run_with_exit_codes(lambda: fn(run_id=run_id)))
    finally:
        if report:
            typer.echo(f"质量报告 / quality report: {pipeline.quality_report(run_id=run_id)}")
