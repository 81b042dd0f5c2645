"""Writers for the two form layouts (自评表 / 指标评分表), plus a re-export of the ledger writer.

Layouts follow docs/input-formats.md (A ``selfeval_form``, B ``scoring_table``; C ``ledger`` is
in :mod:`jixiao.samples.ledger`). Writers take plain dataclasses whose cells are
``str | Decimal | int | None``: a ``Decimal``/``int`` is written as a number, a ``str`` exactly
as given (so callers choose messy renderings such as ``"９８"``, ``"1,330"`` or ``"≥95%"``).
Amounts are expressed in the unit the form declares (``unit``: 万元 or 元). Every writer
returns the path it wrote, byte-for-byte reproducibly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.samples._xlsx import (
    CENTER,
    TITLE_FONT,
    CellValue,
    header_row,
    merge,
    new_workbook,
    put,
    save_deterministic,
    set_widths,
)
from jixiao.samples.ledger import Ledger, LedgerSheet, write_ledger

__all__ = [
    "FundingRow",
    "Indicator",
    "Ledger",
    "LedgerSheet",
    "ScoringIndicator",
    "ScoringLevel1",
    "ScoringLevel2",
    "ScoringTable",
    "SelfEvalProject",
    "write_ledger",
    "write_scoring_table",
    "write_selfeval_form",
]

AMOUNT_FMT = "#,##0.00"
RATE_FMT = "0.00%"
NOTE_ALIGN = Alignment(horizontal="left", vertical="top", wrap_text=True)

FUNDING_COLUMNS = ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
INDICATOR_COLUMNS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "年度指标值",
    "实际完成值",
    "分值",
    "得分",
    "偏差原因分析及改进措施",
)


# --------------------------------------------------------------------------- self-evaluation form
@dataclass
class FundingRow:
    """One row of the funding block 项目资金.

    Labels: 年度资金总额 / 其中：当年财政拨款 / 上年结转资金 / 其他资金.

    Amounts are in the form's unit. ``rate`` is a fraction (``Decimal('0.8339')``, written as a
    percent-formatted number) or text (``"83.39%"``).
    """

    label: str
    initial: CellValue = None
    final: CellValue = None
    executed: CellValue = None
    weight: CellValue = None
    rate: CellValue = None
    score: CellValue = None


@dataclass
class Indicator:
    """One 三级指标 row of the self-evaluation form (绩效指标)."""

    level1: str
    level2: str
    level3: str
    target: CellValue
    actual: CellValue
    weight: CellValue
    score: CellValue
    reason: str | None = None


@dataclass
class SelfEvalProject:
    """One project = one sheet of a 项目支出绩效自评表 workbook.

    Indicators sharing consecutive ``level1`` (and ``level2``) values are merged vertically.
    ``total_score`` is the 总分 row's 得分 (funding score + indicator scores on the MoF form).
    """

    sheet_name: str
    year: int
    project_name: str
    department: str
    implementing_unit: str
    funding: list[FundingRow]
    indicators: list[Indicator]
    total_score: CellValue
    unit: str = "万元"
    total_weight: CellValue = 100
    project_code: str | None = None
    region: str | None = None
    category: str | None = None
    goal_expected: str = ""
    goal_actual: str = ""
    notes: list[str] = field(default_factory=list)
    left_label: bool = True  # a merged "绩效指标" column left of the indicator table
    blank_row_before_table: bool = True


def write_selfeval_form(path: Path, projects: Sequence[SelfEvalProject]) -> Path:
    """Write a 项目支出绩效自评表 workbook, one project per sheet; return ``path``."""
    wb = new_workbook()
    for project in projects:
        _selfeval_sheet(wb.create_sheet(project.sheet_name), project)
    return save_deterministic(wb, path)


def _selfeval_sheet(ws: Worksheet, p: SelfEvalProject) -> None:
    width = 9 if p.left_label else 8
    merge(ws, 1, 1, 1, width, "项目支出绩效自评表", border=False)
    ws.cell(row=1, column=1).font = TITLE_FONT
    merge(ws, 2, 1, 2, width, f"（{p.year}年度）", border=False)
    row = _selfeval_header(ws, p, 3, width)
    row = _funding_block(ws, p, row, width)
    row = _goal_block(ws, p, row, width)
    if p.blank_row_before_table:
        row += 1
    row = _indicator_table(ws, p, row, width)
    _notes(ws, p.notes, row + 1, width)
    widths = {"A": 12, "B": 16, "C": 16, "D": 30, "E": 14, "F": 14, "G": 10, "H": 10, "I": 30}
    set_widths(ws, widths)


def _selfeval_header(ws: Worksheet, p: SelfEvalProject, row: int, width: int) -> int:
    put(ws, row, 1, "项目名称", bold=True)
    merge(ws, row, 2, row, width, p.project_name, align=Alignment(vertical="center"))
    row += 1
    _pair_row(ws, row, width, ("主管部门", p.department), ("实施单位", p.implementing_unit))
    row += 1
    pairs = [(k, v) for k, v in (("项目编码", p.project_code), ("所属地区", p.region)) if v]
    if len(pairs) == 2:
        _pair_row(ws, row, width, pairs[0], pairs[1])
        row += 1
    elif pairs:
        put(ws, row, 1, pairs[0][0], bold=True)
        merge(ws, row, 2, row, width, pairs[0][1], align=Alignment(vertical="center"))
        row += 1
    if p.category:
        put(ws, row, 1, "项目类别", bold=True)
        merge(ws, row, 2, row, width, p.category, align=Alignment(vertical="center"))
        row += 1
    return row


def _pair_row(
    ws: Worksheet, row: int, width: int, left: tuple[str, CellValue], right: tuple[str, CellValue]
) -> None:
    put(ws, row, 1, left[0], bold=True)
    merge(ws, row, 2, row, 4, left[1], align=Alignment(vertical="center"))
    put(ws, row, 5, right[0], bold=True)
    merge(ws, row, 6, row, width, right[1], align=Alignment(vertical="center"))


def _funding_block(ws: Worksheet, p: SelfEvalProject, row: int, width: int) -> int:
    last = row + len(p.funding)
    merge(ws, row, 1, last, 1, f"项目资金（{p.unit}）", bold=True)
    header_row(ws, row, (None, *FUNDING_COLUMNS), start_col=2)
    if width == 9:
        merge(ws, row, 8, row, 9, "得分", bold=True)
    for i, f in enumerate(p.funding, start=1):
        r = row + i
        put(ws, r, 2, f.label)
        for col, value in zip(range(3, 6), (f.initial, f.final, f.executed), strict=True):
            put(ws, r, col, value, fmt=AMOUNT_FMT)
        put(ws, r, 6, f.weight, align=CENTER)
        put(ws, r, 7, f.rate, fmt=RATE_FMT, align=CENTER)
        if width == 9:
            merge(ws, r, 8, r, 9, f.score)
        else:
            put(ws, r, 8, f.score, align=CENTER)
    return last + 1


def _goal_block(ws: Worksheet, p: SelfEvalProject, row: int, width: int) -> int:
    merge(ws, row, 1, row + 1, 1, "年度总体目标", bold=True)
    merge(ws, row, 2, row, 5, "预期目标", bold=True)
    merge(ws, row, 6, row, width, "实际完成情况", bold=True)
    merge(ws, row + 1, 2, row + 1, 5, p.goal_expected, align=Alignment(wrap_text=True))
    merge(ws, row + 1, 6, row + 1, width, p.goal_actual, align=Alignment(wrap_text=True))
    ws.row_dimensions[row + 1].height = 60
    return row + 2


def _indicator_table(ws: Worksheet, p: SelfEvalProject, row: int, width: int) -> int:
    c0 = 2 if p.left_label else 1
    header_row(ws, row, INDICATOR_COLUMNS, start_col=c0)
    first = row + 1
    r = first
    for _, block in groupby(p.indicators, key=lambda i: i.level1):
        rows1 = list(block)
        merge(ws, r, c0, r + len(rows1) - 1, c0, rows1[0].level1)
        r2 = r
        for _, group in groupby(rows1, key=lambda i: i.level2):
            rows2 = list(group)
            merge(ws, r2, c0 + 1, r2 + len(rows2) - 1, c0 + 1, rows2[0].level2)
            r2 += len(rows2)
        for ind in rows1:
            _indicator_cells(ws, r, c0, ind)
            r += 1
    if p.left_label:
        merge(ws, row, 1, r - 1, 1, "绩效指标", bold=True)
    merge(ws, r, 1, r, c0 + 4, "总分", bold=True)
    put(ws, r, c0 + 5, p.total_weight, bold=True, align=CENTER)
    put(ws, r, c0 + 6, p.total_score, bold=True, align=CENTER)
    put(ws, r, c0 + 7, None)
    return r + 1


def _indicator_cells(ws: Worksheet, r: int, c0: int, ind: Indicator) -> None:
    put(ws, r, c0 + 2, ind.level3)
    put(ws, r, c0 + 3, ind.target, align=CENTER)
    put(ws, r, c0 + 4, ind.actual, align=CENTER)
    put(ws, r, c0 + 5, ind.weight, align=CENTER)
    put(ws, r, c0 + 6, ind.score, align=CENTER)
    put(ws, r, c0 + 7, ind.reason)


def _notes(ws: Worksheet, notes: Sequence[str], row: int, width: int) -> None:
    for i, note in enumerate(notes):
        merge(ws, row + i, 1, row + i, width, note, align=NOTE_ALIGN, border=False)


# --------------------------------------------------------------------------- scoring table
@dataclass
class ScoringIndicator:
    """One 三级指标 row of the 指标评分表."""

    name: str
    weight: CellValue = None
    expected: CellValue = None
    actual: CellValue = None
    score: CellValue = None
    reason: str | None = None
    scoring_rule: str | None = None
    evidence: str | None = None


@dataclass
class ScoringLevel2:
    """A 二级指标 group (name and weight merged over its indicators)."""

    name: str
    weight: CellValue = None
    indicators: list[ScoringIndicator] = field(default_factory=list)


@dataclass
class ScoringLevel1:
    """A 一级指标 block (name and weight merged over all its rows).

    ``weight_rule`` (e.g. "各项指标权重=40/指标总数") is written, merged over the whole block, in
    both the 二级 and 三级 weight columns; the indicators' own weights are then left blank.
    ``block_score``/``block_reason``/``block_scoring_rule``/``block_evidence``, when given, are
    single cells merged over the whole block (seed 002 scores 产出 as one merged 40).
    """

    name: str
    weight: CellValue
    groups: list[ScoringLevel2]
    weight_rule: str | None = None
    block_score: CellValue = None
    block_reason: str | None = None
    block_scoring_rule: str | None = None
    block_evidence: str | None = None


@dataclass
class ScoringTable:
    """One project = one sheet of a provincial 指标评分表 (seed 002). Amounts in ``unit``."""

    sheet_name: str
    filler: str
    project_name: str
    year: int
    eval_amount: CellValue
    planned: CellValue
    allocated_local: CellValue
    allocated_transfer: CellValue
    spent_local: CellValue
    spent_transfer: CellValue
    levels: list[ScoringLevel1]
    total_score: CellValue
    unit: str = "万元"
    project_level: str | None = None
    basis: str | None = None
    contact: str | None = None
    phone: CellValue = None
    email: str | None = None
    overall_goal: str = ""
    goal_achieved: str = "是"
    total_weights: tuple[CellValue, CellValue, CellValue] = (100, 100, 100)
    notes: list[str] = field(default_factory=list)
    header_in_one_cell: bool = True  # "填报单位名称：X 金额单位：万元" in one cell, else two
    caption_row: bool = True  # a "评价指标" row above 一级/二级/三级指标
    attachment_label: str | None = "附件2"


SCORING_TAIL = (
    "评价年度预期值",
    "评价年度实现值",
    "自评分数",
    "未达标原因分析",
    "评分标准",
    "参考佐证材料",
)


#: column widths of the 指标评分表 as the province prints it (A-L)
SCORING_WIDTHS = {
    "A": 8, "B": 8, "C": 12, "D": 12, "E": 34, "F": 12,
    "G": 10, "H": 10, "I": 9, "J": 14, "K": 30, "L": 30,
}  # fmt: skip


def write_scoring_table(path: Path, tables: Sequence[ScoringTable]) -> Path:
    """Write a 指标评分表 workbook, one project per sheet; return ``path``."""
    wb = new_workbook()
    for table in tables:
        _scoring_sheet(wb.create_sheet(table.sheet_name), table)
    return save_deterministic(wb, path)


def _scoring_sheet(ws: Worksheet, t: ScoringTable) -> None:
    row = 1
    if t.attachment_label:
        put(ws, row, 1, t.attachment_label, border=False)
        row += 1
    if t.header_in_one_cell:
        merge(
            ws,
            row,
            1,
            row,
            12,
            f"填报单位名称：{t.filler}  金额单位：{t.unit}",
            border=False,
            align=Alignment(horizontal="left"),
        )
    else:
        merge(
            ws,
            row,
            1,
            row,
            8,
            f"填报单位名称：{t.filler}",
            border=False,
            align=Alignment(horizontal="left"),
        )
        merge(
            ws,
            row,
            9,
            row,
            12,
            f"金额单位：{t.unit}",
            border=False,
            align=Alignment(horizontal="right"),
        )
    row = _scoring_basic(ws, t, row + 1)
    merge(ws, row, 1, row, 12, "指标评分表", bold=True)
    row = _scoring_header(ws, t, row + 1)
    row = _scoring_rows(ws, t, row)
    put(ws, row, 1, "合计：", bold=True)
    for col, value in zip((2, 4, 6), t.total_weights, strict=True):
        put(ws, row, col, value, bold=True, align=CENTER)
    for col in (3, 5, 7, 8, 10, 11, 12):
        put(ws, row, col, None)
    put(ws, row, 9, t.total_score, bold=True, align=CENTER)
    _notes(ws, t.notes, row + 2, 12)
    set_widths(ws, SCORING_WIDTHS)


def _scoring_basic(ws: Worksheet, t: ScoringTable, row: int) -> int:
    left = Alignment(vertical="center", wrap_text=True)
    merge(ws, row, 1, row + 2, 1, "基本情况", bold=True)
    put(ws, row, 2, "项目名称", bold=True)
    merge(ws, row, 3, row, 6, t.project_name, align=left)
    put(ws, row, 7, "评价年度", bold=True)
    put(ws, row, 8, t.year, align=CENTER)
    put(ws, row, 9, "评价金额", bold=True)
    merge(ws, row, 10, row, 12, t.eval_amount)
    put(ws, row + 1, 2, "联系人", bold=True)
    merge(ws, row + 1, 3, row + 1, 6, t.contact, align=left)
    put(ws, row + 1, 7, "联系电话", bold=True)
    put(ws, row + 1, 8, t.phone)
    put(ws, row + 1, 9, "联系邮箱", bold=True)
    merge(ws, row + 1, 10, row + 1, 12, t.email)
    put(ws, row + 2, 2, "实施文件依据", bold=True)
    merge(ws, row + 2, 3, row + 2, 8, t.basis, align=left)
    put(ws, row + 2, 9, "项目级次", bold=True)
    merge(ws, row + 2, 10, row + 2, 12, t.project_level)
    row += 3
    merge(ws, row, 1, row + 2, 1, "资金情况", bold=True)
    merge(ws, row, 2, row, 3, "预算计划安排", bold=True)
    merge(ws, row, 4, row, 12, t.planned, align=Alignment(horizontal="left"))
    for i, (label, local, transfer) in enumerate(
        (
            ("实际分配下达", t.allocated_local, t.allocated_transfer),
            ("实际支出金额", t.spent_local, t.spent_transfer),
        ),
        start=1,
    ):
        merge(ws, row + i, 2, row + i, 3, label, bold=True)
        put(ws, row + i, 4, "市本级")
        put(ws, row + i, 5, local, fmt=AMOUNT_FMT)
        put(ws, row + i, 6, "转移支付至下级")
        merge(ws, row + i, 7, row + i, 12, transfer, align=Alignment(horizontal="left"))
    row += 3
    merge(ws, row, 1, row, 1, "绩效目标情况", bold=True)
    merge(ws, row, 2, row, 3, "预期总体目标", bold=True)
    merge(ws, row, 4, row, 12, t.overall_goal, align=Alignment(wrap_text=True, vertical="top"))
    ws.row_dimensions[row].height = 90
    merge(ws, row + 1, 1, row + 1, 3, "是否如期实现预期总体目标", bold=True)
    merge(ws, row + 1, 4, row + 1, 12, t.goal_achieved, align=Alignment(horizontal="left"))
    return row + 2


def _scoring_header(ws: Worksheet, t: ScoringTable, row: int) -> int:
    top = row
    if t.caption_row:
        merge(ws, row, 1, row, 6, "评价指标", bold=True)
        row += 1
    for col, label in enumerate(SCORING_TAIL, start=7):
        merge(ws, top, col, row + 1, col, label, bold=True)
    for col, label in ((1, "一级指标"), (3, "二级指标"), (5, "三级指标")):
        merge(ws, row, col, row, col + 1, label, bold=True)
    header_row(ws, row + 1, ("名称", "权重(%)") * 3)
    return row + 2


def _scoring_rows(ws: Worksheet, t: ScoringTable, row: int) -> int:
    for level in t.levels:
        n = sum(len(g.indicators) for g in level.groups)
        last = row + n - 1
        merge(ws, row, 1, last, 1, level.name)
        merge(ws, row, 2, last, 2, level.weight)
        if level.weight_rule:
            merge(ws, row, 4, last, 4, level.weight_rule)
            merge(ws, row, 6, last, 6, level.weight_rule)
        blocks = (
            (9, level.block_score),
            (10, level.block_reason),
            (11, level.block_scoring_rule),
            (12, level.block_evidence),
        )
        for col, value in blocks:
            if value is not None:
                merge(ws, row, col, last, col, value)
        r = row
        for group in level.groups:
            m = len(group.indicators)
            merge(ws, r, 3, r + m - 1, 3, group.name)
            if not level.weight_rule:
                merge(ws, r, 4, r + m - 1, 4, group.weight)
            for ind in group.indicators:
                _scoring_cells(ws, r, ind, level)
                r += 1
        row = last + 1
    return row


def _scoring_cells(ws: Worksheet, r: int, ind: ScoringIndicator, level: ScoringLevel1) -> None:
    put(ws, r, 5, ind.name)
    if not level.weight_rule:
        put(ws, r, 6, ind.weight, align=CENTER)
    put(ws, r, 7, ind.expected, align=CENTER)
    put(ws, r, 8, ind.actual, align=CENTER)
    own = (
        (9, level.block_score, ind.score),
        (10, level.block_reason, ind.reason),
        (11, level.block_scoring_rule, ind.scoring_rule),
        (12, level.block_evidence, ind.evidence),
    )
    for col, block, value in own:
        if block is None:
            put(ws, r, col, value, align=CENTER if col == 9 else None)
