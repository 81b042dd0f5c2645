"""Writer for flat ledger workbooks (台账: 项目登记/预算/支付/评价结果/里程碑).

A :class:`Ledger` is a list of :class:`LedgerSheet`; each sheet holds one table of one
``kind`` whose rows are dicts keyed by the canonical field names in :data:`COLUMNS`. The
amount column's unit is written either as a header suffix (``支付金额（元）``) or as a caption
above the table (``金额单位：万元``). Header labels can be overridden per sheet to produce the
variants real ledgers use (``金额(元)``, ``实际支出``, ``amount_yuan`` ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.samples._xlsx import header_row, merge, new_workbook, put, save_deterministic

Kind = Literal["projects", "budget_lines", "payments", "evaluations", "milestones"]

#: kind -> ordered (canonical key, default header label); "{unit}" marks the amount column.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "projects": (
        ("project_code", "项目编码"),
        ("project_name", "项目名称"),
        ("category", "项目类别"),
        ("department", "主管部门"),
        ("implementing_unit", "实施单位"),
        ("province", "省"),
        ("city", "市"),
        ("county", "县"),
        ("project_level", "项目级次"),
        ("start_year", "开始年度"),
        ("end_year", "结束年度"),
        ("parent_code", "上级项目编码"),
    ),
    "budget_lines": (
        ("project_code", "项目编码"),
        ("year", "年度"),
        ("line_type", "类型"),
        ("fund_source", "资金来源"),
        ("amount", "金额{unit}"),
        ("date", "日期"),
        ("reason", "原因"),
    ),
    "payments": (
        ("project_code", "项目编码"),
        ("year", "年度"),
        ("payment_date", "支付日期"),
        ("amount", "支付金额{unit}"),
        ("fund_source", "资金来源"),
        ("payee", "收款单位"),
        ("voucher_no", "凭证号"),
        ("summary", "摘要"),
        ("category", "支出类别"),
    ),
    "evaluations": (
        ("project_code", "项目编码"),
        ("period", "评价期间"),
        ("evaluation_type", "评价类型"),
        ("evaluator", "评价机构"),
        ("scheme", "评价体系"),
        ("level1", "一级指标"),
        ("max_score", "指标分值"),
        ("score", "评价得分"),
        ("grade", "等级"),
        ("reported_rate", "报告比率"),
    ),
    "milestones": (
        ("project_code", "项目编码"),
        ("year", "年度"),
        ("stage", "阶段"),
        ("planned", "计划数"),
        ("actual", "实际数"),
    ),
}

DEFAULT_SHEET_NAMES: dict[str, str] = {
    "projects": "项目登记",
    "budget_lines": "预算",
    "payments": "支付",
    "evaluations": "评价结果",
    "milestones": "里程碑",
}

INSTRUCTIONS = (
    "填写说明 / Instructions",
    "1. 每个工作表一张表：项目登记、预算、支付、评价结果、里程碑；表头名称请勿修改。",
    "2. 金额单位见表头（如“支付金额（元）”）或表上方的“金额单位：万元”。",
    "3. 预算类型：年初预算、追加、压减/调减、调整后预算、下达本级、转移支付至下级。",
    "4. 资金来源：合计、当年财政拨款、上年结转资金、其他资金。",
    "5. 日期格式：2023-06-30 或 Excel 日期。",
)


@dataclass
class LedgerSheet:
    """One flat table on one sheet (台账表)."""

    kind: Kind
    rows: list[dict[str, object]]
    sheet_name: str | None = None
    unit: str = "元"  # 元 | 万元 (or anything, for bad inputs)
    unit_in: Literal["header", "caption"] = "header"
    headers: dict[str, str] = field(default_factory=dict)  # canonical key -> label override
    title: str | None = None  # a caption line above the table
    omit: tuple[str, ...] = ()  # columns to leave out
    blank_rows_after_header: int = 0
    notes: list[str] = field(default_factory=list)  # lines under the table
    hidden: bool = False


@dataclass
class Ledger:
    """A ledger workbook: any subset of the five tables, optionally an instructions sheet."""

    sheets: list[LedgerSheet]
    instructions: bool = True


def header_labels(sheet: LedgerSheet) -> list[tuple[str, str]]:
    """The (key, label) pairs of ``sheet`` as they will be written (表头)."""
    suffix = f"（{sheet.unit}）" if sheet.unit_in == "header" else ""
    out = []
    for key, label in COLUMNS[sheet.kind]:
        if key in sheet.omit:
            continue
        text = sheet.headers.get(key, label)
        out.append((key, text.replace("{unit}", suffix)))
    return out


def write_ledger(path: Path, ledger: Ledger | Sequence[LedgerSheet]) -> Path:
    """Write a ledger workbook and return ``path`` (写台账工作簿)."""
    if not isinstance(ledger, Ledger):
        ledger = Ledger(list(ledger))
    wb = new_workbook()
    if ledger.instructions:
        ws = wb.create_sheet("填写说明")
        for i, line in enumerate(INSTRUCTIONS, start=1):
            ws.cell(row=i, column=1, value=line)
        ws.column_dimensions["A"].width = 80
    for sheet in ledger.sheets:
        ws = wb.create_sheet(sheet.sheet_name or DEFAULT_SHEET_NAMES[sheet.kind])
        _table(ws, sheet)
        if sheet.hidden:
            ws.sheet_state = "hidden"
    return save_deterministic(wb, path)


def _table(ws: Worksheet, sheet: LedgerSheet) -> None:
    labels = header_labels(sheet)
    width = len(labels)
    row = 1
    if sheet.title:
        merge(ws, row, 1, row, width, sheet.title, bold=True, border=False)
        row += 1
    if sheet.unit_in == "caption":
        merge(
            ws,
            row,
            1,
            row,
            width,
            f"金额单位：{sheet.unit}",
            border=False,
            align=Alignment(horizontal="right"),
        )
        row += 1
    header_row(ws, row, [label for _, label in labels])
    row += 1 + sheet.blank_rows_after_header
    for record in sheet.rows:
        for col, (key, _) in enumerate(labels, start=1):
            _cell(ws, row, col, record.get(key))
        row += 1
    for i, note in enumerate(sheet.notes, start=1):
        ws.cell(row=row + i, column=1, value=note)
    for col, (_, label) in enumerate(labels, start=1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max(10, min(40, 2 * len(label) + 4))


def _cell(ws: Worksheet, row: int, col: int, value: object) -> None:
    if isinstance(value, date):
        put(ws, row, col, None)
        cell = ws.cell(row=row, column=col, value=value)
        cell.number_format = "yyyy-mm-dd"
        return
    if value is not None and not isinstance(value, (str, Decimal, int)):
        raise TypeError(f"unsupported cell value {value!r} (use str, Decimal, int or date)")
    put(ws, row, col, value, fmt="#,##0.00" if isinstance(value, Decimal) else None)
