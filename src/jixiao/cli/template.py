"""``jixiao template``: write the canonical submission workbook (标准模板)."""

from __future__ import annotations

from pathlib import Path

import typer


def template(
    path: Path = typer.Argument(Path("jixiao-template.xlsx"), help="Where to write the workbook"),
) -> None:
    """Write the canonical workbook departments fill in (写出标准填报模板)."""
    from jixiao.ingest.template import write_template

    out = write_template(path)
    typer.echo(f"模板已写出 / template written: {out}")
