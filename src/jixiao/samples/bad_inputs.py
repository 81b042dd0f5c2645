"""One file per bad-input class (问题文件样例), for quarantine and row-rejection tests.

:func:`write_all` writes every class into a folder and returns ``{class: path}``;
:data:`EXPECTED_REASON` maps each class to the ingest ``reason_code`` it should produce
(``None`` for :data:`ROW_LEVEL` classes, where the file loads and some rows are rejected).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from jixiao.samples._xls import biff5_book, with_filepass, with_vba, xlsx_to_xls
from jixiao.samples._xlsx import fixed_info, new_workbook, save_deterministic, seeded
from jixiao.samples.cfb import compound_file
from jixiao.samples.ledger import Ledger, LedgerSheet, write_ledger

#: class -> reason_code the ingest should record (None: the file loads, rows are rejected).
EXPECTED_REASON: dict[str, str | None] = {
    "not_xlsx": "not_xlsx",
    "not_xlsx_text": "csv_file",  # text: say "save as .xlsx", not "starts with ..."
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


def _macro_bytes(module: str = "Module1") -> bytes:
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
        add={
            "xl/vbaProject.bin": compound_file(
                [("dir", f'Attribute VB_Name = "{module}"'.encode())]
            )
        },
    )


def xlsm(dest: Path) -> Path:
    """A macro-enabled workbook with xl/vbaProject.bin (含宏 .xlsm)."""
    path = dest / "支付台账_含宏.xlsm"
    path.write_bytes(_macro_bytes())
    return path


def macros_renamed_xlsx(dest: Path) -> Path:
    """The same macro workbook renamed to .xlsx (含宏但改名为 .xlsx)."""
    path = dest / "支付台账_含宏改名.xlsx"
    path.write_bytes(_macro_bytes("Module2"))  # its own bytes: not a duplicate of the .xlsm
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


# ================================================================== the hostile corpus (issue 11)
# Every case writes one file (or a small set) into a folder; its expectation is derived from
# what the case writes (counts of the rows it damages, the reason its defect calls for).

OUTCOMES = ("quarantined", "rows_rejected", "loaded", "loaded_with_flag", "skipped_unstable")
CORPUS_DEPARTMENT = "语料测试局"  # the department of the corpus's own ledgers


@dataclass(frozen=True)
class Expect:
    """What the nightly must do with a case's subject file (预期结果).

    ``quarantined``: the file is quarantined with ``reason_code`` (``copy``: a byte-identical
    copy is kept; False for entries that cannot or must not be read: symlinks, FIFOs, files
    without read permission). ``rows_rejected``: the file loads; ``rejected`` gives the count
    of rejected rows per reason_code and ``rows_loaded`` the rows that load. ``loaded``: every
    row loads (``rows_loaded``). ``loaded_with_flag``: loads, and ``flag`` names what must be
    recorded about it (``sheet_ignored:<sheet>`` in load_log.sheets_ignored, or
    ``review_flag:<flag_code>`` in marts.mart_review_flags). ``skipped_unstable``: the file is
    still being written on the first night (neither loaded nor quarantined) and loads the
    next night with ``rows_loaded`` rows.
    """

    outcome: str
    reason_code: str | None = None
    rejected: tuple[tuple[str, int], ...] = ()
    rows_loaded: int | None = None
    copy: bool = True
    sheet: str | None = None
    cell: str | None = None
    message_zh_has: tuple[str, ...] = ()
    message_en_has: tuple[str, ...] = ()
    message_en_not: tuple[str, ...] = ()  # what an unhelpful message said ("starts with ,")
    flag: str | None = None
    night: int = 1  # the night whose run the outcome is checked after
    spent_yuan: D | None = None  # the project's 2023 spending in the published marts after it

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}")
        if (self.outcome == "quarantined") != (self.reason_code is not None):
            raise ValueError("a reason_code goes with (and only with) a quarantine")
        if (self.outcome == "rows_rejected") != bool(self.rejected):
            raise ValueError("rejected counts go with (and only with) rows_rejected")


@dataclass(frozen=True)
class Case:
    """One hostile or careless submission (一个问题样例).

    ``write(dest)`` writes the files of the first night and returns their paths, the subject
    last; the others (``companions``) must load cleanly. ``second_night(dest)``, if any,
    writes the subject arriving before the second night. ``skip`` says why the case cannot
    be built here (e.g. permissions mean nothing to root).
    """

    name: str
    zh: str
    en: str
    write: Callable[[Path], list[Path]]
    expect: Expect
    second_night: Callable[[Path], list[Path]] | None = None
    skip: Callable[[], str | None] = lambda: None

    @property
    def nights(self) -> int:
        return 2 if self.second_night is not None or self.expect.night == 2 else 1


def case_code(case: str) -> str:
    """A project code owned by one case only (every case registers its own project)."""
    return "HC-" + case.upper().replace("_", "-")


def _project(code: str, department: str = CORPUS_DEPARTMENT, name: str | None = None) -> dict:
    return {
        "project_code": code,
        "project_name": name or f"{code} 信息化运维项目",
        "category": "政务服务",
        "department": department,
        "implementing_unit": department,
        "province": "广东省",
        "city": "江门市",
        "start_year": 2023,
        "end_year": 2023,
    }


def _payments(code: str, n: int = 3, year: int = 2023) -> list[dict[str, object]]:
    return [
        {
            "project_code": code,
            "year": year,
            "payment_date": date(year, 3 + i, 15),
            "amount": D("1000.00") * (i + 1),
            "fund_source": "当年财政拨款",
            "payee": "示例供应商有限公司",
            "voucher_no": f"{code}-PZ-{i + 1:04d}",
            "summary": "运维服务费",
        }
        for i in range(n)
    ]


def _ledger(
    path: Path,
    code: str,
    payments: list[dict[str, object]] | None = None,
    *,
    extra: list[LedgerSheet] | None = None,
    department: str = CORPUS_DEPARTMENT,
) -> Path:
    """A good ledger: the case's own project registered, and its payments (登记+支付)."""
    sheets = [
        LedgerSheet("projects", [_project(code, department)]),
        LedgerSheet("payments", _payments(code) if payments is None else payments),
        *(extra or []),
    ]
    return write_ledger(path, Ledger(sheets, instructions=False))


