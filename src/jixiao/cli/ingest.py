"""``jixiao ingest``: load new and changed workbooks from the inbox (载入)."""

from __future__ import annotations

from pathlib import Path

import typer

from jixiao.cli._common import echo_json, run_or_exit


def ingest(
    files: list[Path] = typer.Argument(None, help="Files to load; default: new/changed in inbox"),
) -> None:
    """Load workbooks into the raw schema; bad files go to quarantine (载入与隔离)."""
    from jixiao import pipeline

    def go() -> dict[str, object]:
        paths = [str(f) for f in files] if files else pipeline.discover()
        return pipeline.ingest(paths)

    result = run_or_exit(go)
    echo_json({k: v for k, v in result.items() if k != "files"})
    if result.get("files_quarantined"):
        typer.secho("有文件被隔离，详见质量报告 / some files were quarantined", fg="yellow")
