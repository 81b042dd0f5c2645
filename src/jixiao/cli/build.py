"""``jixiao build``: run dbt (seed, models, tests) on the warehouse (构建)."""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json, run_or_exit


def build() -> None:
    """dbt build against the working warehouse (dbt 构建)."""
    from jixiao import pipeline

    echo_json(run_or_exit(pipeline.dbt_build))
    typer.echo("dbt build 完成 / done")
