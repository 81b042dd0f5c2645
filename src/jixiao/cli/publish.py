"""``jixiao publish``: publish the marts for BI, or roll back (发布/回滚)."""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json, run_or_exit


def publish(
    rollback: bool = typer.Option(False, "--rollback", help="Restore the previous version"),
) -> None:
    """Atomically publish the validated marts (or restore the previous version)."""
    from jixiao import pipeline
    from jixiao.config import get_settings

    if rollback:
        from jixiao.publish.publisher import rollback as _rollback

        echo_json(run_or_exit(lambda: _rollback(get_settings().ensure()).to_dict()))
        typer.echo("已回滚 / rolled back")
        return
    echo_json(run_or_exit(pipeline.publish))
