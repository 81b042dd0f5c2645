"""``jixiao validate``: run a Great Expectations gate (质量校验)."""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json, run_or_exit


def validate(
    gate: str = typer.Option("marts", help="raw | marts"),
    report: bool = typer.Option(True, help="Also rebuild the quality report"),
) -> None:
    """Run the raw or mart quality gate; exit 1 when a critical expectation fails."""
    from jixiao import pipeline

    if gate not in ("raw", "marts"):
        typer.secho(f"未知闸门 / unknown gate: {gate} (expected raw | marts)", fg="red", err=True)
        raise typer.Exit(2)
    fn = pipeline.gate_raw if gate == "raw" else pipeline.gate_marts
    try:
        echo_json(run_or_exit(fn))
    finally:
        if report:
            typer.echo(f"质量报告 / quality report: {pipeline.quality_report()}")
