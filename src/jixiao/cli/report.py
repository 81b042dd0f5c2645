"""``jixiao report``: the yearly reports for one year (年度报告)."""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json, run_or_exit


def report(
    year: int = typer.Option(..., "--year", help="Fiscal year / 评价年度"),
    department: str = typer.Option(None, "--department", help="主管部门 (optional)"),
) -> None:
    """Build the yearly reports; refused unless the year's mart gate passed."""
    from jixiao import pipeline

    echo_json(run_or_exit(lambda: pipeline.yearly_report(year, department=department)))
