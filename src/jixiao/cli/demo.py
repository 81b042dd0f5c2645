"""``jixiao demo``: the whole job end to end on the sample workbooks (演示).

Builds the sample departmental workbooks into the inbox, runs ``jixiao_nightly`` and then
``jixiao_yearly_report`` for each of :data:`DEMO_YEARS` through Airflow (``airflow dags
test``, SQLite metadata in a project-local AIRFLOW_HOME) and prints what came out.

The console gets one short line per stage with its time (the nightly's stages as they finish,
read from the run's stage record) and a bilingual summary at the end, with each quality gate's
result and warnings. Everything the libraries say (Airflow's and dbt's log lines, Great
Expectations, fontTools) goes to ``<JIXIAO_HOME>/logs/demo.log``, which the summary names.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import typer

from jixiao.cli._common import echo_json

DEMO_YEARS = (2021, 2022, 2023)
"""Years the demo reports: Dongguan's evaluation (2019-2021), Yichun's 自评表 (2022), and
Jiangmen's and Xinfeng's 2023 submissions, so each sample department gets its yearly report."""

LOG_NAME = "demo.log"
"""The demo's log file under ``<JIXIAO_HOME>/logs/`` (演示日志)."""

#: Chinese labels of the keys ``pipeline.summary`` reports for files and rows (文件与行).
FILE_LABELS: dict[str, str] = {
    "files_loaded": "已载入文件 files loaded",
    "files_skipped_unchanged": "未变跳过 unchanged, skipped",
    "files_duplicate": "重复文件 duplicates",
    "files_quarantined": "隔离文件 quarantined",
    "files_skipped_unstable": "未写完跳过 still being written",
    "rows_loaded": "载入行数 rows loaded",
    "rows_rejected": "拒收行数 rows rejected",
}
#: The marts the summary counts rows of, with their Chinese labels (主要集市).
MART_LABELS: dict[str, str] = {
    "mart_project_year": "项目年度 project-years",
    "mart_department_year": "部门年度 department-years",
    "mart_review_flags": "复核提示 review flags",
}
#: Chinese labels of the quality gates (质量闸门), by gate name.
GATE_LABELS: dict[str, str] = {"raw": "原始层闸门 raw gate", "marts": "集市层闸门 marts gate"}
#: Status words of a stage record, in Chinese and English (阶段状态).
STATUS_LABELS: dict[str, str] = {
    "passed": "通过 passed",
    "failed": "失败 FAILED",
    "skipped": "跳过 skipped",
    "warning": "部分失败 warning",
    "running": "运行中 running",
    "not run": "未运行 not run",
}


def log_path(home: Path) -> Path:
    """``<JIXIAO_HOME>/logs/demo.log`` (演示日志文件)."""
    return home / "logs" / LOG_NAME


# --------------------------------------------------------------------------- console


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns; CJK characters take two (按显示宽度补齐)."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - shown)


def _line(label: str, seconds: float, note: str = "") -> None:
    """One progress line: ``  label        12.3 s  note`` (进度行)."""
    tail = f"  {note}" if note else ""
    typer.echo(f"  {_pad(label, 36)}{seconds:>6.1f} s{tail}")


def readable_summary(text: str) -> str:
    """A stage summary with ``key=value`` counts shown under their Chinese labels (可读摘要).

    ``files_loaded=5, rows_loaded=2149, files_quarantined=0`` -> ``已载入文件 files loaded 5 ·
    载入行数 rows loaded 2149``; zero counts are left out, other text is kept as it is.
    """
    pairs = re.findall(r"(\w+)=(\d+)", text)
    if not pairs or re.sub(r"[\w=,\s]", "", text):
        return text
    shown = [f"{FILE_LABELS.get(k, k)} {v}" for k, v in pairs if v != "0" and k != "rows_read"]
    return " · ".join(shown) or text


@contextlib.contextmanager
def _timed(label: str) -> Iterator[dict[str, str]]:
    """Time the body and print its line; the body may set ``note`` (计时的阶段)."""
    started = time.monotonic()
    info: dict[str, str] = {}
    yield info
    _line(label, time.monotonic() - started, info.get("note", ""))


