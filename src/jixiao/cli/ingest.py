"""``jixiao ingest``: load new and changed workbooks from the inbox (载入).

Exit status (退出码): 0 every new file loaded (files still being written are left for the next
run and counted, not failed); 3 some files were quarantined, the others loaded; 1 the run
failed (nothing after the failure was loaded).
"""

from __future__ import annotations

from pathlib import Path

import typer

from jixiao.cli._common import echo_json, run_or_exit

EXIT_QUARANTINED = 3


def ingest(
    files: list[Path] = typer.Argument(None, help="Files to load; default: new/changed in inbox"),
) -> None:
    """Load workbooks into the raw schema; bad files go to quarantine (载入与隔离).

    Exit 0: all new files loaded; 3: some quarantined (see the quality report); 1: failed.
    """
    from jixiao import pipeline

    def go() -> dict[str, object]:
        paths = [str(f) for f in files] if files else pipeline.discover()
        return pipeline.ingest(paths)

    result = run_or_exit(go)
    echo_json({k: v for k, v in result.items() if k != "files"})
    typer.echo(
        f"载入 {result.get('files_loaded', 0)} 个、隔离 {result.get('files_quarantined', 0)} 个、"
        f"未变 {result.get('files_skipped_unchanged', 0)} 个、重复 "
        f"{result.get('files_duplicate', 0)} 个、仍在写入（下次再载） "
        f"{result.get('files_skipped_unstable', 0)} 个 / loaded {result.get('files_loaded', 0)}, "
        f"quarantined {result.get('files_quarantined', 0)}, unchanged "
        f"{result.get('files_skipped_unchanged', 0)}, duplicate {result.get('files_duplicate', 0)}"
        f", still being written (next run) {result.get('files_skipped_unstable', 0)}"
    )
    if result.get("files_quarantined"):
        typer.secho("有文件被隔离，详见质量报告 / some files were quarantined", fg="yellow")
        raise typer.Exit(EXIT_QUARANTINED)
