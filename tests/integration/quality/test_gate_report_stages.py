"""The stewards' report shows every stage of the run it is about, honestly (各阶段如实呈现).

A night whose real ``dbt build`` fails (a failing dbt data test on bad raw data) must show
dbt as failed with the failing node named and the marts gate and publish as not run, and the
previous night's passed gate as an earlier result, not as this night's. Sample rows of a real
GX failure are readable Chinese. Feedback workbooks listed in ``feedback/index.json`` are
linked per department.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from tests.integration.quality import quality_data as data
from tests.integration.warehouse.raw_fixtures import RawData, RawFile, wan

from jixiao import pipeline
from jixiao.config import Settings
from jixiao.errors import QualityGateBlocked
from jixiao.quality.report import build_quality_report
from jixiao.warehouse.dbt import DbtBuildFailed


def _text(html: str) -> str:
    """The visible text of the page, tags removed, whitespace collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _stage_row(html: str, stage: str) -> str:
    match = re.search(rf'<tr data-stage="{stage}" data-status="([^"]+)">(.*?)</tr>', html, re.S)
    assert match, f"no row for stage {stage}"
    return f"{match.group(1)} | {_text(match.group(2))}"


def _unreconciled_budget(settings: Settings) -> None:
    """初始 100 万、压减 10 万、调整后却写 95 万: dbt's assert_budget_reconciles fails."""
    raw = RawData()
    f = RawFile("坏数据.xlsx", "ledger", datetime(2024, 5, 1))
    sid = raw.submission(f, "预算", "测试局", "BAD-1", "坏数据项目", 2023)
    for line_type, amount in [("initial", "100"), ("cut", "10"), ("final", "95")]:
        raw.row(
            "budget_lines",
            f,
            "预算",
            sid,
            project_key="BAD-1",
            fiscal_year=2023,
            line_type=line_type,
            fund_source="total",
            amount_yuan=wan(amount),
            original_text=amount,
            original_unit="万元",
            line_date=None,
            reason=None,
        )
    settings.warehouse.unlink(missing_ok=True)
    raw.write(settings.warehouse)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_failed_dbt_build_is_shown_failed_and_later_stages_not_run(settings: Settings) -> None:
    # night 1: the marts gate passed
    data.create_marts(settings.warehouse, data.good_raw(), data.good_marts())
    pipeline.gate_marts(settings, run_id="night-1")
    # night 2: dbt build fails on a data test; the DAG never runs the marts gate or publish
    _unreconciled_budget(settings)
    with pytest.raises(DbtBuildFailed):
        pipeline.dbt_build(settings, run_id="night-2")

    html = build_quality_report(settings, run_id="night-2").read_text(encoding="utf-8")
    assert 'id="run-id">night-2<' in html
    dbt = _stage_row(html, "dbt_build")
    assert dbt.startswith("failed |"), dbt
    assert "test.jixiao.assert_budget_reconciles" in dbt
    for stage in ("gate_marts", "publish"):
        row = _stage_row(html, stage)
        assert row.startswith("not run |"), row
        assert "未执行此阶段" in row and "did not run in this run" in row
        assert "dbt build, failed" in row  # says why
    assert _stage_row(html, "ingest").startswith("not run |")
    # the passed gate of night 1 is labelled as an earlier result, not this run's
    gate = re.search(r'<div class="gate earlier" data-gate="marts.json" data-current="no">', html)
    assert gate, "the marts gate of night 1 is not marked as an earlier result"
    assert "较早运行的结果（批次 night-1）" in html
    assert 'data-current="yes"' not in html
    assert 'data-kpi="critical_failures">0<' in html  # no gate ran in this run

    # the default report is about the latest run, the same night
    latest = build_quality_report(settings).read_text(encoding="utf-8")
    assert 'id="run-id">night-2<' in latest


@pytest.mark.slow
def test_sample_rows_show_readable_chinese(settings: Settings) -> None:
    data.create_raw(settings.warehouse, data.merge(data.good_raw(), data.bad_raw()))
    with pytest.raises(QualityGateBlocked):
        pipeline.gate_raw(settings, run_id="night-3")
    html = build_quality_report(settings, run_id="night-3").read_text(encoding="utf-8")
    samples = re.findall(r"<pre>(\{.*?\})</pre>", html)
    assert samples, "no sample rows rendered"
    assert any("美元" in s for s in samples), samples[:3]
    # no CJK escapes such as \\u884c (tojson still escapes <, >, & and ' for HTML safety)
    escaped = [s for s in samples if re.search(r"\\u[4-9][0-9a-fA-F]{3}", s)]
    assert not escaped, escaped[:3]
    assert _stage_row(html, "gate_raw").startswith("failed |")
    assert 'data-current="yes"' in html  # this run's own gate result
    assert 'data-kpi="critical_failures">0<' not in html


def test_feedback_workbooks_are_linked_per_department(settings: Settings) -> None:
    entries = [
        {
            "file": "教育局_2023.xlsx",
            "sha256": "a" * 64,
            "department": "教育局",
            "xlsx": "feedback/教育局/教育局_2023_反馈.xlsx",
            "csv": "feedback/教育局/教育局_2023_反馈.csv",
            "errors": 3,
            "warnings": 1,
        },
        {
            "file": "财政局_预算.xlsx",
            "sha256": "b" * 64,
            "department": "财政局",
            "xlsx": "feedback/财政局/财政局_预算_反馈.xlsx",
            "csv": "feedback/财政局/财政局_预算_反馈.csv",
            "errors": 0,
            "warnings": 2,
        },
    ]
    for e in entries:
        for key in ("xlsx", "csv"):
            path = settings.home / e[key]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
    (settings.feedback / "index.json").write_text(
        json.dumps(entries, ensure_ascii=False), encoding="utf-8"
    )
    out = build_quality_report(settings)
    html = out.read_text(encoding="utf-8")
    for e in entries:
        block = re.search(
            rf'<div class="feedback-dept" data-department="{e["department"]}">(.*?)</div>',
            html,
            re.S,
        )
        assert block, e["department"]
        links = re.findall(r'href="([^"]+)"', block.group(1))
        assert [(out.parent / link).resolve() for link in links] == [
            (settings.home / e["xlsx"]).resolve(),
            (settings.home / e["csv"]).resolve(),
        ]
        assert e["file"] in block.group(1)
        assert f'<td class="num">{e["errors"]}</td>' in block.group(1)


def test_no_run_recorded_says_no_stage_ran(settings: Settings) -> None:
    html = build_quality_report(settings).read_text(encoding="utf-8")
    assert "尚无运行记录" in html and "no stage has run" in html
    assert not (settings.feedback / "index.json").exists()
    assert "暂无反馈文件" in html
    assert Path(settings.quality / "index.html").is_file()


@pytest.mark.slow
def test_validate_exits_2_when_the_gate_refuses_and_reports_that_run(settings: Settings) -> None:
    from typer.testing import CliRunner

    from jixiao.cli.main import app

    data.create_raw(settings.warehouse, data.merge(data.good_raw(), data.bad_raw()))
    result = CliRunner().invoke(app, ["validate", "--gate", "raw"])
    assert result.exit_code == 2, result.output
    html = (settings.quality / "index.html").read_text(encoding="utf-8")
    run_id = re.search(r'id="run-id">([^<]+)<', html)
    assert run_id and run_id.group(1).startswith("cli__")
    assert _stage_row(html, "gate_raw").startswith("failed |")
    assert _stage_row(html, "dbt_build").startswith("not run |")
