"""``jixiao feedback``: feedback workbooks for the submitting departments (报送反馈表)."""

from __future__ import annotations

import json

import typer

from jixiao.cli._common import echo_json, run_or_exit


def feedback() -> None:
    """Write one feedback workbook and CSV per received file, and feedback/index.json."""
    from jixiao.config import get_settings
    from jixiao.reports.feedback import INDEX_NAME, write_feedback

    settings = get_settings().ensure()
    run_or_exit(lambda: write_feedback(settings))
    index = settings.feedback / INDEX_NAME
    entries = json.loads(index.read_text(encoding="utf-8"))
    echo_json(
        {
            "feedback_dir": str(settings.feedback),
            "index": str(index),
            "files": len(entries),
            "errors": sum(e["errors"] for e in entries),
            "warnings": sum(e["warnings"] for e in entries),
            "workbooks": [str(settings.home / e["xlsx"]) for e in entries],
        }
    )
    typer.echo(f"反馈表已写入 / feedback written to: {settings.feedback}")