def _seconds(entry: dict[str, Any]) -> float:
    try:
        start = datetime.fromisoformat(str(entry["started_at"]))
        end = datetime.fromisoformat(str(entry["ended_at"]))
    except (KeyError, TypeError, ValueError):
        return 0.0
    return max(0.0, (end - start).total_seconds())


def _watch_stages(runs_dir: Path, since: float, stop: threading.Event, printed: set[str]) -> None:
    """Print each nightly stage once it has finished, from the run records (阶段进度).

    Only records written after ``since`` (this demo's run) count.
    """
    from jixiao import runs

    while True:
        done = stop.wait(0.5)
        records = []
        for path in runs_dir.glob(f"*{runs.RUN_FILE_SUFFIX}"):
            try:
                if path.stat().st_mtime >= since:
                    records.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        for record in records:
            for row in runs.stage_rows(record):
                key = f"{record.get('run_id')}:{row['stage']}"
                if row["status"] in ("running", runs.NOT_RUN) or key in printed:
                    continue
                printed.add(key)
                status = STATUS_LABELS.get(row["status"], row["status"])
                summary = readable_summary(str(row.get("summary") or row.get("error") or ""))
                note = f"{status}  {summary}" if summary else status
                _line(f"  {row['label']}", _seconds(row), note[:120])
        if done:
            return


def _run_dag(
    dag_id: str,
    settings: Any,
    conf: dict[str, object] | None,
    log: IO[str],
    *,
    watch: bool = False,
) -> int:
    """``airflow dags test`` with its output in the log; the stages printed as they end."""
    from jixiao.orchestration import dags_test

    log.write(
        f"\n===== {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} airflow dags test {dag_id} "
        f"{json.dumps(conf) if conf else ''}\n"
    )
    if not watch:
        return dags_test(dag_id, settings, conf=conf, output=log)
    stop, printed = threading.Event(), set[str]()
    watcher = threading.Thread(
        target=_watch_stages, args=(settings.runs, time.time() - 1, stop, printed), daemon=True
    )
    watcher.start()
    try:
        return dags_test(dag_id, settings, conf=conf, output=log)
    finally:
        stop.set()
        watcher.join(timeout=10)


# --------------------------------------------------------------------------- summary


