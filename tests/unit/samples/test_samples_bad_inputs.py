"""Each bad input really has the defect it claims (问题文件确有其问题)."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import defusedxml.ElementTree as DET
import pytest
import xlrd
from defusedxml import DTDForbidden, EntitiesForbidden
from openpyxl import load_workbook
from tests.unit.samples._samples_read import as_date, num
from xlrd.compdoc import CompDoc, CompDocError

from jixiao.samples.bad_inputs import (
    BOMB_BYTES,
    EXPECTED_REASON,
    EXTERNAL_LINK_PART,
    UNPARSEABLE_BAD_ROWS,
    UNPARSEABLE_GOOD_ROWS,
    WRITERS,
)

OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")


def ole2_stream_names(data: bytes) -> list[str]:
    """Directory entry names of a compound file, read per [MS-CFB] (FAT-chained sectors)."""
    assert data[:8] == OLE2
    shift = struct.unpack_from("<H", data, 30)[0]
    size = 1 << shift
    first_dir = struct.unpack_from("<I", data, 48)[0]
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s != 0xFFFFFFFF]
    fat: list[int] = []
    for s in fat_sectors:
        fat += struct.unpack_from(f"<{size // 4}I", data, (s + 1) * size)
    names, sector = [], first_dir
    while sector != 0xFFFFFFFE:
        block = data[(sector + 1) * size : (sector + 2) * size]
        for off in range(0, size, 128):
            length = struct.unpack_from("<H", block, off + 64)[0]
            if length:
                names.append(block[off : off + length - 2].decode("utf-16-le"))
        sector = fat[sector]
    return names


def test_every_class_is_written(bad_files: dict[str, Path]) -> None:
    assert set(bad_files) == set(EXPECTED_REASON) == set(WRITERS)
    assert all(p.exists() and p.stat().st_size > 0 for p in bad_files.values())
    assert len({p.name for p in bad_files.values()}) == len(bad_files)


def test_not_xlsx_and_corrupt_zip(bad_files: dict[str, Path]) -> None:
    for key in ("not_xlsx", "not_xlsx_text"):
        assert bad_files[key].suffix == ".xlsx" and not zipfile.is_zipfile(bad_files[key])
    assert bad_files["not_xlsx"].read_bytes().startswith(b"%PDF")
    corrupt = bad_files["corrupt_zip"].read_bytes()
    assert corrupt.startswith(b"PK\x03\x04")
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(bad_files["corrupt_zip"])


def _stream(data: bytes, name: str) -> bytes:
    return CompDoc(data, logfile=io.StringIO()).get_named_stream(name)


def test_ole2_files(bad_files: dict[str, Path]) -> None:
    xls = bad_files["legacy_xls"]
    data = xls.read_bytes()
    assert xls.suffix == ".xls" and ole2_stream_names(data) == ["Root Entry", "Book"]
    assert struct.unpack_from("<HHH", _stream(data, "Book"), 0) == (0x0809, 16, 0x0500)  # BIFF5
    names = ole2_stream_names(bad_files["encrypted"].read_bytes())
    assert {"EncryptionInfo", "EncryptedPackage"} <= set(names)
    assert bad_files["encrypted"].suffix == ".xlsx"


def test_genuine_xls_defects(bad_files: dict[str, Path]) -> None:
    """The .xls cases are real BIFF8 workbooks (xlwt) with one defect each."""
    enc = bad_files["xls_encrypted"].read_bytes()
    assert ole2_stream_names(enc) == ["Root Entry", "Workbook"]
    bof_len = struct.unpack_from("<H", _stream(enc, "Workbook"), 2)[0]
    assert struct.unpack_from("<HHH", _stream(enc, "Workbook"), 4 + bof_len) == (0x002F, 54, 1)
    with pytest.raises(xlrd.XLRDError, match="encrypted"):
        xlrd.open_workbook(file_contents=enc, logfile=io.StringIO())

    macro = bad_files["xls_macros"].read_bytes()
    assert {"_VBA_PROJECT_CUR", "VBA", "dir", "Workbook"} <= set(ole2_stream_names(macro))
    book = xlrd.open_workbook(file_contents=macro, logfile=io.StringIO())
    assert book.biff_version == 80 and book.sheet_names() == ["支付"]

    cut = bad_files["xls_corrupt"].read_bytes()
    assert cut[:8] == OLE2
    with pytest.raises((CompDocError, IndexError, xlrd.XLRDError)):  # the sectors are missing
        xlrd.open_workbook(file_contents=cut, logfile=io.StringIO())
    assert all(
        bad_files[k].suffix == ".xls" for k in ("xls_encrypted", "xls_macros", "xls_corrupt")
    )


def test_macros(bad_files: dict[str, Path]) -> None:
    assert bad_files["xlsm"].suffix == ".xlsm"
    for key in ("xlsm", "macros_renamed_xlsx"):
        with zipfile.ZipFile(bad_files[key]) as zf:
            assert "xl/vbaProject.bin" in zf.namelist()
            assert b"macroEnabled" in zf.read("[Content_Types].xml")
            assert zf.read("xl/vbaProject.bin").startswith(OLE2)


def test_zip_bombs(bad_files: dict[str, Path]) -> None:
    path = bad_files["zip_bomb"]
    with zipfile.ZipFile(path) as zf:
        biggest = max(zf.infolist(), key=lambda i: i.file_size)
    assert biggest.file_size >= BOMB_BYTES > 256 * 1024 * 1024
    assert biggest.file_size / biggest.compress_size > 500
    assert path.stat().st_size < 2 * 1024 * 1024
    with zipfile.ZipFile(bad_files["zip_entry_count"]) as zf:
        assert len(zf.infolist()) > 2000


@pytest.mark.parametrize(
    "key, error", [("xml_entity_bomb", EntitiesForbidden), ("xxe", EntitiesForbidden)]
)
def test_dtd_attacks_are_refused_by_defusedxml(
    bad_files: dict[str, Path], key: str, error: type[Exception]
) -> None:
    with zipfile.ZipFile(bad_files[key]) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    assert b"<!DOCTYPE" in sheet
    with pytest.raises((error, DTDForbidden)):
        DET.fromstring(sheet, forbid_dtd=False)
    if key == "xxe":
        assert b'SYSTEM "file:///etc/passwd"' in sheet
    else:
        assert sheet.count(b"<!ENTITY") == 10 and b"&lol9;" in sheet


def test_absurd_dimension(bad_files: dict[str, Path]) -> None:
    with zipfile.ZipFile(bad_files["absurd_dimension"]) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:XFD1048576"' in sheet
    assert b'r="XFD1048576"' in sheet


def test_external_link(bad_files: dict[str, Path]) -> None:
    with zipfile.ZipFile(bad_files["external_link"]) as zf:
        assert EXTERNAL_LINK_PART in zf.namelist()
        assert b"externalReference" in zf.read("xl/workbook.xml")
    wb = load_workbook(bad_files["external_link"])
    assert len(wb._external_links) == 1
    assert wb["支付"]["D3"].value == "=[1]Sheet1!$A$1"


def test_readable_but_wrong(bad_files: dict[str, Path]) -> None:
    template = load_workbook(bad_files["unknown_template"])
    cells = {c.value for ws in template for row in ws.iter_rows() for c in row}
    assert not cells & {"项目编码", "项目名称", "一级指标", "项目资金（万元）"}
    header = [c.value for c in load_workbook(bad_files["missing_required_columns"])["支付"][1]]
    assert "项目编码" in header and not any("金额" in str(h) for h in header)
    header = [c.value for c in load_workbook(bad_files["unknown_unit"])["支付"][1]]
    assert "支付金额（美元）" in header


def test_unparseable_rows(bad_files: dict[str, Path]) -> None:
    ws = load_workbook(bad_files["unparseable_values"])["支付"]
    bad, good = [], 0
    for row in ws.iter_rows(min_row=2):
        try:
            num(row[3].value)
            as_date(row[2].value)
            good += 1
        except (ValueError, ArithmeticError):
            bad.append(row[0].row)
    assert tuple(bad) == UNPARSEABLE_BAD_ROWS and good == UNPARSEABLE_GOOD_ROWS


def test_formula_without_cached_value(bad_files: dict[str, Path]) -> None:
    path = bad_files["formula_no_cache"]
    assert load_workbook(path)["支付"]["D3"].value == "=1000+1000"
    assert load_workbook(path, data_only=True)["支付"]["D3"].value is None
