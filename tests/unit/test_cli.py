"""The `jixiao` command line: thin commands, clear messages and exit codes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from jixiao.cli.main import app
from jixiao.config import Settings

runner = CliRunner()


def test_template_writes_the_canonical_workbook(tmp_path: Path) -> None:
    out = tmp_path / "模板.xlsx"
    result = runner.invoke(app, ["template", str(out)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert {"项目登记", "预算", "支付"} <= set(wb.sheetnames)


def test_report_is_refused_before_any_gate_ran(settings: Settings) -> None:
    result = runner.invoke(app, ["report", "--year", "2023"])
    assert result.exit_code == 1
    assert "拒绝生成年度报告" in result.output and "refused" in result.output
    assert not list(settings.reports.rglob("*.xlsx"))


def test_unknown_gate_is_a_usage_error(settings: Settings) -> None:
    result = runner.invoke(app, ["validate", "--gate", "bogus", "--no-report"])
    assert result.exit_code == 2
    assert "unknown gate" in result.output


def test_rollback_without_a_previous_version_says_so(settings: Settings) -> None:
    result = runner.invoke(app, ["publish", "--rollback"])
    assert result.exit_code == 1
    assert result.output.strip()


def test_ingest_of_an_empty_inbox_loads_nothing(settings: Settings) -> None:
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 0, result.output
    assert '"files_loaded": 0' in result.output


def test_version_prints_the_package_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"jixiao {version('jixiao')}"
    assert version("jixiao") in result.output


# A stand-in for `airflow dags test` that talks the way the real run does: a child process
# prints library chatter (GX, fontTools, dbt, Airflow task lines) and the pipeline's stages
# are recorded through jixiao.runs, with a gate result holding one warning.
_CHATTY_CHILD = """
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
for i in range(50):
    print(f"[2026-12-02T08:00:00] {{dag.py:1}} INFO - Skipping registering function {i}")
logging.getLogger("fontTools.subset").info("subsetting 42 glyphs")
print("08:00:01  Running with dbt=1.11.0")
"""


def _fake_dags_test(dag_id: str, settings: Settings, conf=None, output=None):  # type: ignore[no-untyped-def]
    import json
    import subprocess
    import sys

    from jixiao import runs

    assert output is not None, "the demo must send Airflow's output to its log"
    output.flush()
    subprocess.run(
        [sys.executable, "-c", _CHATTY_CHILD], stdout=output, stderr=subprocess.STDOUT, check=True
    )
    if dag_id == "jixiao_nightly":
        for stage, summary in (
            ("ingest", "files_loaded=5, files_quarantined=0, rows_loaded=2149, rows_rejected=0"),
            ("gate_raw", "关键失败 critical 0 · 警告 warnings 1"),
        ):
            with runs.stage(settings, "manual__demo", stage) as info:
                info["summary"] = summary
        gates = settings.quality / "gates"
        gates.mkdir(parents=True, exist_ok=True)
        warning = {
            "severity": "warning",
            "notes_zh": "category 取值须在已知列表中",
            "notes_en": "category must be a known value",
            "unexpected_count": 37,
        }
        (gates / "raw.json").write_text(
            json.dumps(
                {
                    "gate": "raw",
                    "year": None,
                    "success": True,
                    "critical_failure_count": 0,
                    "warning_count": 1,
                    "suites": [{"suite": "raw__projects", "failures": [warning]}],
                }
            ),
            encoding="utf-8",
        )
    return 0


def test_demo_console_shows_stages_and_summary_not_the_chatter(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jixiao.orchestration as orchestration
    from jixiao.cli import demo as demo_cmd

    monkeypatch.setattr(orchestration, "init_airflow", lambda s, output=None: {})
    monkeypatch.setattr(orchestration, "dags_test", _fake_dags_test)
    result = runner.invoke(app, ["demo", "--year", "2023"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Skipping registering function" not in out
    assert "subsetting" not in out and "Running with dbt" not in out and "INFO" not in out
    assert "files_loaded" not in out
    # a timed line per stage, the nightly's recorded stages with Chinese labels
    for label in (
        "样例工作簿",
        "载入 Ingest",
        "原始层闸门 Raw gate",
        "年度报告 yearly report 2023",
    ):
        assert any(label in line and " s" in line for line in out.splitlines()), (label, out)
    assert "已载入文件 files loaded 5 · 载入行数 rows loaded 2149" in out
    # the summary: each gate with its result and warnings, the warning named, the log named
    assert "== jixiao 运行摘要 / summary ==" in out
    gate = next(line for line in out.splitlines() if "原始层闸门 raw gate" in line)
    assert "通过 passed" in gate and "警告 warnings 1" in gate
    assert "category must be a known value (37 行 rows)" in out
    log = demo_cmd.log_path(settings.home)
    assert f"日志 log (Airflow, dbt, GX): {log}" in out
    text = log.read_text(encoding="utf-8")
    assert text.count("Skipping registering function") == 100  # nightly + one report year
    assert "subsetting 42 glyphs" in text and "Running with dbt" in text