def gate_results(quality_dir: Path) -> list[dict[str, Any]]:
    """Every gate's last result in ``quality/gates/*.json``, raw and marts first (闸门结果)."""
    out = []
    for path in sorted((quality_dir / "gates").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        gate, year = str(data.get("gate") or path.stem), data.get("year")
        label = GATE_LABELS.get(gate, gate)
        out.append(
            {
                "label": f"{label} {year}" if year is not None else label,
                "order": (0 if year is None else 1, gate != "raw", year or 0),
                "success": bool(data.get("success")),
                "critical": int(data.get("critical_failure_count") or 0),
                "warnings": int(data.get("warning_count") or 0),
                "warned": [
                    f"{f.get('suite', suite.get('suite', ''))}: {f.get('notes_zh', '')} / "
                    f"{f.get('notes_en', '')} ({f.get('unexpected_count', '?')} 行 rows)"
                    for suite in data.get("suites") or []
                    if isinstance(suite, dict)
                    for f in suite.get("failures") or []
                    if isinstance(f, dict) and f.get("severity") == "warning"
                ],
            }
        )
    return sorted(out, key=lambda g: g["order"])


def _report_files(reports: Path) -> dict[str, int]:
    if not reports.is_dir():
        return {}
    return {
        d.name: sum(1 for f in d.rglob("*") if f.is_file())
        for d in sorted(reports.iterdir())
        if d.is_dir() and d.name.isdigit()
    }


def _print_summary(
    data: dict[str, Any], quality_dir: Path | None = None, log: Path | None = None
) -> None:
    """The bilingual summary: files, gates, marts, reports and where everything is (摘要)."""
    files = data.get("files") or {}
    marts = data.get("marts") or {}
    typer.echo("")
    typer.secho("== jixiao 运行摘要 / summary ==", bold=True)
    if isinstance(files, dict) and files:
        typer.echo("文件与行 files and rows:")
        for key, count in files.items():
            typer.echo(f"  {_pad(FILE_LABELS.get(str(key), str(key)), 36)}{count:>8}")
    gates = gate_results(quality_dir) if quality_dir is not None else []
    if gates:
        typer.echo("质量闸门 quality gates:")
        for g in gates:
            verdict = "通过 passed" if g["success"] else "未通过 FAILED"
            typer.echo(
                f"  {_pad(g['label'], 36)}{verdict} · 关键失败 critical {g['critical']} · "
                f"警告 warnings {g['warnings']}"
            )
            for text in g["warned"]:
                typer.echo(f"    警告 warning  {text}")
        warned = sum(g["warnings"] for g in gates)
        if warned:
            typer.echo(
                f"  警告不阻止发布，明细见质量报告 / {warned} warning(s) do not block publishing; "
                "see the quality report"
            )
    if isinstance(marts, dict) and marts:
        rows = sum(int(v) for v in marts.values())
        typer.echo(f"集市 marts: {len(marts)} 张表 tables · {rows} 行 rows")
        for name, label in MART_LABELS.items():
            if name in marts:
                typer.echo(f"  {_pad(label, 36)}{marts[name]:>8}")
    per_year = _report_files(Path(str(data.get("reports", ""))))
    if per_year:
        typer.echo(
            "年度报告 reports:"
            + "".join(f"  {y} 年 {n} 个文件 files ·" for y, n in per_year.items()).rstrip(" ·")
        )
    typer.echo(f"工作库 warehouse:      {data['warehouse']}")
    typer.echo(f"发布库 published (BI): {data['published']}")
    typer.echo(f"年度报告 reports:      {data['reports']}")
    typer.echo(f"质量报告 quality:      {data['quality_report']}")
    if log is not None:
        typer.echo(f"日志 log (Airflow, dbt, GX): {log}")


def summary(as_json: bool = typer.Option(False, "--json", help="Print JSON")) -> None:
    """Print files loaded/quarantined, rows per mart and where outputs are (运行摘要)."""
    from jixiao import pipeline
    from jixiao.config import get_settings

    data = pipeline.summary()
    if as_json:
        echo_json(data)
    else:
        _print_summary(data, get_settings().quality)


# --------------------------------------------------------------------------- demo


def demo(
    year: int | None = typer.Option(
        None, help="Year for the yearly report (default: 2021, 2022 and 2023) / 报告年度"
    ),
) -> None:
    """Sample workbooks -> Airflow nightly DAG -> yearly report DAG per year -> summary."""
    from jixiao import pipeline
    from jixiao.config import get_settings
    from jixiao.orchestration import init_airflow
    from jixiao.samples.demo import build_demo_inbox

    started = time.monotonic()
    settings = get_settings().ensure()
    log_file = log_path(settings.home)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    typer.secho("jixiao 演示 / demo", bold=True)
    typer.echo(f"  日志 log: {log_file}")
    failed: list[str] = []
    with log_file.open("w", encoding="utf-8") as log:
        log.write(f"jixiao demo {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} home {settings.home}\n")
        with _timed("样例工作簿 sample workbooks") as t:
            t["note"] = f"{len(build_demo_inbox(settings.inbox))} 个 files"
        with _timed("Airflow 初始化 init (SQLite)"):
            init_airflow(settings, output=log)
        typer.echo("  夜间 DAG jixiao_nightly …")
        with _timed("夜间 DAG nightly") as t:
            code = _run_dag("jixiao_nightly", settings, None, log, watch=True)
            t["note"] = "完成 done" if code == 0 else "失败 FAILED"
        if code != 0:
            failed.append("jixiao_nightly")
        for y in [year] if year else DEMO_YEARS:
            with _timed(f"年度报告 yearly report {y}") as t:
                code = _run_dag("jixiao_yearly_report", settings, {"year": y}, log)
                t["note"] = "完成 done" if code == 0 else "失败 FAILED"
            if code != 0:
                failed.append(f"jixiao_yearly_report {y}")
    _print_summary(pipeline.summary(settings), settings.quality, log_file)
    typer.echo(f"总耗时 total: {time.monotonic() - started:.0f} s")
    if failed:
        typer.secho(
            f"失败的 DAG / failed DAGs: {', '.join(failed)}（详见日志 / see {log_file}）",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)
