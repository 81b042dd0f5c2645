"""The department/region report as a workbook (年度报告 xlsx).

One sheet per section; each table is a bordered block with a bold title and a shaded
header, and carries a workbook-level defined name ``t_<table key>`` covering header, rows
and total, so readers (and tests) can find a table without guessing rows. Charts are PNG
images on the 图表 sheet.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.reports.model import Report, Section, Table, Unit, fmt
from jixiao.reports.xlsx_common import (
    BOLD,
    HIGHLIGHT,
    TITLE,
    fit_rows,
    header,
    print_a4,
    put,
    save_workbook,
    sheet_title,
    text_width,
    title,
)

MAX_WIDTH = 46
"""Widest a column gets (最大列宽); longer text wraps and the row grows."""


def _sheet_name(section: Section) -> str:
    return sheet_title(section.title.split("、", 1)[-1], fallback=section.key[:31] or "Sheet")


def write_table(wb: Workbook, ws: Worksheet, row: int, table: Table, unit: Unit = "wan") -> int:
    """Write ``table`` at ``row``; return the next free row (写表格)."""
    put(ws, row, 1, table.title, bold=True, border=False)
    row += 1
    first = row
    for c, col in enumerate(table.columns, start=1):
        header(ws, row, c, col.header)
    for i, values in enumerate(table.rows):
        row += 1
        for c, (col, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            fill = HIGHLIGHT if (i, c - 1) in table.highlight else None
            put(ws, row, c, value, col.kind, fill=fill, unit=unit)
    if table.total is not None:
        row += 1
        for c, (col, value) in enumerate(zip(table.columns, table.total, strict=True), start=1):
            put(ws, row, c, value, col.kind, bold=True, unit=unit)
    ref = f"{quote_sheetname(ws.title)}!$A${first}:${get_column_letter(len(table.columns))}${row}"
    wb.defined_names[f"t_{table.key}"] = DefinedName(f"t_{table.key}", attr_text=ref)
    if table.note:
        row += 1
        put(ws, row, 1, table.note, border=False)
    return row + 2


def _widths(ws: Worksheet, tables: list[Table], unit: Unit) -> None:
    """Column widths that fit (列宽): the widest shown value or header, within bounds.

    Numbers never wrap, so a number column is as wide as its widest number; text columns
    are capped at ``MAX_WIDTH`` and wrap (the row heights follow, :func:`fit_rows`).
    """
    widths: dict[int, int] = {}
    for t in tables:
        for c, col in enumerate(t.columns, start=1):
            cells = [r[c - 1] for r in t.rows] + ([t.total[c - 1]] if t.total else [])
            shown = max((text_width(fmt(v, col.kind, unit)) for v in cells), default=0)
            head = min(text_width(col.header), 16)  # headers wrap over two lines
            want = max(shown + 2, head + 2, 6)
            if col.kind == "text":
                want = min(want, MAX_WIDTH)
            widths[c] = max(widths.get(c, 0), want)
    for c, w in widths.items():
        ws.column_dimensions[get_column_letter(c)].width = w


def write_section(wb: Workbook, ws: Worksheet, section: Section, unit: Unit = "wan") -> None:
    """One section on its own sheet: heading, paragraphs, tables, charts."""
    ncols = max((len(t.columns) for t in section.tables), default=6)
    _widths(ws, section.tables, unit)
    if not section.tables:
        ws.column_dimensions["A"].width = 100
        ncols = 1
    title(ws, 1, section.title, ncols, font=BOLD)
    row = 2
    for para in section.paragraphs:
        put(ws, row, 1, para, border=False)
        if ncols > 1:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)
        row += 1
    row += 1
    for table in section.tables:
        row = write_table(wb, ws, row, table, unit)
    for chart in section.charts:
        put(ws, row, 1, chart.title, bold=True, border=False)
        img = Image(io.BytesIO(chart.png))
        ws.add_image(img, f"A{row + 1}")
        row += 1 + int(img.height / 20) + 2
    fit_rows(ws, 2, ws.max_row)
    print_a4(ws, landscape=ncols > 6)


def write_report_xlsx(report: Report, path: Path, generated_at: datetime) -> Path:
    """Write the whole report as one workbook (写出年度报告工作簿)."""
    wb = Workbook()
    cover = wb.active
    assert cover is not None
    cover.title = "封面"
    title(cover, 2, report.title, 6, font=TITLE)
    title(cover, 3, report.subtitle, 6, font=BOLD)
    for i, section in enumerate(report.sections, start=5):
        put(cover, i, 1, section.title, border=False)
    cover.column_dimensions["A"].width = 30
    print_a4(cover)
    for section in report.sections:
        write_section(wb, wb.create_sheet(_sheet_name(section)), section, report.unit)
    return save_workbook(wb, path, report.title, generated_at)