def _ledger_bytes(code: str, payments: list[dict[str, object]] | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return _ledger(Path(tmp) / "x.xlsx", code, payments).read_bytes()


def _zip_edit(data: bytes, part_pred: Callable[[str], bool], old: bytes, new: bytes) -> bytes:
    """Replace ``old`` by ``new`` exactly once over the zip parts ``part_pred`` selects."""
    out = io.BytesIO()
    hits = 0
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if part_pred(info.filename) and old in body:
                hits += body.count(old)
                body = body.replace(old, new)
            dst.writestr(fixed_info(info.filename), body)
    if hits != 1:
        raise ValueError(f"{old!r} found {hits} times, expected once")
    return out.getvalue()


def _sheets(name: str) -> bool:
    return name.startswith("xl/worksheets/sheet")


def _strings(name: str) -> bool:
    return name == "xl/sharedStrings.xml"


def _sheet_part(data: bytes, title: str) -> str:
    """The zip part of the sheet called ``title`` (via workbook.xml and its rels)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        wb = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    m = re.search(rf'<sheet[^>]*name="{re.escape(title)}"[^>]*r:id="([^"]+)"', wb)
    if m is None:
        raise ValueError(f"no sheet {title!r}")
    t = re.search(rf'<Relationship[^>]*Id="{m.group(1)}"[^>]*Target="([^"]+)"', rels)
    if t is None:
        t = re.search(rf'<Relationship[^>]*Target="([^"]+)"[^>]*Id="{m.group(1)}"', rels)
    assert t is not None
    target = t.group(1).lstrip("/")
    return target if target.startswith("xl/") else "xl/" + target


# ------------------------------------------------------------------ numbers
_SENTINEL = D("987654.321")


def _eval_row(code: str, score: object) -> dict[str, object]:
    return {
        "project_code": code,
        "period": "2023",
        "evaluation_type": "单位自评",
        "evaluator": CORPUS_DEPARTMENT,
        "scheme": "投入/过程/产出/效益",
        "level1": "产出",
        "max_score": 30,
        "score": score,
        "grade": "优",
    }


def _evaluations_case(name: str, fname: str, xml_value: bytes | None, score: object) -> Callable:
    """A ledger with two evaluation rows; the second's score is ``xml_value`` in the XML."""

    def write(dest: Path) -> list[Path]:
        code = case_code(name)
        path = dest / fname
        good = _eval_row(code, 25)
        bad = _eval_row(code, _SENTINEL if xml_value is not None else score)
        bad["level1"] = "效益"
        _ledger(path, code, extra=[LedgerSheet("evaluations", [good, bad])])
        if xml_value is not None:
            path.write_bytes(
                _zip_edit(
                    path.read_bytes(), _sheets, b"<v>987654.321</v>", b"<v>" + xml_value + b"</v>"
                )
            )
        return [path]

    return write


def _payments_case(
    name: str, fname: str, damage: Callable[[list[dict[str, object]]], None], n: int = 4
) -> Callable:
    """A ledger registering the case's project with ``n`` payments, damaged in place."""

    def write(dest: Path) -> list[Path]:
        code = case_code(name)
        rows = _payments(code, n)
        damage(rows)
        return [_ledger(dest / fname, code, rows)]

    return write


def _set(i: int, **values: object) -> Callable[[list[dict[str, object]]], None]:
    def damage(rows: list[dict[str, object]]) -> None:
        rows[i].update(values)

    return damage


def _openpyxl_edit(path: Path, sheet: str, edit: Callable[[Any], None]) -> Path:
    """Load ``path`` with openpyxl, edit one sheet, save reproducibly (改写工作表)."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    edit(wb[sheet])
    return save_deterministic(wb, path)


def serial_60_date(dest: Path) -> list[Path]:
    """A payment dated Excel serial 60: 1900-02-29, a day that never existed (序列号 60)."""
    name = "date_serial_60"
    code = case_code(name)
    path = _ledger(dest / "支付台账_日期序列号60.xlsx", code, _payments(code, 4))

    def edit(ws: Any) -> None:
        cell = ws.cell(row=3, column=3)  # header on row 1; the second payment's date
        cell.value = 60
        cell.number_format = "yyyy-mm-dd"

    return [_openpyxl_edit(path, "支付", edit)]


def negative_initial_budget(dest: Path) -> list[Path]:
    """A budget sheet whose 年初预算 is written as -50000 (年初预算为负数)."""
    code = case_code("negative_initial_budget")
    budget = [
        {
            "project_code": code,
            "year": 2023,
            "line_type": "年初预算",
            "fund_source": "当年财政拨款",
            "amount": D("-50000.00"),
            "date": date(2023, 1, 10),
            "reason": "年初安排",
        },
        {
            "project_code": code,
            "year": 2023,
            "line_type": "追加",
            "fund_source": "当年财政拨款",
            "amount": D("8000.00"),
            "date": date(2023, 6, 10),
            "reason": "年中追加",
        },
    ]
    return [
        _ledger(
            dest / "预算台账_年初预算为负.xlsx", code, extra=[LedgerSheet("budget_lines", budget)]
        )
    ]


def unknown_line_type(dest: Path) -> list[Path]:
    """A budget sheet with a line type 随便填 next to a good 年初预算 (未知预算类型)."""
    code = case_code("unknown_line_type")
    budget = [
        {
            "project_code": code,
            "year": 2023,
            "line_type": "年初预算",
            "fund_source": "当年财政拨款",
            "amount": D("50000.00"),
            "date": date(2023, 1, 10),
            "reason": "年初安排",
        },
        {
            "project_code": code,
            "year": 2023,
            "line_type": "随便填",
            "fund_source": "当年财政拨款",
            "amount": D("8000.00"),
            "date": date(2023, 6, 10),
            "reason": "不知道选哪个",
        },
    ]
    return [
        _ledger(dest / "预算台账_未知类型.xlsx", code, extra=[LedgerSheet("budget_lines", budget)])
    ]


def yuan_under_wan_caption(dest: Path) -> list[Path]:
    """Amounts in 元 typed under a 金额单位：万元 caption: 2022's 45.5 万元 is right, 2023's
    455000 (元 meant) reads as 455000 万元 = 45.5 亿元, 10,000 x the year before (单位写错)."""
    code = case_code("yuan_under_wan_caption")
    budget = [
        {
            "project_code": code,
            "year": 2022,
            "line_type": "年初预算",
            "fund_source": "当年财政拨款",
            "amount": D("45.50"),
            "date": date(2022, 1, 10),
            "reason": "年初安排",
        },
        {
            "project_code": code,
            "year": 2023,
            "line_type": "年初预算",
            "fund_source": "当年财政拨款",
            "amount": D("455000.00"),
            "date": date(2023, 1, 10),
            "reason": "年初安排",
        },
    ]
    return [
        _ledger(
            dest / "预算台账_元写在万元下.xlsx",
            code,
            [],
            extra=[LedgerSheet("budget_lines", budget, unit="万元", unit_in="caption")],
        )
    ]


def duplicate_code(dest: Path) -> list[Path]:
    """A project register listing the same code twice (same sheet, same year) (编码重复)."""
    code = case_code("duplicate_code")
    projects = [_project(code), _project(code + "-B"), _project(code, name="重复登记的另一个项目")]
    path = dest / "项目登记_编码重复.xlsx"
    return [write_ledger(path, Ledger([LedgerSheet("projects", projects)], instructions=False))]


def department_clash(dest: Path) -> list[Path]:
    """Department A registers a code; department B's file then registers the same code and
    pays under it (plus one project of its own) (两个部门使用同一项目编码)."""
    code = case_code("department_clash")
    own = code + "-OWN"
    first = _ledger(dest / "甲部门_项目台账.xlsx", code, department="甲局（编码所有者）")
    old = dest.stat().st_mtime - 3600
    os.utime(first, (old, old))
    sheets = [
        LedgerSheet(
            "projects", [_project(code, "乙局（冒用编码）"), _project(own, "乙局（冒用编码）")]
        ),
        LedgerSheet("payments", _payments(code, 2) + _payments(own, 1)),
    ]
    second = write_ledger(dest / "乙部门_项目台账.xlsx", Ledger(sheets, instructions=False))
    return [first, second]


def template_example_rows(dest: Path) -> list[Path]:
    """The standard template sent back with its example rows left in, plus one real payment
    row under the example (模板示例行未删除)."""
    from jixiao.ingest.template import write_template

    path = write_template(dest / "标准报送模板_示例行未删除.xlsx")
    code = case_code("template_example_rows")

    def edit(ws: Any) -> None:
        row = ws.max_row + 1
        header = [c.value for c in ws[2]]
        values = {
            "项目编码": code,
            "年度": 2023,
            "支付日期": date(2023, 5, 20),
            "支付金额": D("1234.00"),
        }
        for col, label in enumerate(header, start=1):
            for key, v in values.items():
                if label and str(label).startswith(key):
                    ws.cell(row=row, column=col, value=v)

    return [_openpyxl_edit(path, "支付", edit)]


def template_example_count() -> int:
    """One example row per data sheet of the template (模板每表一行示例)."""
    from jixiao.ingest.template import SHEETS

    return len(SHEETS)


def usd_caption_b1(dest: Path) -> list[Path]:
    """A payments sheet whose unit caption 金额单位：美元 sits in B1 (A1 empty): a currency
    that is not a yuan unit of seeds/unit_factors.csv (美元单位在 B1)."""
    wb = new_workbook()
    ws = wb.create_sheet("支付")
    ws["B1"] = "金额单位：美元"
    ws.append(["项目编码", "年度", "支付日期", "支付金额", "收款单位"])
    code = case_code("usd_caption_b1")
    for r in _payments(code):
        ws.append([r["project_code"], r["year"], r["payment_date"], r["amount"], r["payee"]])
    return [save_deterministic(wb, dest / "支付台账_美元单位.xlsx")]


def unknown_header_typo(dest: Path) -> list[Path]:
    """The amount column headed 支付金客（元）, a typo of 支付金额（元）(表头错字)."""
    code = case_code("unknown_header_typo")
    sheet = LedgerSheet("payments", _payments(code), headers={"amount": "支付金客{unit}"})
    return [write_ledger(dest / "支付台账_表头错字.xlsx", Ledger([sheet], instructions=False))]


# ------------------------------------------------------------------ file kinds
def csv_gbk(dest: Path) -> list[Path]:
    """A real .csv in GBK (what 另存为 CSV gives on a Chinese Windows) (GBK 编码的 CSV)."""
    path = dest / "支付明细_GBK.csv"
    path.write_bytes("项目编码,年度,支付金额（元）\r\nHC-CSV,2023,1000.00\r\n".encode("gbk"))
    return [path]


def empty_file(dest: Path) -> list[Path]:
    """A 0-byte .xlsx (上传失败留下的空文件)."""
    path = dest / "支付台账_空文件.xlsx"
    path.write_bytes(b"")
    return [path]


_XLSB_CT = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="bin" '
    b'ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    b'<Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Override PartName="/xl/workbook.bin" '
    b'ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    b'<Override PartName="/xl/worksheets/sheet1.bin" '
    b'ContentType="application/vnd.ms-excel.worksheet"/></Types>'
)
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>'
)


def xlsb(dest: Path) -> list[Path]:
    """An Excel binary workbook (.xlsb): a zip of BIFF12 records, no XML parts (二进制工作簿)."""
    path = dest / "支付台账_二进制.xlsb"
    from jixiao.samples._xlsx import write_zip

    # BrtBeginBook (0x83 0x01) ... BrtEndBook: just the record framing, as Excel starts them
    return [
        write_zip(
            path,
            [
                ("[Content_Types].xml", _XLSB_CT),
                ("_rels/.rels", _ROOT_RELS),
                ("xl/workbook.bin", b"\x83\x01\x00\x84\x01\x00"),
                ("xl/worksheets/sheet1.bin", b"\x81\x01\x00\x82\x01\x00"),
            ],
        )
    ]


def ods(dest: Path) -> list[Path]:
    """An OpenDocument spreadsheet (.ods, WPS/LibreOffice's own format) (ODS 表格)."""
    path = dest / "支付台账_开放文档.ods"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        '<office:spreadsheet><table:table table:name="支付"><table:table-row>'
        "<table:table-cell><text:p>项目编码</text:p></table:table-cell>"
        "<table:table-cell><text:p>支付金额（元）</text:p></table:table-cell>"
        "</table:table-row></table:table></office:spreadsheet></office:body>"
        "</office:document-content>"
    ).encode()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            fixed_info("mimetype", zipfile.ZIP_STORED),
            "application/vnd.oasis.opendocument.spreadsheet",
        )
        zf.writestr(fixed_info("content.xml"), content)
        zf.writestr(
            fixed_info("META-INF/manifest.xml"),
            b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
            b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        )
    return [path]


