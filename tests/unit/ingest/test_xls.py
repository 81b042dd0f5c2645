"""Genuine legacy .xls (Excel 97-2003, BIFF8) reads like .xlsx; broken ones are refused.

The .xls files are written by xlwt (a real BIFF8 writer), via
:func:`jixiao.samples._xls.xlsx_to_xls` from the same content saved as .xlsx.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine
import xlrd

from jixiao.ingest.errors import FileRejected
from jixiao.ingest.layouts import extract
from jixiao.ingest.security import Limits, check_file, sniff
from jixiao.ingest.workbook import read_workbook
from jixiao.samples._xls import (
    XlsSheet,
    biff5_book,
    compound_file_tree,
    with_filepass,
    with_vba,
    workbook_stream,
    write_xls,
    xlsx_to_xls,
)
from jixiao.samples.forms import FundingRow, Indicator, SelfEvalProject, write_selfeval_form

OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")


def _xlsx(path: Path) -> Path:
    """Merged cells, a hidden sheet, percent, date and plain numbers, Chinese text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws["A1"] = "项目名称"
    ws.merge_cells("B1:D1")
    ws["B1"] = "政务服务能力提升"
    ws.append(["实际完成值", 0.8148, 1, "≥95%"])
    ws["B2"].number_format = "0.00%"
    ws["C2"].number_format = "0%"
    ws.append(["日期", dt.date(2023, 5, 1), dt.datetime(2023, 5, 1, 14, 30), 45047])
    ws["B3"].number_format = 'yyyy"年"m"月"d"日"'
    ws.append(["金额", 50418.98, 12, True])
    ws["B4"].number_format = "#,##0.00"
    ws.merge_cells("A5:A6")
    ws["A5"] = "产出指标"
    ws["B5"] = 0.98835
    ws["B5"].number_format = "0.0%"
    hidden = wb.create_sheet("代码表")
    hidden["A1"] = 0.5
    hidden["A1"].number_format = "0%"
    hidden.sheet_state = "hidden"
    very = wb.create_sheet("内部")
    very["A1"] = "x"
    very.sheet_state = "veryHidden"
    wb.create_sheet("说明二")["A1"] = "第二张可见表"
    wb.save(path)
    return path


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    src = _xlsx(tmp_path / "book.xlsx")
    return src, xlsx_to_xls(src, tmp_path / "book.xls")


def _reject(path: Path, limits: Limits | None = None) -> FileRejected:
    with pytest.raises(FileRejected) as err:
        check_file(path, limits or Limits())
    rej = err.value.rejection
    assert rej.message_zh and rej.message_en and rej.expected and rej.file == path.name
    return err.value


