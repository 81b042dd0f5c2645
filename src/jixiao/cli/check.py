"""``jixiao check FILE...``: check workbooks before submitting them (报送前自查).

Runs the nightly's detection, parsing, plausibility checks and scoring preview on a scratch
copy (the warehouse is never touched) and writes each file's feedback workbook and CSV.

Exit status (退出码): 0 no errors (warnings may remain); 3 errors found: fix them before
submitting; 1 the check itself failed (e.g. a file not found).
"""

from __future__ import annotations

from pathlib import Path

import typer

from jixiao.cli._common import echo_json, run_or_exit

EXIT_ERRORS = 3


def check(
    files: list[Path] = typer.Argument(..., help="Workbooks to check / 待检查的工作簿"),
    out: Path = typer.Option(
        Path("jixiao-check"), "--out", "-o", help="Where the feedback goes / 反馈表输出目录"
    ),
    score: bool = typer.Option(
        True, "--score/--no-score", help="Also recompute scores and review flags / 预览复核得分"
    ),
) -> None:
    """Check workbooks as the nightly would, without touching the warehouse (报送前自查)."""
    from jixiao.check import check_files

    result = run_or_exit(lambda: check_files(files, out, score=score))
    echo_json(result.to_dict())
    for f in result.files:
        mark = "需修改 / fix" if f.errors else "可报送 / ready"
        typer.echo(
            f"{mark}: {f.file} — 错误 {f.errors} 个、提示 {f.warnings} 个 / {f.errors} error(s), "
            f"{f.warnings} warning(s); 反馈表 feedback: {f.xlsx}"
        )
    if result.build_problem:
        typer.secho(
            "复核计算发现数据问题（见上） / the scoring preview found data problems (above)",
            fg="yellow",
        )
    if result.errors:
        raise typer.Exit(EXIT_ERRORS)
