"""The publisher itself refuses unless the real marts gate passed on exactly these marts.

The marts are the GX suites' own test data (tests/integration/quality/quality_data.py) and the
gate is the real Great Expectations checkpoint; ``jixiao publish`` runs through the CLI so the
exit codes are the ones a steward sees (0 published, 2 refused by a gate).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from tests.integration.quality import quality_data as data
from typer.testing import CliRunner

from jixiao.cli.main import app
from jixiao.config import Settings, get_settings
from jixiao.publish.publisher import (
    INFO_TABLE,
    PublishRefused,
    connect_readonly,
    publish,
    publish_history_path,
    warehouse_marts_fingerprint,
)
from jixiao.quality.gates import QualityGateFailed, result_path, run_gate
from jixiao.quality.report import build_quality_report

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fresh home that the CLI finds through JIXIAO_HOME."""
    home = tmp_path / "home"
    monkeypatch.setenv("JIXIAO_HOME", str(home))
    monkeypatch.setenv("JIXIAO_OPERATOR", "steward-wang")
    return get_settings(home).ensure()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["publish", *args])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def _good(settings: Settings) -> None:
    settings.warehouse.unlink(missing_ok=True)
    data.create_marts(settings.warehouse, data.good_raw(), data.good_marts())


def _bad(settings: Settings) -> None:
    settings.warehouse.unlink(missing_ok=True)
    data.create_marts(
        settings.warehouse,
        data.good_raw(),
        data.merge(data.good_marts(), data.uncovered_budget()),
    )


def _publish_info(settings: Settings) -> list[dict[str, object]]:
    con = connect_readonly(settings)
    try:
        cur = con.execute(f"select * from marts.{INFO_TABLE}")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def _good_published(settings: Settings) -> str:
    """Good marts, gate passed, published through the CLI; returns the file's sha256."""
    _good(settings)
    passed = run_gate("marts", settings, run_id="night-1")
    assert passed.success
    assert passed.marts_fingerprint == warehouse_marts_fingerprint(settings)
    code, out = _cli()
    assert code == 0, out
    info = _publish_info(settings)
    assert {r["gate_status"] for r in info} == {"passed"}
    assert {r["gate_fingerprint"] for r in info} == {passed.marts_fingerprint}
    assert {r["override_reason"] for r in info} == {None}
    return _sha(settings.published)


def test_failed_gate_refuses_publish_and_leaves_the_file_byte_identical(settings: Settings) -> None:
    before = _good_published(settings)
    _bad(settings)
    with pytest.raises(QualityGateFailed):
        run_gate("marts", settings, run_id="night-2")
    written = json.loads(result_path(settings, "marts").read_text(encoding="utf-8"))
    assert written["success"] is False and written["run_id"] == "night-2"

    code, out = _cli()
    assert code == 2, out
    assert "未通过" in out and "failed" in out and "已发布版本未改变" in out
    assert _sha(settings.published) == before
    # the library call refuses the same way, whoever calls it
    with pytest.raises(PublishRefused, match=r"night-2.*关键校验失败"):
        publish(settings, run_id="direct")
    assert _sha(settings.published) == before

    # an override without a reason is refused too, and changes nothing
    code, out = _cli("--override-gate")
    assert code == 2, out
    assert "必须写明原因" in out and "needs a reason" in out
    code, out = _cli("--override-gate", "--reason", "   ")
    assert code == 2, out
    assert _sha(settings.published) == before
    history = publish_history_path(settings).read_text(encoding="utf-8").splitlines()
    assert len(history) == 1  # only the good publish

    # an override with a reason publishes, and says so everywhere
    code, out = _cli("--override-gate", "--reason", "局长批准先发布 / approved by the director")
    assert code == 0, out
    assert _sha(settings.published) != before
    info = _publish_info(settings)
    assert {r["gate_status"] for r in info} == {"overridden (failed)"}
    assert {r["override_reason"] for r in info} == {"局长批准先发布 / approved by the director"}
    assert {r["override_by"] for r in info} == {"steward-wang"}
    assert all(r["override_at"] for r in info)
    last = json.loads(publish_history_path(settings).read_text(encoding="utf-8").splitlines()[-1])
    assert last["override"]["reason"] == "局长批准先发布 / approved by the director"
    assert last["marts_fingerprint"] == warehouse_marts_fingerprint(settings)
    assert last["gate_run_id"] == "night-2"

    html = build_quality_report(settings).read_text(encoding="utf-8")
    assert 'id="override-warning"' in html
    assert "局长批准先发布 / approved by the director" in html
    assert "overridden (failed)" in html


def test_warehouse_changed_after_the_pass_is_refused(settings: Settings) -> None:
    before = _good_published(settings)
    con = duckdb.connect(str(settings.warehouse))
    try:  # a payee filled in on a mart after the gate passed
        con.execute("update marts.fct_payments set payee = '某某供应商'")
    finally:
        con.close()
    code, out = _cli()
    assert code == 2, out
    assert "已改变" in out and "changed after the gate passed" in out
    assert _sha(settings.published) == before
    # the gate run again on the new state vouches for it
    assert run_gate("marts", settings, run_id="night-3").success
    code, out = _cli()
    assert code == 0, out
    assert _sha(settings.published) != before


def test_missing_gate_result_is_refused(settings: Settings) -> None:
    _good(settings)
    code, out = _cli()
    assert code == 2, out
    assert "尚未运行" in out and "has not run" in out
    assert not settings.published.exists()
