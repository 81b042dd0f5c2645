"""The ``jixiao`` command line (命令行). One module per command; each is thin."""

from __future__ import annotations

import typer

from jixiao.cli import airflow_cmd, build, demo, ingest, publish, report, template, validate
from jixiao.cli import feedback as feedback_cmd

app = typer.Typer(
    name="jixiao",
    help="jixiao (绩效): budget-performance data warehouse / 预算绩效评价数据仓库",
    no_args_is_help=True,
    add_completion=False,
)
app.command("template")(template.template)
app.command("ingest")(ingest.ingest)
app.command("build")(build.build)
app.command("validate")(validate.validate)
app.command("publish")(publish.publish)
app.command("report")(report.report)
app.command("feedback")(feedback_cmd.feedback)
app.command("demo")(demo.demo)
app.command("summary")(demo.summary)
app.command(
    "airflow",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(airflow_cmd.airflow)

if __name__ == "__main__":  # pragma: no cover
    app()
