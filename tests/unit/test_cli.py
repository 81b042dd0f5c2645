"""The `jixiao` command line: thin commands, clear messages and exit codes."""

from __future__ import annotations

from pathlib import Path

import openpyxl
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