def docx_renamed(dest: Path) -> list[Path]:
    """A Word document renamed to .xlsx: a valid OOXML zip without xl/workbook.xml (Word 改名)."""
    from jixiao.samples._xlsx import write_zip

    doc = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>\xe7\xbb\xa9\xe6\x95\x88\xe8\x87\xaa\xe8\xaf\x84\xe6\x8a\xa5\xe5\x91\x8a"
        b"</w:t></w:r></w:p></w:body></w:document>"
    )
    return [
        write_zip(
            dest / "绩效自评报告_其实是Word.xlsx",
            [
                (
                    "[Content_Types].xml",
                    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
                ),
                ("word/document.xml", doc),
            ],
        )
    ]


def password_encrypted(dest: Path) -> list[Path]:
    """A workbook saved with 文件-加密-用密码进行加密 (an open password), the message must
    say to remove the password (打开密码)."""
    target = dest / "项目支出绩效自评表_设了打开密码.xlsx"
    with tempfile.TemporaryDirectory() as tmp:
        data = bytearray(encrypted(Path(tmp)).read_bytes())
    # a second, different encrypted package (its own bytes) under a clerk's file name
    data[-1] ^= 0x5A
    target.write_bytes(bytes(data))
    return [target]


def sheet_protected(dest: Path) -> list[Path]:
    """A ledger with a protected sheet and a protected structure (编辑密码): still readable."""
    code = case_code("sheet_protected")
    path = _ledger(dest / "支付台账_工作表保护.xlsx", code)

    def edit(ws: Any) -> None:
        ws.protection.sheet = True
        ws.protection.password = "123456"  # noqa: S105 - a sample's edit password

    return [_openpyxl_edit(path, "支付", edit)]


