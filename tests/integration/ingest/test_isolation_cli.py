"""``jixiao ingest`` exit status: 0 all loaded, 3 some quarantined, 1 the run failed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.integration.ingest import ingest_workbooks as wbk
from typer.testing import CliRunner

from jixiao.cli.main import app
from jixiao.config import Settings

HDR = ["项目编码", "年度", "支付日期", "支付金额（万元）", "资金来源", "收款单位", "凭证号"]
runner = CliRunner()


def _good(path: Path, voucher: str = "V1") -> Path:
    """A good ledger; another ``voucher`` gives other bytes (the same rows written within the
    same second are byte-identical, so the second file would be a duplicate, not a load)."""
    rows = [["P1", 2023, "2023-01-05", 10, None, "甲", voucher]]
    return wbk.payments_workbook(path, rows, caption=None, header=HDR)


def _counts(output: str) -> dict[str, int]:
    return json.loads(output[output.index("{") : output.index("}") + 1])


def test_exit_status_says_what_happened(settings: Settings) -> None:
    _good(settings.inbox / "good.xlsx")
    ok = runner.invoke(app, ["ingest"])
    assert ok.exit_code == 0, ok.output
    assert _counts(ok.output)["files_loaded"] == 1
    assert "files_skipped_unstable" in _counts(ok.output)
    assert "loaded 1, quarantined 0" in ok.output

    (settings.inbox / "notes.xlsx").write_text("项目编码,金额\n", encoding="utf-8")
    _good(settings.inbox / "good2.xlsx", voucher="V2")
    some = runner.invoke(app, ["ingest"])
    assert some.exit_code == 3, some.output
    counts = _counts(some.output)
    assert (counts["files_loaded"], counts["files_quarantined"]) == (1, 1)
    assert "quarantined" in some.output

    # nothing new: all (zero) new files loaded
    assert runner.invoke(app, ["ingest"]).exit_code == 0


def test_a_failed_run_exits_1(settings: Settings) -> None:
    _good(settings.inbox / "good.xlsx")
    settings.warehouse.unlink(missing_ok=True)
    settings.warehouse.mkdir(parents=True)  # the warehouse cannot be opened: the run fails
    try:
        failed = runner.invoke(app, ["ingest"])
    finally:
        shutil.rmtree(settings.warehouse)
    assert failed.exit_code == 1
