"""Values as the person saw them: percent number formats (百分比格式) and dates.

calamine returns the stored float of a cell typed "81.48%" (0.8148) and drops its format;
the zip scan lists the numeric cells whose style is a percent format and the reader turns
them into the exact percent text. Date-formatted numbers already come back as dates.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from jixiao.ingest import security
from jixiao.ingest.layouts import extract
from jixiao.ingest.security import check_file, is_percent_format
from jixiao.ingest.workbook import percent_text, read_workbook
from jixiao.samples.forms import FundingRow, Indicator, SelfEvalProject, write_selfeval_form

SHEET = "xl/worksheets/sheet1.xml"


def _book(path: Path, cells: dict[str, tuple[Any, str | None]], title: str = "S") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for ref, (value, fmt) in cells.items():
        ws[ref] = value
        if fmt:
            ws[ref].number_format = fmt
    wb.save(path)
    return path


def _rows(path: Path) -> list[list[Any]]:
    return read_workbook(path, report=check_file(path)).sheets[0].rows


def _raw_rows(path: Path) -> list[list[Any]]:
    with CalamineWorkbook.from_path(str(path)) as wb:
        return wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)


def _rewrite(src: Path, dst: Path, part: str, edit) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, edit(data) if info.filename == part else data)
    return dst


# ------------------------------------------------------------------ format codes
@pytest.mark.parametrize(
    ("code", "percent"),
    [
        ("0%", True),
        ("0.00%", True),
        ("0.0%", True),
        ("#,##0.00%", True),
        ("[Red]0.0%", True),
        ("0.00%;[Red]-0.00%", True),
        ('0.00"%"', False),  # a quoted literal
        ("0.00\\%", False),  # an escaped literal
        ("0_%", False),  # space the width of "%"
        ("0*%", False),  # fill with "%"
        ("[$%-804]0.00", False),  # inside [...]
        ('"完成率"0.00"%"', False),
        ("General", False),
        ("0.00", False),
        ('yyyy"年"m"月"d"日"', False),
    ],
)
def test_percent_format_codes(code: str, percent: bool):
    assert is_percent_format(code) is percent


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.8148, "81.48%"),
        (1, "100%"),
        (1.0, "100%"),
        (0.98835, "98.835%"),
        (0.1 + 0.2, "30.000000000000004%"),  # the stored value is the truth, never rounded
        (-0.05, "-5%"),
        (0, "0%"),
        (1.5, "150%"),
        (1e-7, "0.00001%"),
    ],
)
def test_percent_text_is_exact(value: Any, text: str):
    assert percent_text(value) == text


@pytest.mark.parametrize("value", ["95%", "", None, True, float("nan")])
def test_percent_text_leaves_non_numbers(value: Any):
    out = percent_text(value)
    assert out is value or (out != out and value != value)


# ------------------------------------------------------------------ built-in and custom ids
def test_builtin_percent_ids_9_and_10(tmp_path: Path):
    path = _book(tmp_path / "b.xlsx", {"A1": (0.8148, "0.00%"), "A2": (1, "0%"), "A3": (0.5, None)})
    with zipfile.ZipFile(path) as zf:
        styles = zf.read("xl/styles.xml")
    assert b'numFmtId="9"' in styles and b'numFmtId="10"' in styles
    assert b"formatCode" not in styles  # really the built-ins, no custom code
    report = check_file(path)
    assert report.percent_cells == {"S": {(0, 0), (1, 0)}}
    assert _rows(path) == [["81.48%"], ["100%"], [0.5]]


def test_custom_percent_codes_and_literal_percent_signs(tmp_path: Path):
    path = _book(
        tmp_path / "c.xlsx",
        {
            "A1": (0.98835, "0.0%"),
            "A2": (0.25, "#,##0.00%"),
            "A3": (0.5, '0.00"%"'),
            "A4": (0.5, "0.00\\%"),
            "A5": (12.5, "0.00"),
        },
    )
    with zipfile.ZipFile(path) as zf:
        assert re.search(rb'numFmtId="1\d\d" formatCode="0.0%"', zf.read("xl/styles.xml"))
    assert _rows(path) == [["98.835%"], ["25%"], [0.5], [0.5], [12.5]]


def test_only_numeric_cells_change(tmp_path: Path):
    """Text typed into a percent cell, booleans and empty styled cells stay what they are."""
    path = _book(
        tmp_path / "t.xlsx",
        {"A1": ("≥95%", "0.00%"), "A2": (True, "0%"), "A3": (0.9, "0%"), "C3": (None, "0%")},
    )
    rows = _rows(path)
    assert rows[0][0] == "≥95%" and rows[1][0] is True and rows[2][0] == "90%"


def test_percent_in_a_merged_anchor_fills_the_range(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.merge_cells("B2:C3")
    ws["B2"] = 0.9884
    ws["B2"].number_format = "0.00%"
    wb.save(tmp_path / "m.xlsx")
    rows = _rows(tmp_path / "m.xlsx")
    assert [rows[r][c] for r in (1, 2) for c in (1, 2)] == ["98.84%"] * 4


def test_row_styles_and_cached_formulas(tmp_path: Path):
    """A percent row style is not a cell; a formula's cached number is shown as percent."""
    path = _book(tmp_path / "a.xlsx", {"A1": (0.5, "0%"), "B2": (0.25, None)})
    with zipfile.ZipFile(path) as zf:
        s = re.search(rb'<c r="A1" s="(\d+)"', zf.read(SHEET)).group(1)  # type: ignore[union-attr]

    def edit(data: bytes) -> bytes:
        data = data.replace(b'<row r="2"', b'<row r="2" s="' + s + b'" customFormat="1"', 1)
        return data.replace(
            b'<c r="B2" t="n"><v>0.25</v></c>',
            b'<c r="B2" s="' + s + b'"><f>1/4</f><v>0.25</v></c><c r="C2"><v>0.75</v></c>',
        )

    dst = _rewrite(path, tmp_path / "b.xlsx", SHEET, edit)
    assert b"<f>1/4</f>" in zipfile.ZipFile(dst).read(SHEET)
    assert check_file(dst).percent_cells == {"S": {(0, 0), (1, 1)}}
    assert _rows(dst)[1][1:] == ["25%", 0.75]


