"""One file per bad-input class (问题文件样例), for quarantine and row-rejection tests.

:func:`write_all` writes every class into a folder and returns ``{class: path}``;
:data:`EXPECTED_REASON` maps each class to the ingest ``reason_code`` it should produce
(``None`` for :data:`ROW_LEVEL` classes, where the file loads and some rows are rejected).
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal as D
from pathlib import Path

from openpyxl import Workbook

from jixiao.samples._xls import biff5_book, with_filepass, with_vba, xlsx_to_xls
from jixiao.samples._xlsx import fixed_info, new_workbook, save_deterministic
from jixiao.samples.cfb import compound_file
from jixiao.samples.ledger import Ledger, LedgerSheet, write_ledger

#: class -> reason_code the ingest should record (None: the file loads, rows are rejected).
EXPECTED_REASON: dict[str, str | None] = {
    "not_xlsx": "not_xlsx",
    "not_xlsx_text": "not_xlsx",
    "corrupt_zip": "corrupt_zip",
    "legacy_xls": "legacy_xls",
    "xls_encrypted": "encrypted",
    "xls_macros": "macros",
    "xls_corrupt": "unreadable",
    "xlsm": "macros",
    "macros_renamed_xlsx": "macros",
    "encrypted": "encrypted",
    "zip_bomb": "zip_bomb",
    "zip_entry_count": "zip_bomb",
    "xml_entity_bomb": "xml_dtd",
    "xxe": "xml_dtd",
    "absurd_dimension": "absurd_dimensions",
    "external_link": "external_links",
    "unknown_template": "unknown_template",
    "missing_required_columns": "missing_required_columns",
    "unknown_unit": "unknown_unit",
    "unparseable_values": None,
    "formula_no_cache": "formula_no_cached_value",
}
ROW_LEVEL = frozenset(k for k, v in EXPECTED_REASON.items() if v is None)

#: unparseable_values: Excel rows (1-based) that must be rejected, and how many rows load.
UNPARSEABLE_BAD_ROWS = (4, 7, 9)
UNPARSEABLE_GOOD_ROWS = 7
#: zip_bomb: decompressed size of the bomb entry (over the 256 MiB cap, ratio ~1000:1).
BOMB_BYTES = 300 * 1024 * 1024
ZIP_ENTRY_COUNT = 3000

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_CODE = "BAD-2023-001"


def write_all(dest: Path) -> dict[str, Path]:
    """Write one file per bad-input class into ``dest`` (写出全部问题文件)."""
    dest.mkdir(parents=True, exist_ok=True)
    return {name: writer(dest) for name, writer in WRITERS.items()}


# ------------------------------------------------------------------ a good base workbook
def _payment_rows(n: int = 3) -> list[dict[str, object]]:
    return [
        {
            "project_code": _CODE,
            "year": 2023,
            "payment_date": date(2023, 3 + i, 15),
            "amount": D("1000.00") * (i + 1),
            "fund_source": "当年财政拨款",
            "payee": "示例供应商有限公司",
            "voucher_no": f"PZ-{i + 1:04d}",
            "summary": "运维服务费",
        }
        for i in range(n)
    ]


def _base_bytes() -> bytes:
    """A good one-sheet payments ledger (支付台账) to damage."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_ledger(
            Path(tmp) / "base.xlsx",
            Ledger([LedgerSheet("payments", _payment_rows())], instructions=False),
        )
        return path.read_bytes()


def _rezip(
    data: bytes,
    *,
    replace: dict[str, bytes] | None = None,
    edit: dict[str, Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
) -> bytes:
    """Copy a zip, replacing, editing or adding entries (改写压缩包条目)."""
    replace, edit, add = replace or {}, edit or {}, add or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = replace.get(info.filename, src.read(info.filename))
            if info.filename in edit:
                body = edit[info.filename](body)
            dst.writestr(fixed_info(info.filename), body)
        for name, body in add.items():
            dst.writestr(fixed_info(name), body)
    return out.getvalue()


def _sheet_name_of_first(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))[0]


def _sub_once(pattern: bytes, repl: bytes) -> Callable[[bytes], bytes]:
    def edit(body: bytes) -> bytes:
        new, n = re.subn(pattern, repl, body, count=1)
        if n != 1:
            raise ValueError(f"pattern {pattern!r} not found")
        return new

    return edit