def _put(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ the files are genuine BIFF8
def test_xlwt_writes_genuine_biff8(tmp_path: Path):
    _, xls = _pair(tmp_path)
    data = xls.read_bytes()
    assert data[:8] == OLE2
    stream = workbook_stream(data)
    rtype, _length, version, kind = struct.unpack_from("<HHHH", stream, 0)
    assert (rtype, version, kind) == (0x0809, 0x0600, 0x0005)  # BOF, BIFF8, workbook globals
    book = xlrd.open_workbook(file_contents=data, formatting_info=True, logfile=io.StringIO())
    assert book.biff_version == 80
    assert book.sheet_names() == ["自评表", "代码表", "内部", "说明二"]
    assert [book.sheet_by_index(i).visibility for i in range(4)] == [0, 1, 2, 0]
    ws = book.sheet_by_name("自评表")
    assert sorted(ws.merged_cells) == [(0, 1, 1, 4), (4, 6, 0, 1)]  # (rlo, rhi, clo, chi)
    fmt = book.format_map[book.xf_list[ws.cell_xf_index(1, 1)].format_key].format_str
    assert fmt == "0.00%"


def test_same_content_reads_to_the_same_grid_as_xlsx(tmp_path: Path):
    src, xls = _pair(tmp_path)
    a, b = read_workbook(src), read_workbook(xls)
    assert [s.name for s in a.sheets] == [s.name for s in b.sheets] == ["自评表", "说明二"]
    assert a.ignored == b.ignored and {i["sheet"] for i in b.ignored} == {"代码表", "内部"}
    for sa, sb in zip(a.sheets, b.sheets, strict=True):
        assert sa.rows == sb.rows
        assert sorted(sa.merged) == sorted(sb.merged)
    rows = b.sheets[0].rows
    assert rows[0][1:4] == ["政务服务能力提升"] * 3  # merged range filled
    assert rows[1][1:4] == ["81.48%", "100%", "≥95%"]  # percent as the person saw it
    assert rows[2][1:3] == [dt.date(2023, 5, 1), dt.datetime(2023, 5, 1, 14, 30)]
    assert rows[3][1:4] == [50418.98, 12, True]
    assert [rows[4][0], rows[5][0], rows[4][1]] == ["产出指标", "产出指标", "98.835%"]


def test_report_of_an_xls(tmp_path: Path):
    _, xls = _pair(tmp_path)
    report = check_file(xls)
    assert report.kind == "xls"
    assert report.hidden_sheets == ["代码表", "内部"]
    assert report.percent_cells == {"自评表": {(1, 1), (1, 2), (4, 1)}}  # not the hidden sheet
    assert report.dimensions["自评表"] == (6, 4)


def test_write_xls_from_a_plain_description(tmp_path: Path):
    path = write_xls(
        tmp_path / "d.xls",
        {
            "支付": XlsSheet(
                rows=[["项目编码", "完成率", "日期"], ["P1", 0.9884, dt.date(2023, 3, 15)]],
                merged=["A3:C3"],
                formats={"B2": "0.00%", (1, 2): "yyyy/m/d"},
            ),
            "隐藏": XlsSheet(rows=[[1]], state="hidden"),
            "纯数据": [[Decimal("1330.50"), None, "x"]],
        },
    )
    wb = read_workbook(path)
    assert [s.name for s in wb.sheets] == ["支付", "纯数据"]
    assert wb.sheets[0].rows[:2] == [
        ["项目编码", "完成率", "日期"],
        ["P1", "98.84%", dt.date(2023, 3, 15)],
    ]
    assert wb.sheets[0].merged == [((2, 0), (2, 2))]
    assert wb.sheets[1].rows == [[1330.5, "", "x"]]
    assert (
        write_xls(tmp_path / "e.xls", {"S": [[1]]}).read_bytes()
        == write_xls(tmp_path / "f.xls", {"S": [[1]]}).read_bytes()
    )  # reproducible bytes


def test_content_decides_not_the_extension(tmp_path: Path):
    src, xls = _pair(tmp_path)
    xls_named_xlsx = _put(tmp_path / "really-xls.xlsx", xls.read_bytes())
    xlsx_named_xls = _put(tmp_path / "really-xlsx.xls", src.read_bytes())
    assert sniff(xls_named_xlsx) == "ole2" and sniff(xlsx_named_xls) == "zip"
    assert read_workbook(xls_named_xlsx).sheets[0].rows == read_workbook(src).sheets[0].rows
    assert read_workbook(xlsx_named_xls).sheets[0].rows == read_workbook(src).sheets[0].rows


def test_xls_without_percent_formats_reads_no_cells_with_xlrd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = write_xls(tmp_path / "n.xls", {"S": XlsSheet([[0.8148, 2]], formats={"A1": "0.00"})})

    def no_load(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("sheet cells read although no XF is a percent format")

    monkeypatch.setattr(xlrd.book.Book, "sheet_by_index", no_load)
    report = check_file(path)
    assert report.percent_cells == {}
    assert read_workbook(path, report=report).sheets[0].rows == [[0.8148, 2]]


def test_text_mentioning_encryptioninfo_is_not_encryption(tmp_path: Path):
    """The directory decides: "EncryptionInfo" as UTF-16 text in a cell is just text."""
    path = write_xls(tmp_path / "t.xls", {"S": [["EncryptionInfo 说明"]]})
    assert "EncryptionInfo".encode("utf-16-le") in path.read_bytes()
    assert read_workbook(path).sheets[0].rows == [["EncryptionInfo 说明"]]


def _selfeval(path: Path) -> Path:
    project = SelfEvalProject(
        sheet_name="自评表",
        year=2023,
        project_name="政务服务能力提升",
        department="示例市政务服务数据管理局",
        implementing_unit="示例市政务服务中心",
        funding=[
            FundingRow(
                "年度资金总额", Decimal(100), Decimal(100), Decimal(90), 10, Decimal("0.9"), 9
            )
        ],
        indicators=[
            Indicator("产出指标", "质量指标", "事项办结率", "≥80%", Decimal("0.8148"), 20, 18),
            Indicator("产出指标", "数量指标", "服务事项数（个）", "≥100", 120, 20, 20),
        ],
        total_score=Decimal(88),
    )
    write_selfeval_form(path, [project])
    wb = openpyxl.load_workbook(path)
    cell = next(c for row in wb["自评表"].iter_rows() for c in row if c.value == 0.8148)
    cell.number_format = "0.00%"
    wb.save(path)
    return path


def test_selfeval_form_as_xls_extracts_the_same_rows(tmp_path: Path):
    src = _selfeval(tmp_path / "form.xlsx")
    xls = xlsx_to_xls(src, tmp_path / "form.xls")
    a = extract(read_workbook(src), {})
    b = extract(read_workbook(xls), {})
    assert a.tables == b.tables and a.rejections == b.rejections
    ind = {r["level3_name"]: r for r in b.tables["indicators"]}["事项办结率"]
    assert (ind["actual_value"], ind["actual_unit"]) == (Decimal("81.48"), "%")
    assert b.tables["funding_reported"]


# ------------------------------------------------------------------ refused .xls
def test_password_protected_xls_filepass(tmp_path: Path):
    _, xls = _pair(tmp_path)
    bad = _put(tmp_path / "enc.xls", with_filepass(xls.read_bytes()))
    with pytest.raises(xlrd.XLRDError, match="encrypted"):  # an independent reader agrees
        xlrd.open_workbook(file_contents=bad.read_bytes(), logfile=io.StringIO())
    err = _reject(bad)
    assert err.reason_code == "encrypted" and "FILEPASS" in err.rejection.message_en


def test_xls_with_vba_project(tmp_path: Path):
    _, xls = _pair(tmp_path)
    bad = _put(tmp_path / "macro.xls", with_vba(xls.read_bytes()))
    with python_calamine.CalamineWorkbook.from_path(str(bad)) as wb:  # calamine would read it
        assert wb.sheet_names[0] == "自评表"
    err = _reject(bad)
    assert err.reason_code == "macros" and "_VBA_PROJECT_CUR" in err.rejection.message_en


def _patched_globals(xls: bytes, edit) -> bytes:
    return compound_file_tree({"Workbook": edit(bytearray(workbook_stream(xls)))})


def _records(stream: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, length) of the globals' records up to EOF."""
    out, pos = [], 0
    while pos + 4 <= len(stream):
        rtype, length = struct.unpack_from("<HH", stream, pos)
        out.append((pos, rtype, length))
        pos += 4 + length
        if rtype == 0x000A:
            break
    return out


def test_excel4_macro_sheet(tmp_path: Path):
    _, xls = _pair(tmp_path)

    def macro_sheet(stream: bytearray) -> bytes:
        pos = next(p for p, t, _n in _records(stream) if t == 0x0085)
        stream[pos + 4 + 5] = 1  # BOUNDSHEET dt = 1: Excel 4.0 macro sheet
        return bytes(stream)

    err = _reject(_put(tmp_path / "xlm.xls", _patched_globals(xls.read_bytes(), macro_sheet)))
    assert err.reason_code == "macros" and err.rejection.sheet == "自评表"


def test_reference_to_another_workbook(tmp_path: Path):
    _, xls = _pair(tmp_path)

    def external(stream: bytearray) -> bytes:
        eof = next(p for p, t, _n in _records(stream) if t == 0x000A)
        path = "\x01budget2023.xls"
        sheet = struct.pack("<HB", 1, 0) + b"S"  # XLUnicodeString: cch, flags, chars
        body = struct.pack("<HHB", 1, len(path), 0) + path.encode("latin-1") + sheet
        record = struct.pack("<HH", 0x01AE, len(body)) + body
        out = bytearray(stream[:eof] + record + stream[eof:])
        for p, t, _n in _records(out):  # sheets moved by the inserted record
            if t == 0x0085:
                (off,) = struct.unpack_from("<I", out, p + 4)
                struct.pack_into("<I", out, p + 4, off + len(record))
        return bytes(out)

    bad = _put(tmp_path / "ext.xls", _patched_globals(xls.read_bytes(), external))
    assert xlrd.open_workbook(file_contents=bad.read_bytes(), logfile=io.StringIO()).nsheets == 4
    assert _reject(bad).reason_code == "external_links"


@pytest.mark.parametrize("how", ["truncated", "fat_zeroed", "garbage_header"])
def test_corrupt_compound_file_is_unreadable(tmp_path: Path, how: str):
    _, xls = _pair(tmp_path)
    data = bytearray(xls.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "fat_zeroed":
        data[512:1024] = b"\xff" * 512  # the first FAT sector: every chain broken
    else:
        data[8:512] = b"\x00" * 504
    err = _reject(_put(tmp_path / f"{how}.xls", bytes(data)))
    assert err.reason_code == "unreadable"
    assert "另存为 .xlsx" in err.rejection.message_zh
    assert "save as .xlsx" in err.rejection.message_en


def test_excel95_biff5(tmp_path: Path):
    _, xls = _pair(tmp_path)
    bad = _put(tmp_path / "95.xls", biff5_book(xls.read_bytes()))
    err = _reject(bad)
    assert err.reason_code == "legacy_xls" and "BIFF5" in err.rejection.message_en


def test_ole2_file_without_a_workbook(tmp_path: Path):
    doc = _put(tmp_path / "letter.xls", compound_file_tree({"WordDocument": b"\xec\xa5" * 100}))
    assert _reject(doc).reason_code == "not_xlsx"


def test_caps_apply_to_xls(tmp_path: Path):
    _, xls = _pair(tmp_path)
    size = xls.stat().st_size
    assert _reject(xls, Limits(max_total_uncompressed=size - 1)).reason_code == "zip_bomb"
    err = _reject(xls, Limits(max_rows=5))
    assert (err.reason_code, err.rejection.sheet) == ("absurd_dimensions", "自评表")
    assert check_file(xls, Limits(max_total_uncompressed=size, max_rows=6)).kind == "xls"


def test_encrypted_ooxml_in_ole2_still_refused(tmp_path: Path):
    path = _put(
        tmp_path / "enc.xlsx",
        compound_file_tree({"EncryptionInfo": b"\x04\x00\x04\x00", "EncryptedPackage": b"x"}),
    )
    err = _reject(path)
    assert err.reason_code == "encrypted" and "EncryptionInfo" in err.rejection.message_en
