"""``jixiao build``: run dbt (models and data tests; seeds when they changed) on the warehouse
(构建), as the nightly does: a changed dbt project rebuilds in full, the dbt unit tests are
left to the test suite. ``--full-refresh`` rebuilds everything and reloads the seeds.

Exit codes: 0 built, 2 a dbt data test refused the data, 1 failed (see :mod:`jixiao.cli._exit`).
"""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json
from jixiao.cli._exit import run_with_exit_codes


def build(
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="Rebuild every model and reload the seeds / 全量重建"
    ),
) -> None:
    """dbt build against the working warehouse (dbt 构建)."""
    from jixiao import pipeline, runs

    run_id = runs.new_run_id()
    echo_json(
        run_with_exit_codes(lambda: pipeline.dbt_build(run_id=run_id, full_refresh=full_refresh))
    )
    typer.echo("dbt build 完成 / done")
