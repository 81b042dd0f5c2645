"""Shared openpyxl styling for report workbooks (工作簿样式): fonts, borders, A4 printing.

Every cell a report writes goes through :func:`put`, which neutralises formula-like text and
applies the number format of its kind, so no writer can forget either.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.reports.model import UNKNOWN, Kind, Unit, as_decimal, in_unit
from jixiao.reports.safety import clean_property, clean_text, neutralise

FONT_NAME = "宋体"
"""Chinese font name set on every cell (SimSun, present on Chinese Office installs)."""

NUMBER_FORMATS: dict[str, str] = {
    "money": "#,##0.00",
    "yuan": "#,##0.00",
    "wan": "#,##0.00",
    "rate": "0.00%",
    "score": "0.00",
    "int": "0",
    "text": "@",
}
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HIGHLIGHT = PatternFill("solid", fgColor="FFF2A8")
HEADER_FILL = PatternFill("solid", fgColor="E8EEF7")
BODY = Font(name=FONT_NAME, size=10)
BOLD = Font(name=FONT_NAME, size=10, bold=True)
TITLE = Font(name=FONT_NAME, size=16, bold=True)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
RIGHT = Alignment(horizontal="right", vertical="center")


def put(
    ws: Worksheet,
    row: int,
    col: int,
    value: Any,
    kind: Kind = "text",
    *,
    bold: bool = False,
    border: bool = True,
    fill: PatternFill | None = None,
    align: Alignment | None = None,
    unit: Unit = "wan",
) -> Any:
    """Write one cell: neutralised text or a Decimal number, styled (写单元格).

    A number is a numeric cell (never escaped, so ``-37,924,702.37`` stays a number); a
    ``money`` value is yuan written in ``unit`` (万元 = 元 / 10000, exact); an unknown number
    is the text ``—``, never 0.
    """
    cell = ws.cell(row=row, column=col)
    if kind != "text" and value is not None and value != "":
        cell.value = in_unit(value, unit) if kind == "money" else as_decimal(value)
        cell.number_format = NUMBER_FORMATS[kind]
        cell.alignment = align or RIGHT
    elif kind != "text":
        cell.value = UNKNOWN
        cell.alignment = align or CENTER
    else:
        cell.value = neutralise(value) if value is not None else None
        cell.alignment = align or LEFT
    cell.font = BOLD if bold else BODY
    if border:
        cell.border = BORDER
    if fill is not None:
        cell.fill = fill
    return cell


def header(ws: Worksheet, row: int, col: int, text: str) -> Any:
    """A bold, centred, shaded header cell (表头)."""
    return put(ws, row, col, text, bold=True, fill=HEADER_FILL, align=CENTER)


def merge(ws: Worksheet, r1: int, c1: int, r2: int, c2: int) -> None:
    """Merge a range and keep the border on every cell of it (合并单元格)."""
    if (r1, c1) != (r2, c2):
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            ws.cell(row=r, column=c).border = BORDER


def title(ws: Worksheet, row: int, text: str, ncols: int, font: Font = TITLE) -> None:
    """A merged, centred title row (标题行)."""
    cell = ws.cell(row=row, column=1, value=neutralise(text))
    cell.font = font
    cell.alignment = CENTER
    if ncols > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)


def print_a4(ws: Worksheet, landscape: bool = False, title_rows: str | None = None) -> None:
    """Print setup: A4, fit all columns to one page width (A4 打印，按页宽缩放)."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    if title_rows:
        ws.print_title_rows = title_rows


TEXT_PROPERTIES = (
    "title",
    "subject",
    "creator",
    "description",
    "keywords",
    "category",
    "lastModifiedBy",
    "identifier",
    "language",
    "contentStatus",
    "version",
    "revision",
)
"""docProps/core.xml text fields; each is cleaned before saving (文档属性)."""

_SHEET_TITLE_UNSAFE = "[]:*?/\\"


def sheet_title(text: str, fallback: str = "Sheet") -> str:
    """A worksheet name Excel accepts (工作表名): clean text, no ``[]:*?/\\``, 31 characters."""
    name = clean_text(text).replace("\n", " ").replace("\r", " ").replace("\t", " ")
    for ch in _SHEET_TITLE_UNSAFE:
        name = name.replace(ch, "_")
    name = name.strip().strip("'")[:31].strip()
    return name or fallback


def clean_properties(wb: Workbook) -> None:
    """Clean every text document property in place (清理文档属性): no control/bidi chars."""
    for attr in TEXT_PROPERTIES:
        value = getattr(wb.properties, attr, None)
        if value is not None:
            setattr(wb.properties, attr, clean_property(value))


def readable_by_group(path: Path) -> Path:
    """Give a temp file (0600 from mkstemp) the mode any new file gets under the umask.

    Report files are meant to be read by the evaluators' group: 0666 minus the process
    umask (0644 under 022, 0664 under 002), as ``open()`` would have created them.
    """
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)
    return path


def save_workbook(wb: Workbook, path: Path, title_text: str, generated_at: datetime) -> Path:
    """Save atomically; the generation time goes into document metadata only (元数据).

    Every text property is cleaned first (:func:`clean_properties`), so a NUL or BEL in a
    department or project name cannot make the workbook unopenable.
    """
    wb.properties.title = title_text
    wb.properties.creator = "jixiao"
    clean_properties(wb)
    wb.properties.created = generated_at
    wb.properties.modified = generated_at
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        readable_by_group(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def text_width(text: Any) -> int:
    """Display width of ``text`` in Excel character units (显示宽度): CJK and full-width 2."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text or ""))


def fit_rows(ws: Worksheet, first: int, last: int, line_height: float = 14.5) -> None:
    """Row heights that fit wrapped text (自动行高): lines = text width / column width.

    Merged cells count with the summed width of their columns.
    """
    import math

    from openpyxl.utils import get_column_letter

    spans: dict[tuple[int, int], float] = {}
    for rng in ws.merged_cells.ranges:
        width = sum(
            ws.column_dimensions[get_column_letter(c)].width or 8.43
            for c in range(rng.min_col, rng.max_col + 1)
        )
        spans[(rng.min_row, rng.min_col)] = width
        if rng.max_row > rng.min_row:
            spans[(rng.min_row, rng.min_col)] = width * 1e6  # multi-row merges: ignore
    for r in range(first, last + 1):
        lines = 1
        for cell in ws[r]:
            if cell.value is None or not isinstance(cell.value, str):
                continue
            width = spans.get(
                (r, cell.column),
                ws.column_dimensions[get_column_letter(cell.column)].width or 8.43,
            )
            usable = max(1.0, width - 1.5)
            parts = str(cell.value).split("\n")
            lines = max(lines, sum(max(1, math.ceil(text_width(t) / usable)) for t in parts))
        ws.row_dimensions[r].height = max(line_height, line_height * lines + 2)