def test_cells_without_r_attributes(tmp_path: Path):
    """OOXML allows cells (and rows) without ``r``: positions then come from a real parse."""
    path = _book(tmp_path / "a.xlsx", {"A1": ("x", None), "B1": (0.5, "0%"), "A2": (0.75, "0%")})
    dst = _rewrite(
        path,
        tmp_path / "b.xlsx",
        SHEET,
        lambda d: re.sub(rb'(<c|<row) r="[A-Z]*\d+"', rb"\1", d),
    )
    assert b' r="' not in zipfile.ZipFile(dst).read(SHEET).split(b"<sheetData>")[1]
    assert check_file(dst).percent_cells == {"S": {(0, 1), (1, 0)}}
    assert _rows(dst) == [["x", "50%"], ["75%", ""]]


def test_workbook_without_percent_styles_is_unchanged_and_styles_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = _book(
        tmp_path / "n.xlsx",
        {"A1": (0.8148, "0.00"), "A2": (12.5, "#,##0.00"), "A3": ("95%", None), "A4": (3, None)},
    )

    def no_parse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("styles.xml parsed although it has no percent style")

    monkeypatch.setattr(security.DefusedET, "iterparse", no_parse)
    report = check_file(path)
    assert report.percent_cells == {}
    assert read_workbook(path, report=report).sheets[0].rows == _raw_rows(path)


def test_read_workbook_without_a_report_checks_the_file_itself(tmp_path: Path):
    path = _book(tmp_path / "r.xlsx", {"A1": (0.8148, "0.00%")})
    assert read_workbook(path).sheets[0].rows == [["81.48%"]]


