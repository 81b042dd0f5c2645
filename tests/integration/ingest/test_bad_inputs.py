"""One test per bad-input class: exact reason, byte-identical quarantine, others still load."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from tests.integration.ingest import ingest_workbooks as wbk
from tests.integration.ingest.ingest_workbooks import rezip

from jixiao.config import Settings
from jixiao.ingest.loader import ingest_files
from jixiao.ingest.security import OLE2_MAGIC, Limits
from jixiao.samples._xls import biff5_book, with_filepass, with_vba, xlsx_to_xls

FAST = Limits(stable_seconds=0.1)
GOOD_ROWS = [["P1", 2023, "2023-01-05", 10, None, "甲", "V1"]]
HDR = ["项目编码", "年度", "支付日期", "支付金额（万元）", "资金来源", "收款单位", "凭证号"]


def _good(path: Path) -> Path:
    return wbk.payments_workbook(path, GOOD_ROWS, caption=None, header=HDR)


def _ole2(extra: str) -> bytes:
    body = bytearray(OLE2_MAGIC + b"\x3e\x00\x03\x00\xfe\xff" + b"\x00" * 2000)
    name = extra.encode("utf-16-le")
    body[1024 : 1024 + len(name)] = name
    return bytes(body)


def _with_sheet_xml(tmp: Path, name: str, edit: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def build(dst: Path) -> None:
        src = _good(tmp / f"src-{name}.xlsx")
        rezip(src, dst, replace={"xl/worksheets/sheet1.xml": edit})

    return build


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
)
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _replace_decl(prefix: bytes) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
        return (
            prefix + body.replace(b"<v>", b"<v>&lol2;", 1)
            if b"lol" in prefix
            else prefix + body.replace(b"</sheetData>", b"</sheetData>", 1)
        )

    return edit


def _build_cases(tmp: Path) -> dict[str, tuple[Callable[[Path], None], str, str | None]]:
    """name -> (builder writing the bad file, expected reason_code, expected sheet)."""

    def text_file(dst: Path) -> None:
        dst.write_text("项目编码,金额\nP1,10\n", encoding="utf-8")

    def gbk_csv(dst: Path) -> None:  # what Excel's "CSV" save writes on a Chinese Windows
        dst.write_bytes("项目编码,支付金额（元）\r\nP1,10\r\n".encode("gbk"))

    def empty(dst: Path) -> None:
        dst.write_bytes(b"")

    def pdf(dst: Path) -> None:
        dst.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")

    def xlsb(dst: Path) -> None:  # Excel binary workbook: a zip with xl/workbook.bin
        rezip(
            _good(tmp / "b0.xlsx"),
            dst,
            add={"xl/workbook.bin": b"\x83\x01\x00"},
        )
        data = dst.read_bytes()
        dst.write_bytes(data.replace(b"xl/workbook.xml", b"xl/workbook.xm_"))

    def traversal(dst: Path) -> None:  # an entry that would unpack outside the folder
        rezip(_good(tmp / "tr.xlsx"), dst, add={"../../../../tmp/jixiao_evil.xml": b"<x/>"})

    def ods(dst: Path) -> None:  # OpenDocument: mimetype first, content.xml
        import zipfile

        with zipfile.ZipFile(dst, "w") as z:
            z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
            z.writestr("content.xml", "<office:document-content/>")
            z.writestr("META-INF/manifest.xml", "<manifest:manifest/>")

    def truncated(dst: Path) -> None:
        data = _good(tmp / "t.xlsx").read_bytes()
        dst.write_bytes(data[: len(data) // 2])

    def xls_bytes() -> bytes:
        return xlsx_to_xls(_good(tmp / "x0.xlsx"), tmp / "x0.xls").read_bytes()

    def legacy(dst: Path) -> None:  # Excel 5.0/95: still refused
        dst.write_bytes(biff5_book(xls_bytes()))

    def xls_encrypted(dst: Path) -> None:
        dst.write_bytes(with_filepass(xls_bytes()))

    def xls_macros(dst: Path) -> None:
        dst.write_bytes(with_vba(xls_bytes()))

    def xls_truncated(dst: Path) -> None:
        data = xls_bytes()
        dst.write_bytes(data[: len(data) // 2])

    def ole2_garbage(dst: Path) -> None:  # OLE2 magic, a header naming "Workbook", no directory
        dst.write_bytes(_ole2("Workbook"))

    def encrypted(dst: Path) -> None:
        dst.write_bytes(_ole2("EncryptionInfo"))

    def macros(dst: Path) -> None:
        def ct(data: bytes) -> bytes:
            return data.replace(
                b"</Types>",
                b'<Default Extension="bin" ContentType='
                b'"application/vnd.ms-office.vbaProject"/></Types>',
            )

        rezip(
            _good(tmp / "m.xlsx"),
            dst,
            add={"xl/vbaProject.bin": b"\x00" * 64},
            replace={"[Content_Types].xml": ct},
        )

    def bomb(dst: Path) -> None:
        rezip(_good(tmp / "b.xlsx"), dst, add={"xl/media/image1.bin": b"\x00" * (20 << 20)})

    def many_entries(dst: Path) -> None:
        rezip(_good(tmp / "e.xlsx"), dst, add={f"customXml/item{i}.txt": b"x" for i in range(2100)})

    def absurd(dst: Path) -> None:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "支付"
        for c, h in enumerate(HDR, start=1):
            ws.cell(1, c, h)
        ws["XFD1048576"] = 1
        wb.save(dst)

    def external(dst: Path) -> None:
        rezip(
            _good(tmp / "x.xlsx"),
            dst,
            add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"},
        )

    def formula(dst: Path) -> None:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "支付"
        ws.append(HDR)
        ws.append(["P1", 2023, "2023-01-05", "=1+1", None, "甲", "V1"])
        wb.save(dst)

    def unknown(dst: Path) -> None:
        wbk.ledger_workbook(dst, {"Sheet1": [["姓名", "电话"], ["张三", "123"]]})

    def missing_cols(dst: Path) -> None:
        wbk.payments_workbook(
            dst,
            [[2023, "2023-01-05", 1, "甲"]],
            caption=None,
            header=["年度", "支付日期", "支付金额（元）", "收款单位"],
        )

    def unknown_unit(dst: Path) -> None:
        wbk.payments_workbook(
            dst,
            [["P1", 2023, "2023-01-05", 1, None, "甲"]],
            caption="金额单位：美元",
            header=HDR[:3] + ["支付金额"] + HDR[4:6],  # noqa: RUF005
        )

    def no_unit(dst: Path) -> None:
        wbk.payments_workbook(
            dst,
            [["P1", 2023, "2023-01-05", 1, None, "甲"]],
            caption=None,
            header=HDR[:3] + ["支付金额"] + HDR[4:6],  # noqa: RUF005
        )

    return {
        "csv_text": (text_file, "csv_file", None),
        "csv_gbk": (gbk_csv, "csv_file", None),
        "empty": (empty, "empty_file", None),
        "not_xlsx": (pdf, "not_xlsx", None),
        "xlsb": (xlsb, "xlsb", None),
        "ods": (ods, "ods", None),
        "corrupt_zip": (truncated, "corrupt_zip", None),
        "zip_path_traversal": (traversal, "corrupt_zip", None),
        "legacy_xls": (legacy, "legacy_xls", None),
        "xls_encrypted": (xls_encrypted, "encrypted", None),
        "xls_macros": (xls_macros, "macros", None),
        "xls_truncated": (xls_truncated, "unreadable", None),
        "ole2_garbage": (ole2_garbage, "unreadable", None),
        "encrypted": (encrypted, "encrypted", None),
        "macros": (macros, "macros", None),
        "zip_bomb_ratio": (bomb, "zip_bomb", None),
        "zip_bomb_entries": (many_entries, "zip_bomb", None),
        "xml_entity_bomb": (
            _with_sheet_xml(tmp, "lol", _replace_decl(BILLION_LAUGHS)),
            "xml_dtd",
            None,
        ),
        "xxe": (_with_sheet_xml(tmp, "xxe", _replace_decl(XXE)), "xml_dtd", None),
        "absurd_dimensions": (absurd, "absurd_dimensions", "支付"),
        "external_links": (external, "external_links", None),
        "formula_no_cache": (formula, "formula_no_cached_value", "支付"),
        "unknown_template": (unknown, "unknown_template", "Sheet1"),
        "missing_columns": (missing_cols, "missing_required_columns", "支付"),
        "unknown_unit": (unknown_unit, "unknown_unit", "支付"),
        "missing_unit": (no_unit, "missing_unit", "支付"),
    }


CASES = list(_build_cases(Path("/nonexistent")).keys())


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_quarantined_and_others_load(case: str, settings: Settings, query, tmp_path):
    build, reason, sheet = _build_cases(tmp_path)[case]
    bad = settings.inbox / f"{case}.xlsx"  # every bad file claims to be .xlsx
    build(bad)
    _good(settings.inbox / "good.xlsx")
    original = bad.read_bytes()

    summary = ingest_files(settings, limits=FAST)  # isolated worker (default), short wait

    by_name = {f.file: f for f in summary.files}
    assert by_name["good.xlsx"].status == "loaded"
    result = by_name[bad.name]
    assert (result.status, result.reason_code) == ("quarantined", reason)
    assert result.sheet == sheet
    assert (summary.files_loaded, summary.files_quarantined) == (1, 1)
    # nothing lost: byte-identical copy plus a machine-readable reason
    qdir = settings.quarantine / result.sha256
    assert (qdir / bad.name).read_bytes() == original
    why = json.loads((qdir / "reason.json").read_text(encoding="utf-8"))
    assert why["reason_code"] == reason and why["file"] == bad.name
    assert why["message_zh"] and why["message_en"] and why["expected"]
    # a clerk can act on it: no raw exception text or hex bytes in the Chinese message
    assert not re.search(r"[A-Za-z]*(Error|Exception)\b|starts with|[0-9a-f]{8}", why["message_zh"])
    assert why["sheet"] == sheet
    # the good file's row is in, the bad file left no data rows, the log has both
    assert query("select count(*), min(file_name) from raw.payments") == [(1, "good.xlsx")]
    assert query(
        "select status, reason_code, quarantine_path from raw.load_log where file_name = ?",
        [bad.name],
    ) == [("quarantined", reason, str(qdir / bad.name))]
    assert query("select count(*) from raw.submissions") == [(1,)]
    # a quarantined file is not retried on the next run
    assert ingest_files(settings, limits=FAST).files_quarantined == 0


def test_genuine_xls_loads_like_the_xlsx(settings: Settings, query, tmp_path: Path):
    """A BIFF8 .xls (what WPS and old Excel send) loads the same rows as its .xlsx."""
    src = _good(settings.inbox / "a.xlsx")
    xlsx_to_xls(src, settings.inbox / "b.xls")
    summary = ingest_files(settings)
    assert {f.file: f.status for f in summary.files} == {"a.xlsx": "loaded", "b.xls": "loaded"}
    cols = "project_key, fiscal_year, payment_date, amount_yuan, payee, voucher_no"
    a, b = (
        query(f"select {cols} from raw.payments where file_name = ?", [name])
        for name in ("a.xlsx", "b.xls")
    )
    assert a == b and len(a) == 1


@pytest.mark.parametrize(
    ("case", "words_zh", "words_en"),
    [
        ("empty", "空的（0 字节）", "the file is empty (0 bytes)"),
        ("csv_text", "另存为 Excel 工作簿", "open it in Excel and save as .xlsx"),
        ("xlsb", "另存为 Excel 工作簿（.xlsx）", "save as Excel workbook (.xlsx)"),
        ("ods", "另存为 Excel 工作簿（.xlsx）", "save as Excel workbook (.xlsx)"),
        ("encrypted", "去掉密码", "remove the password"),
        ("xls_encrypted", "去掉密码", "remove the password"),
    ],
)
def test_file_kind_messages_say_how_to_fix(
    case: str, words_zh: str, words_en: str, settings: Settings, tmp_path: Path
) -> None:
    build, reason, _sheet = _build_cases(tmp_path)[case]
    bad = settings.inbox / f"{case}.xlsx"
    build(bad)
    result = ingest_files(settings, [bad], limits=Limits(stable_seconds=0.1), workers=0).files[0]
    assert result.reason_code == reason
    assert words_zh in (result.message_zh or "") and words_en in (result.message_en or "")
    assert "workbook.xml missing" not in (result.message_en or "")
    assert "starts with" not in (result.message_en or "") or case == "not_xlsx"


def test_total_size_cap(settings: Settings):
    path = _good(settings.inbox / "big.xlsx")
    summary = ingest_files(settings, [path], limits=Limits(max_total_uncompressed=4000))
    assert summary.files[0].reason_code == "zip_bomb"
    assert "4000" in (summary.files[0].message_en or "")


def test_zip_lying_about_sizes_is_caught(settings: Settings, tmp_path: Path):
    """A sheet that decompresses beyond its declared size never reaches calamine."""
    dst = _good(settings.inbox / "liar.xlsx")
    data = bytearray(dst.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    idx = data.find(name)
    while idx != -1 and data[idx - 46 : idx - 42] != b"PK\x01\x02":  # central directory entry
        idx = data.find(name, idx + 1)
    assert idx != -1
    data[idx - 46 + 24 : idx - 46 + 28] = (10).to_bytes(4, "little")  # uncompressed size := 10
    dst.write_bytes(bytes(data))
    summary = ingest_files(settings, [dst])
    # zipfile stops at the declared size and the CRC check fails: refused as corrupt
    assert (summary.files[0].status, summary.files[0].reason_code) == ("quarantined", "corrupt_zip")
