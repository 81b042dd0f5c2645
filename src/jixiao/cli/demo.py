"""``jixiao demo``: the whole job end to end on the sample workbooks (演示).

Builds the sample departmental workbooks into the inbox, runs ``jixiao_nightly`` and then
``jixiao_yearly_report`` for each of :data:`DEMO_YEARS` through Airflow (``airflow dags
test``, SQLite metadata in a project-local AIRFLOW_HOME) and prints what came out.
"""

from __future__ import annotations

import typer

from jixiao.cli._common import echo_json

DEMO_YEARS = (2021, 2022, 2023)
"""Years the demo reports: Dongguan's evaluation (2019-2021), Yichun's 自评表 (2022), and
Jiangmen's and Xinfeng's 2023 submissions, so each sample department gets its yearly report."""


def _print_summary(data: dict[str, object]) -> None:
    files = data.get("files") or {}
    marts = data.get("marts") or {}
    typer.echo("")
    typer.secho("== jixiao 运行摘要 / summary ==", bold=True)
    typer.echo("文件与行 files and rows (载入 loaded / 未变跳过 skipped / 隔离 quarantined):")
    for name, count in files.items() if isinstance(files, dict) else []:
        typer.echo(f"  {name:40s} {count:>8}")
    typer.echo("集市行数 rows per mart:")
    for name, count in marts.items() if isinstance(marts, dict) else []:
        typer.echo(f"  {name:40s} {count:>8}")
    typer.echo(f"工作库 warehouse:      {data['warehouse']}")
    typer.echo(f"发布库 published (BI): {data['published']}")
    typer.echo(f"年度报告 reports:      {data['reports']}")
    typer.echo(f"质量报告 quality:      {data['quality_report']}")


def summary(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Print files loaded/quarantined, rows per mart and where outputs are (运行摘要)."""
    from jixiao import pipeline

    data = pipeline.summary()
    if as_json:
        echo_json(data)
    else:
        _print_summary(data)


def demo(
    year: int | None = typer.Option(
        None, help="Year for the yearly report (default: 2021, 2022 and 2023) / 报告年度"
    ),
) -> None:
    """Sample workbooks -> Airflow nightly DAG -> yearly report DAG per year -> summary."""
    from jixiao import pipeline
    from jixiao.config import get_settings
    from jixiao.orchestration import dags_test, init_airflow
    from jixiao.samples.demo import build_demo_inbox

    settings = get_settings().ensure()
    written = build_demo_inbox(settings.inbox)
    typer.echo(f"样例工作簿 sample workbooks: {len(written)} -> {settings.inbox}")
    init_airflow(settings)
    failed = []
    runs: list[tuple[str, dict[str, object] | None]] = [("jixiao_nightly", None)]
    runs += [("jixiao_yearly_report", {"year": y}) for y in ([year] if year else DEMO_YEARS)]
    for dag_id, conf in runs:
        typer.secho(f"-- airflow dags test {dag_id} {conf or ''}", bold=True)
        if dags_test(dag_id, settings, conf=conf) != 0:
            failed.append(dag_id)
    _print_summary(pipeline.summary(settings))
    if failed:
        typer.secho(f"失败的 DAG / failed DAGs: {failed}", fg="red", err=True)
        raise typer.Exit(1)
