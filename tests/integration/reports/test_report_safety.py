"""Formula-injection neutralisation, deterministic content, and the gate refusal path."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from tests.integration.reports.report_helpers import Built, parse_html
from tests.integration.reports.report_marts_fixture import (
    EVIL_FLAG,
    EVIL_NAME,
    EVIL_REASON,
    XF_DEPT,
    make_marts,
)

from jixiao.config import get_settings
from jixiao.errors import ReportRefused
from jixiao.reports.safety import FORMULA_TRIGGERS, is_neutral, neutralise, safe_filename
from jixiao.reports.yearly import build_reports


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", EVIL_NAME, EVIL_REASON]
)
def test_neutralise_prefixes_formula_text(text: str) -> None:
    out = neutralise(text)
    assert out.startswith("'") and out[1:] == text.replace("\r", "\r")
    assert is_neutral(out) and not is_neutral(text)


@pytest.mark.parametrize("value", ["预算执行率", "95%", "a=b", 12, None, 1.5])
def test_neutralise_leaves_ordinary_values(value: Any) -> None:
    assert neutralise(value) == value


def test_neutralise_drops_xml_illegal_control_characters() -> None:
    assert neutralise("项目\x07名称") == "项目名称"


def test_safe_filename_is_stable_and_safe() -> None:
    a = safe_filename('=a/b:c*"d"', "key-1")
    assert a == safe_filename('=a/b:c*"d"', "key-1")
    assert not set(a) & set('/\\:*?"<>|') and not a.startswith(FORMULA_TRIGGERS)
    assert a != safe_filename('=a/b:c*"d"', "key-2")


def _xlsx_text_cells(path: Path) -> list[Any]:
    wb = load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], path
    return [c.value for c in cells if isinstance(c.value, str)]


def test_no_exported_xlsx_cell_starts_a_formula(built: Built) -> None:
    texts = [t for p in built.paths if p.suffix == ".xlsx" for t in _xlsx_text_cells(p)]
    assert texts and all(is_neutral(t) for t in texts)
    for evil in (EVIL_NAME, EVIL_REASON, EVIL_FLAG):
        assert "'" + evil in texts  # present, as inert text


_NUMBER = re.compile(r"-[\d,]+(\.\d+)?%?")


def test_no_exported_html_cell_starts_a_formula(built: Built) -> None:
    seen = []
    for path in (p for p in built.paths if p.suffix == ".html"):
        for rows in parse_html(path).tables.values():
            for row in rows:
                for value, text in row:
                    seen += [value, text]
                    # a number (also a negative one) is shown as a number, never escaped
                    assert is_neutral(value) or _NUMBER.fullmatch(value), (path, value)
                    assert is_neutral(text) or _NUMBER.fullmatch(text), (path, text)
    assert "'" + EVIL_NAME in seen and "'" + EVIL_FLAG in seen


def _cell_values(path: Path) -> dict[str, list[list[Any]]]:
    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets}


_GENERATED = re.compile(r'<meta name="generated" content="[^"]*">')


def test_same_marts_give_same_content(built: Built, tmp_path: Path) -> None:
    again = build_reports(
        get_settings(tmp_path / "home2").ensure(), 2023, source=built.db, pdf=False
    )
    # PDFs carry Chromium's creation date; their text is checked in test_report_pdf
    first = {p.relative_to(built.settings.reports): p for p in built.paths if p.suffix != ".pdf"}
    second = {p.relative_to(tmp_path / "home2" / "reports"): p for p in again}
    assert first.keys() == second.keys()
    for rel, p in first.items():
        q = second[rel]
        if p.suffix == ".xlsx":
            assert _cell_values(p) == _cell_values(q), rel
        else:
            a, b = p.read_text(encoding="utf-8"), q.read_text(encoding="utf-8")
            assert _GENERATED.search(a), "generation time belongs in a <meta> tag"
            assert _GENERATED.sub("", a) == _GENERATED.sub("", b), rel


def test_generation_time_only_in_metadata(built: Built) -> None:
    path = next(p for p in built.paths if p.suffix == ".xlsx")
    wb = load_workbook(path)
    created = wb.properties.created
    assert created is not None
    stamp = created.strftime("%Y-%m-%d")
    texts = _xlsx_text_cells(path)
    assert not any(stamp in t for t in texts)
    assert (datetime.now(UTC).replace(tzinfo=None) - created).total_seconds() < 3600


def test_rebuild_removes_reports_the_marts_no_longer_produce(built: Built, tmp_path: Path) -> None:
    settings = get_settings(tmp_path / "home").ensure()
    stale = settings.reports / "2023" / "departments" / "已撤销部门_00000000.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="utf-8")
    build_reports(settings, 2023, source=built.db)
    assert not stale.exists()


def _gate_result(settings: Any, success: bool) -> None:
    from jixiao.quality.gates import result_path

    path = result_path(settings, "marts", 2023)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "gate": "marts",
                "year": 2023,
                "success": success,
                "run_at": datetime.now(UTC).isoformat(),
                "suites": [],
            }
        ),
        encoding="utf-8",
    )


def test_report_refused_unless_year_gate_passed(tmp_path: Path) -> None:
    from jixiao import pipeline

    settings = get_settings(tmp_path / "home").ensure()
    make_marts(settings.warehouse)
    with pytest.raises(ReportRefused, match=r"2023.*refused"):
        pipeline.yearly_report(2023, settings=settings)
    _gate_result(settings, success=False)
    with pytest.raises(ReportRefused):
        pipeline.yearly_report(2023, settings=settings)
    assert not list(settings.reports.rglob("*.xlsx"))
    _gate_result(settings, success=True)
    result = pipeline.yearly_report(2023, department=XF_DEPT, settings=settings)
    files = [f for f in result["files"] if not f.endswith(".pdf")]
    assert len(files) == 5  # 3 forms + the department's xlsx and html (+ its PDF if printed)