def unreadable_chmod(dest: Path) -> list[Path]:
    """A good ledger the loader may not read (chmod 000) (无读取权限)."""
    code = case_code("unreadable_chmod")
    path = _ledger(dest / "支付台账_无读取权限.xlsx", code)
    os.chmod(path, 0)
    return [path]


def _root_skip() -> str | None:
    if os.geteuid() == 0:
        return "running as root: chmod 000 does not stop root reading the file"
    return None


def non_utf8_name(dest: Path) -> list[Path]:
    """A good ledger whose file name is GBK bytes, not UTF-8 (文件名不是 UTF-8)."""
    code = case_code("non_utf8_name")
    data = _ledger_bytes(code)
    raw = os.fsencode(dest) + b"/" + "支付台账_GBK文件名".encode("gbk") + b".xlsx"
    with open(raw, "wb") as fh:
        fh.write(data)
    return [Path(os.fsdecode(raw))]


def symlink_in_inbox(dest: Path) -> list[Path]:
    """A symlink in the inbox pointing at a (valid) workbook outside it (符号链接)."""
    code = case_code("symlink_in_inbox")
    outside = dest.parent / (dest.name + "_outside")
    outside.mkdir(parents=True, exist_ok=True)
    target = _ledger(outside / "收件箱外的台账.xlsx", code)
    link = dest / "支付台账_符号链接.xlsx"
    link.symlink_to(target)
    return [link]


def fifo_in_inbox(dest: Path) -> list[Path]:
    """A named pipe called .xlsx: opening it would block forever (命名管道)."""
    path = dest / "支付台账_命名管道.xlsx"
    os.mkfifo(path)
    return [path]


def rtl_override_file_name(dest: Path) -> list[Path]:
    """A good ledger whose name carries U+202E (right-to-left override) (文件名含 RLO)."""
    code = case_code("rtl_override_file_name")
    return [_ledger(dest / "支付台账\u202excod.xlsx", code)]


def bel_in_file_name(dest: Path) -> list[Path]:
    """A good ledger whose name carries a BEL control character (文件名含控制字符)."""
    code = case_code("bel_in_file_name")
    return [_ledger(dest / "支付台账\x07响铃.xlsx", code)]


# ------------------------------------------------------------------ package structure
def merge_bomb(dest: Path) -> list[Path]:
    """A 3 KB workbook with one merged range A1000:XFD1048576 (合并区域炸弹)."""
    code = case_code("merge_bomb")
    data = _ledger_bytes(code)
    part = _sheet_part(data, "支付")
    path = dest / "支付台账_合并区域炸弹.xlsx"
    path.write_bytes(
        _zip_edit(
            data,
            lambda n: n == part,
            b"</sheetData>",
            b'</sheetData><mergeCells count="1"><mergeCell ref="A1000:XFD1048576"/></mergeCells>',
        )
    )
    return [path]


def declared_dimension_bomb(dest: Path) -> list[Path]:
    """A sheet whose <dimension> claims A1:XFD1048576 over four real rows (尺寸声明异常)."""
    code = case_code("declared_dimension_bomb")
    data = _ledger_bytes(code)
    part = _sheet_part(data, "支付")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        ref = re.search(rb'<dimension ref="([^"]+)"', zf.read(part))
    assert ref is not None
    path = dest / "支付台账_尺寸声明异常.xlsx"
    path.write_bytes(
        _zip_edit(
            data,
            lambda n: n == part,
            b'<dimension ref="' + ref.group(1) + b'"',
            b'<dimension ref="A1:XFD1048576"',
        )
    )
    return [path]


def zip_truncated_tail(dest: Path) -> list[Path]:
    """A good workbook missing its last 30 bytes: the end-of-central-directory is cut (截断)."""
    data = _ledger_bytes(case_code("zip_truncated_tail"))
    path = dest / "支付台账_末尾截断.xlsx"
    path.write_bytes(data[:-30])
    return [path]


def zip_path_traversal(dest: Path) -> list[Path]:
    """A workbook carrying an entry named ../../../../tmp/jixiao_evil.xml (路径穿越条目)."""
    data = _ledger_bytes(case_code("zip_path_traversal"))
    path = dest / "支付台账_路径穿越.xlsx"
    path.write_bytes(_rezip(data, add={"../../../../tmp/jixiao_evil.xml": b"<evil/>"}))
    return [path]


FORMATTED_EMPTY_ROWS = 100_000


def formatted_empty_rows(dest: Path) -> list[Path]:
    """Four payments followed by 100,000 empty rows that carry a style (10 万空白格式行)."""
    code = case_code("formatted_empty_rows")
    data = _ledger_bytes(code, _payments(code, 4))
    part = _sheet_part(data, "支付")
    start = 6  # header row 1, payments 2..5
    rows = b"".join(
        b'<row r="%d" s="1" customFormat="1" ht="15" customHeight="1"/>' % r
        for r in range(start, start + FORMATTED_EMPTY_ROWS)
    )
    path = dest / "支付台账_十万空白格式行.xlsx"
    path.write_bytes(_zip_edit(data, lambda n: n == part, b"</sheetData>", rows + b"</sheetData>"))
    return [path]


def sheets_200(dest: Path) -> list[Path]:
    """A ledger whose one payments sheet hides among 199 note sheets (200 个工作表)."""
    code = case_code("sheets_200")
    wb = new_workbook()
    reg = wb.create_sheet("项目登记")
    reg.append(["项目编码", "项目名称", "主管部门"])
    reg.append([code, f"{code} 信息化运维项目", CORPUS_DEPARTMENT])
    pay = wb.create_sheet("支付")
    pay.append(["项目编码", "年度", "支付日期", "支付金额（元）", "收款单位"])
    for r in _payments(code):
        pay.append([r["project_code"], r["year"], r["payment_date"], r["amount"], r["payee"]])
    for i in range(198):
        ws = wb.create_sheet(f"备注{i + 1:03d}")
        ws["A1"] = f"第 {i + 1} 页备注：无"
    return [save_deterministic(wb, dest / "支付台账_两百个工作表.xlsx")]


