"""The ``jixiao`` command line (命令行). One module per command; each is thin."""

from __future__ import annotations

import typer

from jixiao.cli import airflow_cmd, build, check, demo, ingest, publish, report, template, validate
from jixiao.cli import feedback as feedback_cmd

app = typer.Typer(
    name="jixiao",
    help="jixiao (绩效): budget-performance data warehouse / 预算绩效评价数据仓库",
    no_args_is_help=True,
    add_completion=False,
)


def _version() -> str:
    """The installed jixiao version (版本号), as the package metadata records it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jixiao")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree only
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"jixiao {_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit / 显示版本号",
    ),
) -> None:
    """jixiao (绩效): budget-performance data warehouse / 预算绩效评价数据仓库"""


app.command("template")(template.template)
app.command("ingest")(ingest.ingest)
app.command("build")(build.build)
app.command("validate")(validate.validate)
app.command("publish")(publish.publish)
app.command("report")(report.report)
app.command("feedback")(feedback_cmd.feedback)
app.command("check")(check.check)
app.command("demo")(demo.demo)
app.command("summary")(demo.summary)
app.command(
    "airflow",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(airflow_cmd.airflow)

if __name__ == "__main__":  # pragma: no cover
    app()
