"""Reading a checked workbook with python-calamine (用 calamine 读取工作簿).

calamine gives cached values for formula cells (formulas lacking a cached value were already
rejected by :func:`jixiao.ingest.security.inspect_package`, which parses the sheet XML with
defusedxml only when the sheet holds a formula), merged ranges and sheet visibility.
Hidden sheets are skipped and reported. Merged ranges are filled with their anchor value so
that the merged 一级/二级指标 columns read like plain columns.

Values reach the layout readers as the person saw them: calamine drops number formats, so a
cell typed "81.48%" would read as 0.8148. The safety scan (:func:`check_file`) lists the
numeric cells with a percent format (``PackageReport.percent_cells``) and
:func:`read_workbook` turns each into the exact text "81.48%" (the stored value times 100,
never rounded to the displayed decimals). Date-formatted numbers already come back from
calamine as dates. ``.xls`` (BIFF8) files are read the same way (calamine reads them too;
xlrd finds their percent cells during the check).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from jixiao.ingest.errors import FileRejected
from jixiao.ingest.security import PackageReport, _col_letters, check_file
from jixiao.ingest.values import format_decimal


def cell_ref(row: int, col: int) -> str:
    """Excel reference from 0-based indices: (0, 0) -> 'A1' (单元格地址)."""
    return f"{_col_letters(col + 1)}{row + 1}"


@dataclass
class Sheet:
    """One visible worksheet: a grid from A1, merged ranges filled (工作表)."""

    name: str
    rows: list[list[Any]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    #: results of detection done once per sheet (layout readers' memo; not part of equality)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def height(self) -> int:
        return len(self.rows)

    def get(self, row: int, col: int) -> Any:
        """Value at 0-based (row, col), '' outside the grid."""
        if 0 <= row < len(self.rows):
            r = self.rows[row]
            if 0 <= col < len(r):
                return r[col]
        return ""

    def iter_rows(self) -> Iterator[tuple[int, list[Any]]]:
        yield from enumerate(self.rows)


@dataclass
class Workbook:
    """Visible sheets plus what was ignored and why (工作簿)."""

    name: str
    sheets: list[Sheet]
    ignored: list[dict[str, str]] = field(default_factory=list)


def read_workbook(
    path: Path, *, display_name: str | None = None, report: PackageReport | None = None
) -> Workbook:
    """Read every visible worksheet of ``path`` (already checked by security.check_file).

    ``report`` is what :func:`check_file` returned for ``path``: its percent cells are shown
    as percent text. Without it the file is checked here (a second scan) to get them.
    The type is decided by content (an .xlsx named .xls reads, and the other way round).
    """
    name = display_name or path.name
    if report is None:
        report = check_file(path)
    try:
        with path.open("rb") as fh, CalamineWorkbook.from_filelike(fh) as wb:
            sheets: list[Sheet] = []
            ignored: list[dict[str, str]] = []
            for meta in wb.sheets_metadata:
                if meta.visible != SheetVisibleEnum.Visible:
                    ignored.append(
                        {
                            "sheet": meta.name,
                            "why": "hidden",
                            "message_zh": "隐藏工作表，已忽略",
                            "message_en": "hidden sheet, ignored",
                        }
                    )
                    continue
                if meta.typ != SheetTypeEnum.WorkSheet:
                    ignored.append(
                        {
                            "sheet": meta.name,
                            "why": "not_a_worksheet",
                            "message_zh": "非数据工作表（图表/对话框），已忽略",
                            "message_en": "not a worksheet (chart/dialog), ignored",
                        }
                    )
                    continue
                sheets.append(
                    _read_sheet(
                        wb,
                        meta.name,
                        report.percent_cells.get(meta.name),
                        report.fill_extent.get(meta.name) or report.dimensions.get(meta.name),
                        report.error_cells.get(meta.name),
                    )
                )
    except CalamineError as exc:
        raise FileRejected(
            "unreadable",
            "工作簿无法读取（文件已损坏或格式不受支持）"
            + "；请在 Excel/WPS 中打开后另存为 .xlsx 再报送",
            f"the workbook cannot be read: {exc}"
            + "; open it in Excel or WPS, save as .xlsx and resubmit",
            expected="可由 Excel 正常打开的 .xlsx / an .xlsx that Excel opens",
            file=name,
        ) from exc
    return Workbook(name=name, sheets=sheets, ignored=ignored)


def _read_sheet(
    wb: CalamineWorkbook,
    name: str,
    percent: set[tuple[int, int]] | None = None,
    used: tuple[int, int] | None = None,
    errors: dict[tuple[int, int], str] | None = None,
) -> Sheet:
    """One sheet's grid; merged ranges filled, never beyond the used area (``used``: rows,
    columns the safety scan saw cells in); formula cells whose result is an Excel error show
    the error text ("#DIV/0!"), which calamine reads as blank (``errors``)."""
    cs = wb.get_sheet_by_name(name)
    rows: list[list[Any]] = cs.to_python(skip_empty_area=False)
    if percent:
        _show_percent(rows, percent)
    for (r, c), text in (errors or {}).items():
        if r < len(rows) and c < len(rows[r]) and rows[r][c] == "":
            rows[r][c] = text
    merged = list(cs.merged_cell_ranges or [])
    if merged:
        _fill_merged(rows, merged, used)
    return Sheet(name=name, rows=rows, merged=merged)


def percent_text(value: Any) -> Any:
    """A number as the percent text Excel shows for it: 0.8148 -> "81.48%" (百分比显示).

    Exact: the float's shortest repr times 100 (0.98835 -> "98.835%", 1 -> "100%"), never
    rounded to the format's decimals. Anything but a finite number is returned unchanged.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return value
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return f"{format_decimal(exact * 100)}%"


def _show_percent(rows: list[list[Any]], cells: set[tuple[int, int]]) -> None:
    """Rewrite the percent-formatted numeric cells of a calamine grid as percent text."""
    for r, c in cells:
        if r < len(rows) and c < len(rows[r]):
            rows[r][c] = percent_text(rows[r][c])


def _fill_merged(
    rows: list[list[Any]],
    merged: list[tuple[tuple[int, int], tuple[int, int]]],
    used: tuple[int, int] | None = None,
) -> None:
    """Copy each merged range's anchor value into every cell of the range (padding the grid).

    The padding never goes beyond the grid's own extent or ``used`` = (rows, columns), the
    extent the safety scan checked against the caps (used area and merged ranges; for a .xls
    its DIMENSIONS), whichever is larger: the part of a merged range outside is not filled (a
    merge of ``A1000:XFD1048576`` in a small file would otherwise pad the grid to billions of
    cells).
    """
    height = max(len(rows), used[0] if used else 0)
    width = max(max((len(r) for r in rows), default=0), used[1] if used else 0)
    for (r0, c0), (r1, c1) in merged:
        if r0 >= height or c0 >= width:
            continue
        r1, c1 = min(r1, height - 1), min(c1, width - 1)
        while len(rows) <= r1:
            rows.append([])
        anchor = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0, r1 + 1):
            row = rows[r]
            if len(row) <= c1:
                row.extend([""] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = anchor
