"""``jixiao build``: run dbt (seed, models, tests) on the warehouse (构建).

Exit codes: 0 built, 2 a dbt data test refused the data, 1 failed (see :mod:`jixiao.cli._exit`).
"""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json
from jixiao.cli._exit import run_with_exit_codes


def build() -> None:
    """dbt build against the working warehouse (dbt 构建)."""
    from jixiao import pipeline, runs

    run_id = runs.new_run_id()
    echo_json(run_with_exit_codes(lambda: pipeline.dbt_build(run_id=run_id)))
    typer.echo("dbt build 完成 / done")
