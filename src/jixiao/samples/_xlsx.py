"""Workbook plumbing shared by the sample writers (样例工作簿的通用工具).

- :func:`save_deterministic` saves an openpyxl workbook so that the same content gives the
  same bytes every run (固定时间戳, 可复现): zip entry times and the core properties'
  created/modified stamps are pinned to :data:`FIXED_TIME`.
- Small style helpers (borders, header fill) and "messy" renderings of numbers the way
  departments type them (全角数字, 千分位, 文本型数字).
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

#: Every sample workbook claims to be created and modified at this moment.
FIXED_TIME = datetime(2024, 3, 20, 9, 0, 0)
_ZIP_TIME = (2024, 3, 20, 9, 0, 0)
_CORE_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")

CellValue = str | Decimal | int | None

THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=16)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="center", wrap_text=True)

_FULLWIDTH = str.maketrans("0123456789.%,-", "０１２３４５６７８９．％，－")


def new_workbook() -> Workbook:
    """An empty workbook (no default sheet) with pinned document properties (文档属性)."""
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    wb.properties.creator = "jixiao samples"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = "jixiao samples"
    return wb


def normalize_zip(data: bytes) -> bytes:
    """Rewrite an xlsx zip with fixed entry times and core-property stamps (固定时间戳).

    openpyxl stamps ``modified`` with the wall clock on save and the zip entries with the
    local time; both are replaced so that identical content gives identical bytes.
    """
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_STAMP.sub(rb"\g<1>" + stamp + rb"\g<2>", body)
            dst.writestr(fixed_info(info.filename), body)
    return out.getvalue()


def fixed_info(name: str, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    """A ZipInfo with the pinned timestamp (固定时间的 zip 条目)."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = compress
    info.external_attr = 0o600 << 16
    return info


def save_deterministic(wb: Workbook, path: Path) -> Path:
    """Save ``wb`` to ``path`` byte-for-byte reproducibly and return the path (可复现保存)."""
    buf = io.BytesIO()
    wb.save(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(normalize_zip(buf.getvalue()))
    return path


def write_zip(path: Path, entries: Iterable[tuple[str, bytes]]) -> Path:
    """Write a zip of ``(name, bytes)`` entries with pinned timestamps (手工打包 xlsx)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in entries:
            zf.writestr(fixed_info(name), body)
    return path


def put(
    ws: Worksheet,
    row: int,
    col: int,
    value: CellValue,
    *,
    border: bool = True,
    bold: bool = False,
    fmt: str | None = None,
    align: Alignment | None = None,
) -> None:
    """Write one cell with the usual table styling (写单元格)."""
    cell = ws.cell(row=row, column=col, value=value)
    if border:
        cell.border = BORDER
    if bold:
        cell.font = BOLD
    if fmt and isinstance(value, (Decimal, int)):
        cell.number_format = fmt
    cell.alignment = align or WRAP


def merge(
    ws: Worksheet,
    r1: int,
    c1: int,
    r2: int,
    c2: int,
    value: CellValue = None,
    *,
    bold: bool = False,
    align: Alignment | None = None,
    border: bool = True,
) -> None:
    """Merge a range, put ``value`` in its top-left cell and border every cell (合并单元格)."""
    put(ws, r1, c1, value, bold=bold, align=align or CENTER, border=border)
    if border:
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                ws.cell(row=r, column=c).border = BORDER
    if (r1, c1) != (r2, c2):
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)


def header_row(ws: Worksheet, row: int, labels: Iterable[str | None], start_col: int = 1) -> None:
    """A bold, filled header row (表头)."""
    for i, label in enumerate(labels):
        put(ws, row, start_col + i, label, bold=True, align=CENTER)
        ws.cell(row=row, column=start_col + i).fill = HEADER_FILL


def set_widths(ws: Worksheet, widths: Mapping[str, float]) -> None:
    """Column widths by letter (列宽)."""
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


def fullwidth(text: str) -> str:
    """Half-width digits and symbols to full-width (全角化), as typed with a Chinese IME."""
    return text.translate(_FULLWIDTH)


def plain(amount: Decimal) -> str:
    """A Decimal without exponent or trailing noise (普通数字文本)."""
    return format(amount, "f")


def with_thousands(amount: Decimal) -> str:
    """A number as text with thousands separators, e.g. '1,234,567.89' (千分位文本)."""
    return f"{amount:,.2f}"


def percent_text(rate: Decimal, places: int = 2) -> str:
    """A fraction as a percent string: Decimal('0.8339') -> '83.39%' (百分比文本)."""
    q = Decimal(1).scaleb(-places)
    return f"{(rate * 100).quantize(q)}%"


def seeded(seed: int) -> random.Random:
    """A seeded generator for reproducible sample data (可复现随机数; not for security)."""
    return random.Random(seed)  # noqa: S311 - deterministic sample data, not secrets