# ------------------------------------------------------------------ the scan's chunk boundaries
def _big_percent_book(path: Path, rows: int) -> tuple[Path, set[tuple[int, int]]]:
    """A sheet over one scan chunk (1 MiB) with percent cells scattered through it."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("大表")
    expected = set()
    from openpyxl.cell import WriteOnlyCell

    for r in range(rows):
        row: list[Any] = [f"项目{r}", r * 1.5]
        for c in range(2, 6):
            cell = WriteOnlyCell(ws, value=(r % 97 + c) / 100)
            if (r + c) % 3 == 0:
                cell.number_format = "0.00%" if c % 2 else "0.0%"
                expected.add((r, c))
            elif (r + c) % 3 == 1:
                cell.number_format = "0.000"  # styled, not a percent
            row.append(cell)
        ws.append(row)
    wb.save(path)
    return path, expected


def test_percent_cells_across_chunk_boundaries(tmp_path: Path):
    path, expected = _big_percent_book(tmp_path / "big.xlsx", 14_000)
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    styles = {int(s) for s in re.findall(rb'<c r="[A-Z]+\d+" s="(\d+)"', xml)}
    pct_styles = security._percent_styles(zipfile.ZipFile(path), "xl/styles.xml")
    assert pct_styles and pct_styles < styles
    # at least one percent cell's start tag is really cut by a chunk boundary
    cut = [
        m
        for m in re.finditer(rb"<c [^>]*>", xml)
        if m.start() // security._CHUNK != (m.end() - 1) // security._CHUNK
        and int(re.search(rb's="(\d+)"', m.group(0)).group(1)) in pct_styles  # type: ignore[union-attr]
    ]
    assert len(xml) > 3 * security._CHUNK and cut
    report = check_file(path)
    assert report.percent_cells == {"大表": expected}
    rows = read_workbook(path, report=report).sheets[0].rows
    r, c = sorted(expected)[-1]
    assert rows[r][c] == percent_text((r % 97 + c) / 100)


@pytest.mark.parametrize("chunk", [5, 13, 64, 101, 4096])
def test_any_chunk_size_finds_the_same_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
):
    """Tags split at every possible offset, including long tags with extra attributes."""
    path, expected = _big_percent_book(tmp_path / "s.xlsx", 60)

    def longer(data: bytes) -> bytes:  # a start tag far longer than the scan's 64-byte overlap
        return re.sub(rb'<c r="C3"', b'<c cm="1" vm="1" ph="1"' + b" " * 150 + b' r="C3"', data)

    dst = _rewrite(path, tmp_path / "l.xlsx", SHEET, longer)
    monkeypatch.setattr(security, "_CHUNK", chunk)
    assert check_file(dst).percent_cells == {"大表": expected}


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    "fmt",
    ["yyyy-mm-dd", "mm-dd-yy", 'yyyy"年"m"月"d"日"', '[DBNum1][$-804]yyyy"年"m"月"d"日"', "m/d/yy"],
)
def test_date_formatted_numbers_come_back_as_dates(tmp_path: Path, fmt: str):
    """calamine already turns date-formatted serial numbers into dates (nothing to fix)."""
    path = _book(tmp_path / "d.xlsx", {"A1": (45047, fmt), "A2": (45047, None)})
    with zipfile.ZipFile(path) as zf:
        assert b"<v>45047</v>" in zf.read(SHEET)  # stored as a plain serial number
    rows = _rows(path)
    assert rows[0][0] == dt.date(2023, 5, 1)
    assert rows[1][0] == 45047


# ------------------------------------------------------------------ end to end
def _form(path: Path, actual: Any, actual_fmt: str | None) -> Path:
    project = SelfEvalProject(
        sheet_name="自评表",
        year=2023,
        project_name="政务服务能力提升",
        department="示例市政务服务数据管理局",
        implementing_unit="示例市政务服务中心",
        funding=[FundingRow("年度资金总额", Decimal(100), Decimal(100), Decimal(90), 10)],
        indicators=[
            Indicator("产出指标", "质量指标", "事项办结率", "≥80%", actual, 20, 18),
            Indicator("产出指标", "数量指标", "服务事项数（个）", "≥100", 120, 20, 20),
        ],
        total_score=Decimal(88),
    )
    write_selfeval_form(path, [project])
    if actual_fmt:
        wb = openpyxl.load_workbook(path)
        ws = wb["自评表"]
        cell = next(c for row in ws.iter_rows() for c in row if c.value == float(actual))
        cell.number_format = actual_fmt
        wb.save(path)
    return path


@pytest.mark.parametrize(
    ("fmt", "value", "unit"),
    [("0.00%", Decimal("81.48"), "%"), (None, Decimal("0.8148"), None)],
)
def test_selfeval_actual_typed_as_percent(
    tmp_path: Path, fmt: str | None, value: Decimal, unit: str | None
):
    """实际完成值 typed "81.48%" (stored 0.8148, format 0.00%) reads as 81.48 %."""
    path = _form(tmp_path / "form.xlsx", Decimal("0.8148"), fmt)
    out = extract(read_workbook(path, report=check_file(path)), {})
    rows = {r["level3_name"]: r for r in out.tables["indicators"]}
    ind = rows["事项办结率"]
    assert (ind["actual_value"], ind["actual_unit"]) == (value, unit)
    assert (ind["target_value"], ind["target_unit"]) == (Decimal(80), "%")
