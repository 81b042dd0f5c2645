"""``jixiao report``: the yearly reports for one year (年度报告)."""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json, run_or_exit


def report(
    year: int = typer.Option(..., "--year", help="Fiscal year / 评价年度"),
    department: str = typer.Option(None, "--department", help="主管部门 (optional)"),
    unit: str = typer.Option(
        "wan", "--unit", help="Money unit of the department/region reports: wan (万元) or yuan (元)"
    ),
) -> None:
    """Build the yearly reports; refused unless the year's mart gate passed.

    Prints the written files as JSON. Without headless Chromium the HTML and xlsx reports are
    still written and a bilingual note on stderr says that no PDF was produced and how to fix.
    """
    from jixiao import pipeline
    from jixiao.config import get_settings
    from jixiao.reports import yearly

    if unit not in yearly.UNITS:
        typer.secho(
            f"--unit 只能是 wan（万元）或 yuan（元）/ --unit must be wan or yuan, got {unit!r}",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    echo_json(run_or_exit(lambda: pipeline.yearly_report(year, department=department, unit=unit)))
    notice = yearly.pdf_notice(get_settings(), year)
    if notice:
        typer.secho(notice, fg="yellow", err=True)