LONG_TEXT_CHARS = 1 << 20


def long_cell_1mb(dest: Path) -> list[Path]:
    """A payment whose 摘要 holds 1 MiB characters (one cell of 1 MB text) (超长单元格)."""
    code = case_code("long_cell_1mb")
    rows = _payments(code)
    rows[1]["summary"] = "LONG_SENTINEL"
    path = _ledger(dest / "支付台账_超长文本.xlsx", code, rows)
    # openpyxl cuts text at Excel's 32,767 characters; the XML is written directly
    # varied characters: a repeated word would be a compression bomb, not just long text
    rng = seeded(11)
    text = "".join(chr(0x4E00 + rng.randrange(0x51A5)) for _ in range(LONG_TEXT_CHARS)).encode()
    path.write_bytes(_zip_edit(path.read_bytes(), _sheets, b"LONG_SENTINEL", text))
    return [path]


STYLE_COUNT = 100_000


def style_bomb(dest: Path) -> list[Path]:
    """A good ledger whose styles.xml declares 100,000 cell formats (样式炸弹)."""
    code = case_code("style_bomb")
    data = _ledger_bytes(code)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        styles = zf.read("xl/styles.xml")
    m = re.search(rb'<cellXfs count="(\d+)">', styles)
    assert m is not None
    extra = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' * STYLE_COUNT
    new = styles.replace(m.group(0), b'<cellXfs count="%d">' % (int(m.group(1)) + STYLE_COUNT), 1)
    new = new.replace(b"</cellXfs>", extra + b"</cellXfs>", 1)
    path = dest / "支付台账_样式炸弹.xlsx"
    path.write_bytes(_rezip(data, replace={"xl/styles.xml": new}))
    return [path]


SHARED_STRINGS = 2_000_000