# ------------------------------------------------------------------ not a workbook at all
def not_xlsx(dest: Path) -> Path:
    """PDF bytes named .xlsx (扩展名是 xlsx，内容是 PDF)."""
    body = (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    path = dest / "项目支出绩效自评表_其实是PDF.xlsx"
    path.write_bytes(body)
    return path


def not_xlsx_text(dest: Path) -> Path:
    """CSV text named .xlsx (文本文件改了扩展名)."""
    path = dest / "支付明细_其实是CSV.xlsx"
    path.write_bytes("项目编码,支付金额（元）\nBAD-2023-001,1000.00\n".encode())
    return path


def corrupt_zip(dest: Path) -> Path:
    """A good workbook cut in half: zip magic, no central directory (压缩包损坏)."""
    data = _base_bytes()
    path = dest / "支付台账_传输中断.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def _base_xls_bytes() -> bytes:
    """The good payments ledger saved as a genuine Excel 97-2003 .xls (BIFF8, via xlwt)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "base.xlsx"
        src.write_bytes(_base_bytes())
        return xlsx_to_xls(src, Path(tmp) / "base.xls").read_bytes()


def legacy_xls(dest: Path) -> Path:
    """An Excel 5.0/95 workbook: a "Book" stream whose BOF says BIFF5 (Excel 95 旧版 .xls).

    Genuine Excel 97-2003 (BIFF8) .xls files load; Excel 95 and older are still refused.
    """
    path = dest / "项目台账_Excel95.xls"
    path.write_bytes(biff5_book(_base_xls_bytes()))
    return path


def xls_encrypted(dest: Path) -> Path:
    """A .xls with an open password: a FILEPASS record after the globals' BOF (加密 .xls)."""
    path = dest / "支付台账_已加密.xls"
    path.write_bytes(with_filepass(_base_xls_bytes()))
    return path


def xls_macros(dest: Path) -> Path:
    """A .xls carrying a VBA project (_VBA_PROJECT_CUR/VBA storages) (含宏 .xls)."""
    path = dest / "支付台账_含宏.xls"
    path.write_bytes(with_vba(_base_xls_bytes()))
    return path


def xls_corrupt(dest: Path) -> Path:
    """A genuine .xls cut in half: the compound file's sectors are missing (.xls 传输中断)."""
    data = _base_xls_bytes()
    path = dest / "支付台账_旧版_传输中断.xls"
    path.write_bytes(data[: len(data) // 2])
    return path


def encrypted(dest: Path) -> Path:
    """What Office writes for a password-protected .xlsx: an OLE2 container with
    ``EncryptionInfo`` and ``EncryptedPackage`` streams (加密工作簿)."""
    info = (
        b"\x04\x00\x04\x00\x40\x00\x00\x00"
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" '
        b'cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512"/>'
        b"</encryption>"
    )
    package = (8192).to_bytes(8, "little") + bytes(range(256)) * 32
    path = dest / "绩效自评表_已加密.xlsx"
    path.write_bytes(compound_file([("EncryptionInfo", info), ("EncryptedPackage", package)]))
    return path


# ------------------------------------------------------------------ dangerous packages
_VBA_CT = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
_VBA_REL = (
    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
    b'relationships/vbaProject" Target="vbaProject.bin"/>'
)


def _macro_bytes() -> bytes:
    data = _base_bytes()
    return _rezip(
        data,
        edit={
            "[Content_Types].xml": lambda b: b.replace(
                b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            ).replace(b"<Default ", _VBA_CT + b"<Default ", 1),
            "xl/_rels/workbook.xml.rels": lambda b: b.replace(
                b"</Relationships>", _VBA_REL + b"</Relationships>"
            ),
        },
        add={"xl/vbaProject.bin": compound_file([("dir", b'Attribute VB_Name = "Module1"')])},
    )


def xlsm(dest: Path) -> Path:
    """A macro-enabled workbook with xl/vbaProject.bin (含宏 .xlsm)."""
    path = dest / "支付台账_含宏.xlsm"
    path.write_bytes(_macro_bytes())
    return path


def macros_renamed_xlsx(dest: Path) -> Path:
    """The same macro workbook renamed to .xlsx (含宏但改名为 .xlsx)."""
    path = dest / "支付台账_含宏改名.xlsx"
    path.write_bytes(_macro_bytes())
    return path


def zip_bomb(dest: Path, size: int = BOMB_BYTES) -> Path:
    """A workbook whose sheet entry inflates to ``size`` bytes of blanks (压缩炸弹)."""
    data = _base_bytes()
    sheet = _sheet_name_of_first(data)
    path = dest / "支付台账_压缩炸弹.xlsx"
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename != sheet:
                dst.writestr(fixed_info(info.filename), body)
                continue
            with dst.open(fixed_info(sheet), "w", force_zip64=True) as fh:
                fh.write(body)
                chunk = b" " * (1 << 20)
                remaining = size - len(body)
                while remaining > 0:
                    fh.write(chunk[: min(len(chunk), remaining)])
                    remaining -= len(chunk)
    return path


def zip_entry_count(dest: Path, count: int = ZIP_ENTRY_COUNT) -> Path:
    """A workbook padded with thousands of tiny entries (条目数超限)."""
    add = {f"customXml/item{i}.xml": b"<x/>" for i in range(count)}
    path = dest / "支付台账_条目过多.xlsx"
    path.write_bytes(_rezip(_base_bytes(), add=add))
    return path


_LOLS = "".join(f'  <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">\n' for i in range(1, 10))
ENTITY_BOMB_DTD = ('<!DOCTYPE worksheet [\n  <!ENTITY lol0 "lol">\n' + _LOLS + "]>\n").encode()
XXE_DTD = b'<!DOCTYPE worksheet [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'


def _dtd_sheet(dtd: bytes, entity: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        + dtd
        + f"<worksheet {_NS}><sheetData>".encode()
        + '<row r="1"><c r="A1" t="inlineStr"><is><t>项目编码</t></is></c>'.encode()
        + b'<c r="B1" t="inlineStr"><is><t>&'
        + entity
        + b";</t></is></c></row>"
        + b"</sheetData></worksheet>"
    )


def xml_entity_bomb(dest: Path) -> Path:
    """Billion laughs in the sheet XML (XML 实体炸弹)."""
    data = _base_bytes()
    path = dest / "支付台账_实体炸弹.xlsx"
    path.write_bytes(
        _rezip(data, replace={_sheet_name_of_first(data): _dtd_sheet(ENTITY_BOMB_DTD, b"lol9")})
    )
    return path


def xxe(dest: Path) -> Path:
    """An external entity pointing at /etc/passwd in the sheet XML (XXE 外部实体)."""
    data = _base_bytes()
    path = dest / "支付台账_外部实体.xlsx"
    path.write_bytes(
        _rezip(data, replace={_sheet_name_of_first(data): _dtd_sheet(XXE_DTD, b"xxe")})
    )
    return path


def absurd_dimension(dest: Path) -> Path:
    """A payments ledger with a stray cell at XFD1048576: dimension A1:XFD1048576 (尺寸异常)."""
    wb: Workbook = new_workbook()
    ws = wb.create_sheet("支付")
    ws.append(["项目编码", "年度", "支付日期", "支付金额（元）"])
    for row in _payment_rows():
        ws.append([row["project_code"], row["year"], row["payment_date"], row["amount"]])
    ws["XFD1048576"] = "尾"
    return save_deterministic(wb, dest / "支付台账_尺寸异常.xlsx")


_EXT_LINK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
    b'<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>1000</v></cell></row>'
    b"</sheetData></sheetDataSet></externalBook></externalLink>"
)
_EXT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/externalLinkPath" Target="file:///C:/%E8%B4%A2%E6%94%BF%E5%B1%80/'
    b'budget2023.xlsx" TargetMode="External"/></Relationships>'
)
EXTERNAL_LINK_PART = "xl/externalLinks/externalLink1.xml"


def external_link(dest: Path) -> Path:
    """A workbook with xl/externalLinks/externalLink1.xml and a formula using it (外部链接)."""
    data = _base_bytes()
    sheet = _sheet_name_of_first(data)
    ct = (
        b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
    )
    rel = (
        b'<Relationship Id="rIdExt1" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/externalLink" '
        b'Target="externalLinks/externalLink1.xml"/>'
    )
    cell = b'<c r="D3"><f>[1]Sheet1!$A$1</f><v>1000</v></c>'
    path = dest / "支付台账_外部链接.xlsx"
    path.write_bytes(
        _rezip(
            data,
            edit={
                "[Content_Types].xml": lambda b: b.replace(b"</Types>", ct + b"</Types>"),
                "xl/_rels/workbook.xml.rels": lambda b: b.replace(
                    b"</Relationships>", rel + b"</Relationships>"
                ),
                "xl/workbook.xml": _sub_once(
                    rb"</sheets>",
                    b'</sheets><externalReferences><externalReference r:id="rIdExt1"/>'
                    b"</externalReferences>",
                ),
                sheet: _sub_once(rb'<c r="D3"[^>]*>.*?</c>', cell),
            },
            add={
                EXTERNAL_LINK_PART: _EXT_LINK,
                "xl/externalLinks/_rels/externalLink1.xml.rels": _EXT_RELS,
            },
        )
    )
    return path


# ------------------------------------------------------------------ readable, but wrong
def unknown_template(dest: Path) -> Path:
    """A valid workbook with unrelated tables: a staff list and a canteen menu (未知模板)."""
    wb = new_workbook()
    staff = wb.create_sheet("员工通讯录")
    staff.append(["姓名", "科室", "办公电话", "手机"])
    staff.append(["张三", "办公室", "0750-3988977", "13800000000"])
    staff.append(["李四", "规划建设股", "0750-3988978", "13900000000"])
    menu = wb.create_sheet("食堂菜单")
    menu.append(["星期", "午餐", "晚餐"])
    menu.append(["星期一", "红烧肉", "番茄炒蛋"])
    return save_deterministic(wb, dest / "通讯录和菜单.xlsx")


def missing_required_columns(dest: Path) -> Path:
    """A payments ledger without its amount column (缺少“支付金额”列)."""
    return write_ledger(
        dest / "支付台账_缺少金额列.xlsx",
        [LedgerSheet("payments", _payment_rows(), omit=("amount",))],
    )


def unknown_unit(dest: Path) -> Path:
    """A payments ledger in 美元 (无法识别的单位)."""
    return write_ledger(
        dest / "支付台账_美元.xlsx", [LedgerSheet("payments", _payment_rows(), unit="美元")]
    )


def unparseable_values(dest: Path) -> Path:
    """Ten payment rows, three of them unparseable (rows 4, 7, 9); the other seven load."""
    rows = _payment_rows(10)
    rows[2]["amount"] = "一万二"  # Excel row 4
    rows[5]["amount"] = "12..5"  # Excel row 7
    rows[7]["payment_date"] = "2023-13-45"  # Excel row 9
    return write_ledger(dest / "支付台账_部分行无法解析.xlsx", [LedgerSheet("payments", rows)])


def formula_no_cache(dest: Path) -> Path:
    """A payments ledger whose amount is a formula saved without a cached value (公式无缓存值)."""
    rows = _payment_rows()
    rows[1]["amount"] = "=1000+1000"
    return write_ledger(dest / "支付台账_公式无缓存.xlsx", [LedgerSheet("payments", rows)])


WRITERS: dict[str, Callable[[Path], Path]] = {
    "not_xlsx": not_xlsx,
    "not_xlsx_text": not_xlsx_text,
    "corrupt_zip": corrupt_zip,
    "legacy_xls": legacy_xls,
    "xls_encrypted": xls_encrypted,
    "xls_macros": xls_macros,
    "xls_corrupt": xls_corrupt,
    "xlsm": xlsm,
    "macros_renamed_xlsx": macros_renamed_xlsx,
    "encrypted": encrypted,
    "zip_bomb": zip_bomb,
    "zip_entry_count": zip_entry_count,
    "xml_entity_bomb": xml_entity_bomb,
    "xxe": xxe,
    "absurd_dimension": absurd_dimension,
    "external_link": external_link,
    "unknown_template": unknown_template,
    "missing_required_columns": missing_required_columns,
    "unknown_unit": unknown_unit,
    "unparseable_values": unparseable_values,
    "formula_no_cache": formula_no_cache,
}
assert set(WRITERS) == set(EXPECTED_REASON)
