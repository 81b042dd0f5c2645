"""``jixiao publish``: publish the marts for BI, or roll back (发布/回滚).

Exit codes: 0 published, 2 refused by the marts gate (see :mod:`jixiao.cli._exit`), 1 failed.
"""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json
from jixiao.cli._exit import run_with_exit_codes


def publish(
    rollback: bool = typer.Option(False, "--rollback", help="Restore the previous version"),
    override_gate: bool = typer.Option(
        False,
        "--override-gate",
        help="Publish although the marts gate did not pass on this data (needs --reason) / "
        "越过质量闸门发布（必须写明原因）",
    ),
    reason: str = typer.Option(
        "", "--reason", help="Why the gate is overridden; recorded with who and when / 原因"
    ),
) -> None:
    """Atomically publish the validated marts (or restore the previous version).

    Refused (exit 2) unless the last marts gate passed on exactly the warehouse's marts.
    """
    from jixiao import pipeline, runs
    from jixiao.config import get_settings

    if rollback:
        from jixiao.publish.publisher import rollback as _rollback

        echo_json(run_with_exit_codes(lambda: _rollback(get_settings().ensure()).to_dict()))
        typer.echo("已回滚 / rolled back")
        return
    if reason and not override_gate:
        typer.secho(
            "--reason 只与 --override-gate 一起使用 / --reason is only used with --override-gate",
            fg=typer.colors.YELLOW,
            err=True,
        )
    run_id = runs.new_run_id()
    echo_json(
        run_with_exit_codes(
            lambda: pipeline.publish(
                run_id=run_id, override_gate=override_gate, override_reason=reason
            )
        )
    )