def shared_strings_bomb(dest: Path) -> list[Path]:
    """A good ledger whose sharedStrings.xml is padded with 2,000,000 unused strings:
    about 40 MB that deflate over 100:1 (共享字符串炸弹)."""
    code = case_code("shared_strings_bomb")
    data = _ledger_bytes(code)
    sst = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'count="%d" uniqueCount="%d">'
        % (SHARED_STRINGS, SHARED_STRINGS)
        + b"<si><t>x</t></si>" * SHARED_STRINGS
        + b"</sst>"
    )
    ct = (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    rel = (
        b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    )
    edit = {
        "[Content_Types].xml": lambda b: b.replace(b"</Types>", ct + b"</Types>"),
        "xl/_rels/workbook.xml.rels": lambda b: b.replace(
            b"</Relationships>", rel + b"</Relationships>"
        ),
    }
    path = dest / "支付台账_共享字符串炸弹.xlsx"
    path.write_bytes(_rezip(data, edit=edit, add={"xl/sharedStrings.xml": sst}))
    return [path]


def formula_error_div0(dest: Path) -> list[Path]:
    """A payment amount that is a formula whose cached result is #DIV/0! (公式错误值)."""
    name = "formula_error_div0"
    code = case_code(name)
    rows = _payments(code, 4)
    rows[2]["amount"] = _SENTINEL
    path = _ledger(dest / "支付台账_公式错误.xlsx", code, rows)
    # the cell says it holds an error (t="e") and caches Excel's #DIV/0!
    path.write_bytes(
        _zip_edit(
            path.read_bytes(),
            _sheets,
            b't="n"><v>987654.321</v>',
            b't="e"><f>1/0</f><v>#DIV/0!</v>',
        )
    )
    return [path]


def hidden_sheet_data(dest: Path) -> list[Path]:
    """A visible payments sheet and a hidden one with last year's payments (隐藏工作表有数据)."""
    code = case_code("hidden_sheet_data")
    hidden = LedgerSheet(
        "payments", _payments(code + "-OLD", 2, 2022), sheet_name="支付（旧）", hidden=True
    )
    return [_ledger(dest / "支付台账_隐藏工作表.xlsx", code, extra=[hidden])]


def fullwidth_digits(dest: Path) -> list[Path]:
    """Amounts and years typed with full-width digits (全角数字), as text (全角数字)."""
    from jixiao.samples._xlsx import fullwidth

    code = case_code("fullwidth_digits")
    rows = _payments(code)
    for r in rows:
        r["amount"] = fullwidth(f"{r['amount']:.2f}")
        r["year"] = fullwidth(str(r["year"]))
    return [_ledger(dest / "支付台账_全角数字.xlsx", code, rows)]


def dates_text_formats(dest: Path) -> list[Path]:
    """Payment dates typed as text the way clerks do: 2023年3月15日, 2023.4.15, 2023/05/15,
    20230615 (文本日期)."""
    code = case_code("dates_text_formats")
    rows = _payments(code, 4)
    for r, text in zip(rows, ("2023年3月15日", "2023.4.15", "2023/05/15", "20230615"), strict=True):
        r["payment_date"] = text
    return [_ledger(dest / "支付台账_文本日期.xlsx", code, rows)]


# ------------------------------------------------------------------ control characters in cells
def _string_patch(path: Path, sentinel: str, xml_text: bytes) -> Path:
    path.write_bytes(_zip_edit(path.read_bytes(), _sheets, sentinel.encode(), xml_text))
    return path


def hyperlink_control_cell(dest: Path) -> list[Path]:
    """A payee written as \\x01=HYPERLINK("http://evil.example","点击") (控制字符+公式注入)."""
    code = case_code("hyperlink_control_cell")
    rows = _payments(code)
    rows[0]["payee"] = "PAYEE_SENTINEL"
    path = _ledger(dest / "支付台账_公式注入.xlsx", code, rows)
    text = "_x0001_=HYPERLINK(&quot;http://evil.example/&quot;,&quot;点击领取&quot;)".encode()
    return [_string_patch(path, "PAYEE_SENTINEL", text)]


def nul_bel_project_name(dest: Path) -> list[Path]:
    """A project name carrying NUL and BEL (_x0000_, _x0007_) and U+202E (名称含 NUL/BEL)."""
    code = case_code("nul_bel_project_name")
    path = dest / "项目登记_名称含控制字符.xlsx"
    project = _project(code, name="NAME_SENTINEL")
    sheets = [LedgerSheet("projects", [project]), LedgerSheet("payments", _payments(code))]
    write_ledger(path, Ledger(sheets, instructions=False))
    text = "智慧_x0000_政务_x0007_平台\u202e运维".encode()
    return [_string_patch(path, "NAME_SENTINEL", text)]


# ------------------------------------------------------------------ versions and growth
def _version(
    path: Path, code: str, amounts: list[D], filled: date, modified: str, mtime: float
) -> Path:
    rows = _payments(code, len(amounts))
    for r, a in zip(rows, amounts, strict=True):
        r["amount"] = a
    sheets = [
        LedgerSheet("projects", [_project(code)]),
        LedgerSheet("payments", rows, title=f"填报日期：{filled.isoformat()}"),
    ]
    write_ledger(path, Ledger(sheets, instructions=False))
    path.write_bytes(
        _zip_edit(
            path.read_bytes(),
            lambda n: n == "docProps/core.xml",
            b"2024-03-20T09:00:00Z</dcterms:modified>",
            modified.encode() + b"</dcterms:modified>",
        )
    )
    os.utime(path, (mtime, mtime))
    return path


NEWER_AMOUNTS = [D("10000.00"), D("20000.00")]  # the newer version pays 30,000 元
OLDER_AMOUNTS = [D("5000.00"), D("5000.00")]  # the older one 10,000 元


def older_resubmission_newer(dest: Path) -> list[Path]:
    """Night 1: the department's newer version (填报日期 2024-03-15)."""
    code = case_code("older_resubmission")
    return [
        _version(
            dest / "语料测试局_2023_支付台账_第二版.xlsx",
            code,
            NEWER_AMOUNTS,
            date(2024, 3, 15),
            "2024-03-15T10:00:00Z",
            time.time() - 86400,
        )
    ]


def older_resubmission_older(dest: Path) -> list[Path]:
    """Night 2: the older version (填报日期 2024-01-10, saved in January) arrives late."""
    code = case_code("older_resubmission")
    return [
        _version(
            dest / "语料测试局_2023_支付台账_第一版.xlsx",
            code,
            OLDER_AMOUNTS,
            date(2024, 1, 10),
            "2024-01-10T10:00:00Z",
            1704880800.0,  # 2024-01-10 10:00 UTC
        )
    ]


def still_growing_bytes() -> bytes:
    """The complete workbook the still-growing case ends up as (写完后的文件)."""
    return _ledger_bytes(case_code("still_growing"))


def still_growing(dest: Path) -> list[Path]:
    """The first half of a workbook still being copied in (正在写入的文件); see :func:`grow`."""
    data = still_growing_bytes()
    path = dest / "支付台账_正在上传.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return [path]


def grow(path: Path, stop: Any, interval: float = 0.5) -> None:
    """Append one more byte of the workbook every ``interval`` s until ``stop`` is set, never
    completing it; call :func:`finish_growing` afterwards (模拟慢速上传)."""
    data = still_growing_bytes()
    while not stop.wait(interval):
        size = path.stat().st_size
        if size < len(data) - 1:
            with path.open("ab") as fh:
                fh.write(data[size : size + 1])


def finish_growing(path: Path) -> Path:
    """Write the rest of the workbook and date it a minute back (上传完成)."""
    data = still_growing_bytes()
    path.write_bytes(data)
    old = time.time() - 60
    os.utime(path, (old, old))
    return path


# ------------------------------------------------------------------ the registry
def _one(writer: Callable[[Path], Path]) -> Callable[[Path], list[Path]]:
    def write(dest: Path) -> list[Path]:
        return [writer(dest)]

    return write


def _q(code: str, **kw: Any) -> Expect:
    return Expect("quarantined", reason_code=code, **kw)


def _rej(loaded: int, **counts: int) -> Expect:
    return Expect("rows_rejected", rejected=tuple(sorted(counts.items())), rows_loaded=loaded)


def _ok(loaded: int) -> Expect:
    return Expect("loaded", rows_loaded=loaded)


#: payments a _ledger writes by default, and its one registered project row
_PAY, _REG = 3, 1
_NOT_STARTS = ("starts with",)  # "starts with cfeec4bf" for a CSV, "starts with ," for empty
_NOT_XML = ("xl/workbook.xml",)  # "xl/workbook.xml missing" for .xlsb / .ods


#: the 21 older classes, described (zh, en)
_EXISTING_TEXT: dict[str, tuple[str, str]] = {
    "not_xlsx": ("扩展名是 xlsx，内容是 PDF", "PDF bytes named .xlsx"),
    "not_xlsx_text": ("CSV 文本改了扩展名 .xlsx", "CSV text named .xlsx"),
    "corrupt_zip": ("传输中断的工作簿（只有一半）", "a workbook cut in half"),
    "legacy_xls": ("Excel 5.0/95 旧版 .xls", "an Excel 5.0/95 (BIFF5) .xls"),
    "xls_encrypted": ("设了打开密码的 .xls", "a .xls with an open password"),
    "xls_macros": ("含宏的 .xls", "a .xls carrying a VBA project"),
    "xls_corrupt": ("传输中断的 .xls", "a genuine .xls cut in half"),
    "xlsm": ("含宏的 .xlsm", "a macro-enabled .xlsm"),
    "macros_renamed_xlsx": ("含宏但改名为 .xlsx", "a macro workbook renamed .xlsx"),
    "encrypted": ("加密的 .xlsx（OLE2 加密包）", "an encrypted .xlsx (OLE2 package)"),
    "zip_bomb": ("解压后 300 MiB 的压缩炸弹", "a zip bomb inflating to 300 MiB"),
    "zip_entry_count": ("3000 个条目的压缩包", "a zip with 3,000 entries"),
    "xml_entity_bomb": ("XML 实体炸弹（billion laughs）", "billion laughs in the sheet XML"),
    "xxe": ("指向 /etc/passwd 的外部实体", "an external entity to /etc/passwd"),
    "absurd_dimension": ("XFD1048576 处有一个单元格", "a stray cell at XFD1048576"),
    "external_link": ("含外部链接的工作簿", "a workbook with an external link"),
    "unknown_template": ("通讯录和食堂菜单（未知模板）", "a staff list and a menu (unknown)"),
    "missing_required_columns": ("支付台账缺少金额列", "a payments ledger without amounts"),
    "unknown_unit": ("金额单位为美元", "amounts in 美元 (US dollars)"),
    "unparseable_values": ("十行支付中三行无法解析", "ten payments, three unparseable"),
    "formula_no_cache": ("公式没有缓存值", "a formula saved without its value"),
}


def _existing() -> list[Case]:
    out = []
    for name, reason in EXPECTED_REASON.items():
        zh, en = _EXISTING_TEXT[name]
        if reason is None:  # unparseable_values: three of ten payment rows
            expect = _rej(UNPARSEABLE_GOOD_ROWS, unparseable_value=len(UNPARSEABLE_BAD_ROWS))
        elif reason == "csv_file":
            expect = _q(reason, message_en_not=_NOT_STARTS)
        else:
            expect = _q(reason)
        out.append(Case(name, zh, en, _one(WRITERS[name]), expect))
    return out


def _cases() -> list[Case]:
    c = Case
    pay = _payments_case
    new = [
        # -------- file kinds a clerk sends by mistake
        c(
            "csv_gbk",
            "GBK 编码的 .csv 文件",
            "a GBK-encoded .csv file",
            csv_gbk,
            _q(
                "csv_file",
                message_zh_has=("xlsx",),
                message_en_has=("xlsx",),
                message_en_not=_NOT_STARTS,
            ),
        ),
        c(
            "empty_file",
            "0 字节的空文件",
            "a 0-byte file",
            empty_file,
            _q("empty_file", message_en_not=_NOT_STARTS),
        ),
        c(
            "xlsb",
            "Excel 二进制工作簿 .xlsb",
            "an Excel binary workbook (.xlsb)",
            xlsb,
            _q(
                "xlsb",
                message_zh_has=("xlsx",),
                message_en_has=("xlsx",),
                message_en_not=_NOT_XML,
            ),
        ),
        c(
            "ods",
            "OpenDocument 表格 .ods",
            "an OpenDocument spreadsheet (.ods)",
            ods,
            _q(
                "ods",
                message_zh_has=("xlsx",),
                message_en_has=("xlsx",),
                message_en_not=_NOT_XML,
            ),
        ),
        c(
            "docx_renamed",
            "Word 文档改名为 .xlsx",
            "a Word document renamed .xlsx",
            docx_renamed,
            _q("not_xlsx"),
        ),
        c(
            "password_encrypted",
            "设了打开密码的工作簿",
            "a workbook with an open password",
            password_encrypted,
            _q("encrypted", message_zh_has=("密码",), message_en_has=("password",)),
        ),
        c(
            "sheet_protected",
            "工作表设了编辑保护密码（仍可读取）",
            "a sheet protected by an edit password (still readable)",
            sheet_protected,
            _ok(_REG + _PAY),
        ),
        # -------- the file system
        c(
            "unreadable_chmod",
            "无读取权限的文件（chmod 000）",
            "a file without read permission",
            unreadable_chmod,
            _q("unreadable_file", copy=False),
            skip=_root_skip,
        ),
        c(
            "non_utf8_name",
            "文件名为 GBK 字节（非 UTF-8）",
            "a file name in GBK bytes, not UTF-8",
            non_utf8_name,
            _ok(_REG + _PAY),
        ),
        c(
            "symlink_in_inbox",
            "收件箱中的符号链接",
            "a symlink in the inbox",
            symlink_in_inbox,
            _q("symlink", copy=False),
        ),
        c(
            "fifo_in_inbox",
            "收件箱中的命名管道",
            "a FIFO in the inbox",
            fifo_in_inbox,
            _q("unreadable_file", copy=False),
        ),
        c(
            "rtl_override_file_name",
            "文件名含从右到左覆盖符 U+202E",
            "a file name with U+202E (right-to-left override)",
            rtl_override_file_name,
            _ok(_REG + _PAY),
        ),
        c(
            "bel_in_file_name",
            "文件名含 BEL 控制字符",
            "a file name with a BEL control character",
            bel_in_file_name,
            _ok(_REG + _PAY),
        ),
        # -------- package and grid size
        c(
            "merge_bomb",
            "合并区域 A1000:XFD1048576 的 3 KB 工作簿",
            "a 3 KB workbook merging A1000:XFD1048576",
            merge_bomb,
            _q(
                "absurd_dimensions",
                sheet="支付",
                message_zh_has=("A1000:XFD1048576",),
                message_en_has=("A1000:XFD1048576",),
            ),
        ),
        c(
            "declared_dimension_bomb",
            "尺寸声明为 A1:XFD1048576",
            "a dimension claiming A1:XFD1048576",
            declared_dimension_bomb,
            _q("absurd_dimensions", sheet="支付"),
        ),
        c(
            "zip_truncated_tail",
            "缺少末尾 30 字节的压缩包",
            "a zip missing its last 30 bytes",
            zip_truncated_tail,
            _q("corrupt_zip"),
        ),
        c(
            "zip_path_traversal",
            "含路径穿越条目（../）的压缩包",
            "a zip with a ../ path-traversal entry",
            zip_path_traversal,
            _q("corrupt_zip"),
        ),
        c(
            "formatted_empty_rows",
            "10 万行带格式的空行",
            "100,000 empty formatted rows",
            formatted_empty_rows,
            _ok(_REG + 4),
        ),
        c(
            "sheets_200",
            "200 个工作表的工作簿",
            "a workbook with 200 sheets",
            sheets_200,
            _ok(_REG + _PAY),
        ),
        c(
            "long_cell_1mb",
            "1 MB 长文本单元格",
            "a cell with 1 MB of text",
            long_cell_1mb,
            _ok(_REG + _PAY),
        ),
        c(
            "style_bomb",
            "10 万个相同的单元格样式（压缩比超限）",
            "100,000 identical cell styles (ratio over the cap)",
            style_bomb,
            _q("zip_bomb"),
        ),
        c(
            "shared_strings_bomb",
            "200 万条共享字符串（压缩比超限）",
            "2,000,000 shared strings (ratio over the cap)",
            shared_strings_bomb,
            _q("zip_bomb"),
        ),
        # -------- cells
        c(
            "formula_error_div0",
            "公式结果为 #DIV/0!",
            "a formula whose result is #DIV/0!",
            formula_error_div0,
            _rej(_REG + 4 - 1, unparseable_value=1),
        ),
        c(
            "hidden_sheet_data",
            "隐藏工作表中有数据",
            "data on a hidden sheet",
            hidden_sheet_data,
            Expect("loaded_with_flag", rows_loaded=_REG + _PAY, flag="sheet_ignored:支付（旧）"),
        ),
        c(
            "fullwidth_digits",
            "全角数字的金额和年度",
            "amounts and years in full-width digits",
            fullwidth_digits,
            _ok(_REG + _PAY),
        ),
        c(
            "dates_text_formats",
            "文本日期：2023年3月15日、2023.4.15、2023/05/15、20230615",
            "dates typed as text in four common formats",
            dates_text_formats,
            _ok(_REG + 4),
        ),
        c(
            "hyperlink_control_cell",
            "单元格为 \\x01=HYPERLINK(...)",
            "a cell \\x01=HYPERLINK(...)",
            hyperlink_control_cell,
            _ok(_REG + _PAY),
        ),
        c(
            "nul_bel_project_name",
            "项目名称含 NUL、BEL 和 U+202E",
            "a project name with NUL, BEL and U+202E",
            nul_bel_project_name,
            _ok(_REG + _PAY),
        ),
        # -------- numbers
        c(
            "nan_score",
            "得分为 NaN",
            "a NaN score",
            _evaluations_case("nan_score", "评价结果_得分NaN.xlsx", b"NaN", None),
            _rej(_REG + _PAY + 1, value_out_of_range=1),
        ),
        c(
            "inf_score",
            "得分为无穷大",
            "an infinite score",
            _evaluations_case("inf_score", "评价结果_得分无穷大.xlsx", b"inf", None),
            _rej(_REG + _PAY + 1, value_out_of_range=1),
        ),
        c(
            "score_1e14",
            "得分为 1e14",
            "a score of 1e14",
            _evaluations_case("score_1e14", "评价结果_得分1e14.xlsx", None, D(10) ** 14),
            _rej(_REG + _PAY + 1, value_out_of_range=1),
        ),
        c(
            "amount_1e14",
            "支付金额 10^14 元（超过 1 万亿）",
            "a payment of 10^14 yuan",
            pay("amount_1e14", "支付台账_金额1e14.xlsx", _set(1, amount=D(10) ** 14)),
            _rej(_REG + 3, value_out_of_range=1),
        ),
        c(
            "amount_nan",
            "支付金额为 NaN",
            "a NaN payment amount",
            _amount_nan,
            _rej(_REG + 3, value_out_of_range=1),
        ),
        c(
            "negative_payment",
            "支付金额为负数",
            "a negative payment",
            pay("negative_payment", "支付台账_负数支付.xlsx", _set(2, amount=D("-3000.00"))),
            _rej(_REG + 3, negative_amount=1),
        ),
        c(
            "negative_initial_budget",
            "年初预算为负数",
            "a negative 年初预算",
            negative_initial_budget,
            _rej(_REG + _PAY + 1, negative_amount=1),
        ),
        c(
            "sub_fen_amount",
            "金额精度小于分（1000.005）",
            "an amount below one fen (1000.005)",
            pay("sub_fen_amount", "支付台账_金额厘.xlsx", _set(0, amount=D("1000.005"))),
            _rej(_REG + 3, sub_fen_precision=1),
        ),
        # -------- dates
        c(
            "date_1899",
            "支付日期写成 1899-12-31",
            "a payment dated 1899-12-31 (text: Excel has no such date)",
            pay("date_1899", "支付台账_1899年.xlsx", _set(1, payment_date="1899-12-31")),
            _rej(_REG + 3, date_out_of_range=1),
        ),
        c(
            "date_2999",
            "支付日期 2999-06-30",
            "a payment dated 2999-06-30",
            pay("date_2999", "支付台账_2999年.xlsx", _set(3, payment_date=date(2999, 6, 30))),
            _rej(_REG + 3, date_out_of_range=1),
        ),
        c(
            "date_serial_60",
            "日期为 Excel 序列号 60（1900-02-29）",
            "a date at Excel serial 60",
            serial_60_date,
            _rej(_REG + 3, date_out_of_range=1),
        ),
        c(
            "fiscal_year_3023",
            "年度写成 3023",
            "a fiscal year of 3023",
            pay("fiscal_year_3023", "支付台账_年度3023.xlsx", _set(0, year=3023)),
            _rej(_REG + 3, date_out_of_range=1),
        ),
        c(
            "missing_project_code",
            "支付行缺少项目编码",
            "a payment row without a project code",
            pay("missing_project_code", "支付台账_缺项目编码.xlsx", _set(2, project_code=None)),
            _rej(_REG + 3, missing_value=1),
        ),
        c(
            "unknown_line_type",
            "预算类型不在代码表中（“随便填”）",
            "a budget line type not in the code list",
            unknown_line_type,
            _rej(_REG + _PAY + 1, unknown_code=1),
        ),
        # -------- semantics across rows and files
        c(
            "duplicate_code",
            "同一登记表中项目编码重复",
            "the same code twice in one register",
            duplicate_code,
            _rej(2, duplicate_code=1),
        ),
        c(
            "department_clash",
            "两个部门使用同一项目编码",
            "two departments, one project code",
            department_clash,
            _rej(2, department_clash=3),
        ),
        c(
            "template_example_rows",
            "模板示例行未删除",
            "the template's example rows left in",
            template_example_rows,
            _rej(1, template_example=template_example_count()),
        ),
        c(
            "yuan_under_wan_caption",
            "元金额写在万元单位下（45.5 亿元）",
            "yuan typed under a 万元 caption (45.5 亿元)",
            yuan_under_wan_caption,
            _q("implausible_amount", message_zh_has=("45.5",), message_en_has=("45.5",)),
        ),
        c(
            "usd_caption_b1",
            "B1 单元格写着“金额单位：美元”",
            "a 美元 (US dollar) unit caption in B1",
            usd_caption_b1,
            _q("unknown_unit", sheet="支付", cell="B1"),
        ),
        c(
            "unknown_header_typo",
            "表头错字“支付金客”",
            "a header typo 支付金客",
            unknown_header_typo,
            _q(
                "missing_required_columns",
                message_zh_has=("支付金客", "支付金额"),
                message_en_has=("支付金额",),
            ),
        ),
        c(
            "older_resubmission",
            "较旧版本晚到（第二晚）",
            "an older version arriving later (night 2)",
            older_resubmission_newer,
            Expect(
                "loaded_with_flag",
                rows_loaded=_REG + 2,
                night=2,
                flag="review_flag:older_version_arrived_later",
                spent_yuan=sum(NEWER_AMOUNTS, D(0)),
            ),
            second_night=older_resubmission_older,
        ),
        c(
            "still_growing",
            "仍在写入的文件（第一晚跳过）",
            "a file still being written (skipped night 1)",
            still_growing,
            Expect("skipped_unstable", rows_loaded=_REG + _PAY, night=2),
        ),
    ]
    return _existing() + new


def _amount_nan(dest: Path) -> list[Path]:
    """A payment amount stored as NaN in the sheet XML (金额为 NaN)."""
    code = case_code("amount_nan")
    rows = _payments(code, 4)
    rows[1]["amount"] = _SENTINEL
    path = _ledger(dest / "支付台账_金额NaN.xlsx", code, rows)
    path.write_bytes(_zip_edit(path.read_bytes(), _sheets, b"<v>987654.321</v>", b"<v>NaN</v>"))
    return [path]


CASES: dict[str, Case] = {case.name: case for case in _cases()}


def write_corpus(dest: Path, names: list[str] | None = None) -> dict[str, list[Path]]:
    """Write the first night's files of every case (or of ``names``) into ``dest``; cases
    that cannot be built here (their ``skip`` says why) are left out (写出全部样例)."""
    dest.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Path]] = {}
    for name in names or list(CASES):
        case = CASES[name]
        if case.skip() is None:
            out[name] = case.write(dest)
    return out
