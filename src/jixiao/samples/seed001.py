"""Seed 001 (Dongguan, third-party evaluation of the 2019-2021 digital-government project).

Two sheets as an evaluator's workbook lays them out (东莞市数字政府建设项目 2019-2021 第三方评价):

- the evaluation result form (绩效评价结果): 项目名称, 主管部门, 受委托单位
  广东三胜管理顾问有限公司, 绩效评价报告编号 DGCZ-JX-2022-002, 评价期间 2019-2021年度,
  评价类型 第三方评价, 资金支出率 98.42%;
  the 评价得分总表 决策 14.00/20, 过程 15.92/20, 产出 23.88/30, 效益 23.40/30, 合计 77.20/100 with
  得分率; the grade 中; the 如期完成率 table (启动 100/96 … 终验 24/23); a note;
- the sub-project spending table (子项目资金支出情况表) of the 75 子项目: 立项批复 (sum 122071.99
  万元, the report's basis), 累计下达, 累计支出 (sum 79420.32 万元) and 支出率, and a 合计 row.

Everything above is published in the seed document. The sub-projects' own amounts are not: they
come from :func:`jixiao.samples.demo.dongguan_subprojects` (deterministic), rounded to 0.01 万元
as a table prints them (the rounding residue goes to the largest sub-project so the sum stays
79420.32), with 累计下达 = 立项批复 for every funded sub-project and 0 for the two 暂未下达资金,
so that 累计支出/累计下达 gives the published buckets (80-90%: 30, 60-80%: 8, below 60%: 35,
no funds: 2). :class:`EvaluationForm` and :class:`SubprojectTable` have switches for the layout
variants the readers must take (labels in one cell, no title, columns reordered, 元 or 万元,
得分率 as text, number or percent format, the grade as a label, a column or a sentence).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path
from typing import Literal

from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.samples._xlsx import (
    TITLE_FONT,
    CellValue,
    fullwidth,
    header_row,
    merge,
    new_workbook,
    percent_text,
    put,
    save_deterministic,
    set_widths,
    with_thousands,
)
from jixiao.samples.demo import (
    DG_APPROVED_WAN,
    DG_DEPARTMENT,
    DG_MILESTONES,
    DG_NAME,
    DG_SCORES,
    DG_SPENT_WAN,
    dongguan_subprojects,
)
from jixiao.samples.money import WAN

EVALUATOR = "广东三胜管理顾问有限公司"
REPORT_NO = "DGCZ-JX-2022-002"
PERIOD = "2019-2021年度"
EVALUATION_TYPE = "第三方评价"
TOTAL_MAX = 100
TOTAL_SCORE = D("77.20")
GRADE = "中"
SPENDING_RATE = "98.42%"  # 累计安排预算 80692.06 万元, 实际支出 79420.32 万元
TITLE = "财政绩效评价报告"
GRADE_NOTE = "注：等级评价结果分为：优（得分≥90）、良（80分≤得分<90分）、中（60分≤得分<80分）、差（得分<60分）。"  # noqa: E501
SUBPROJECT_TITLE = "2019-2021年度东莞市数字政府建设项目子项目资金支出情况表"
SUBPROJECT_NOTE = (
    "注：支出率=累计支出÷累计下达；“—”表示暂未立项批复，暂未下达资金的子项目支出率为0。"
)

RateStyle = Literal["text", "percent", "number", "none"]


# ------------------------------------------------------------------ evaluation result form
@dataclass
class EvaluationForm:
    """The evaluation result form; defaults are seed 001 as published (评价结果表)."""

    title: str | None = TITLE
    inline_labels: bool = False  # "受委托单位：X" in one cell, else label | value
    #: role -> label text; a role set to None is left out
    labels: dict[str, str | None] = field(
        default_factory=lambda: {
            "project_name": "项目名称",
            "department": "主管部门",
            "evaluator": "受委托单位",
            "report_no": "绩效评价报告编号",
            "period": "评价期间",
            "evaluation_type": "评价类型",
            "spending_rate": "资金支出率",
        }
    )
    project_name: str = DG_NAME
    department: str = DG_DEPARTMENT
    project_code: str | None = None  # written as a 项目编码 label when set
    evaluator: str = EVALUATOR
    report_no: str = REPORT_NO
    period: str = PERIOD
    evaluation_type: str = EVALUATION_TYPE
    spending_rate: str = SPENDING_RATE
    #: score table columns in order, with their header texts
    score_columns: tuple[tuple[str, str], ...] = (
        ("level1", "一级指标"),
        ("max", "指标分值"),
        ("score", "评价得分"),
        ("rate", "得分率"),
    )
    rate_style: RateStyle = "text"
    #: (一级指标, 分值, 得分) rows; cell texts may be given as str to write them as typed
    scores: list[tuple[str, CellValue, CellValue]] = field(
        default_factory=lambda: [(n, w, s) for n, w, s in DG_SCORES]
    )
    total_label: str = "合计"
    total_max: CellValue = TOTAL_MAX
    total_score: CellValue = TOTAL_SCORE
    #: 一级指标 (or the total label) -> a 得分率 cell written instead of the computed one
    rate_overrides: dict[str, CellValue] = field(default_factory=dict)
    grade: str = GRADE
    grade_in: Literal["label", "column", "sentence"] = "label"
    milestones: list[tuple[str, CellValue, CellValue]] | None = field(
        default_factory=lambda: _published_milestones()
    )
    milestone_columns: tuple[str, str, str, str] = ("阶段", "计划数", "实际数", "如期完成率")
    milestone_rate_overrides: dict[str, CellValue] = field(default_factory=dict)
    blank_row_in_table: bool = True
    notes: list[str] = field(default_factory=lambda: [GRADE_NOTE])


def _published_milestones() -> list[tuple[str, CellValue, CellValue]]:
    return [(stage, planned, actual) for stage, planned, actual in DG_MILESTONES]


def write_evaluation_form(path: Path, forms: Sequence[tuple[str, EvaluationForm]]) -> Path:
    """Write one evaluation result form per (sheet name, form); return ``path``."""
    wb = new_workbook()
    for name, form in forms:
        evaluation_form_sheet(wb.create_sheet(name), form)
    return save_deterministic(wb, path)


def evaluation_form_sheet(ws: Worksheet, f: EvaluationForm) -> None:
    """Lay out one evaluation result form on ``ws`` (评价结果表)."""
    width = 6
    row = 1
    if f.title:
        merge(ws, row, 1, row, width, f.title, border=False)
        ws.cell(row=row, column=1).font = TITLE_FONT
        row += 2
    values = {
        "project_name": f.project_name,
        "department": f.department,
        "evaluator": f.evaluator,
        "report_no": f.report_no,
        "period": f.period,
        "evaluation_type": f.evaluation_type,
        "spending_rate": f.spending_rate,
        "project_code": f.project_code,
    }
    labels = dict(f.labels)
    if f.project_code:
        labels["project_code"] = "项目编码"
    pairs: list[tuple[str, CellValue]] = [
        (lab, values[role]) for role, lab in labels.items() if lab and values.get(role)
    ]
    if f.grade_in == "label":
        pairs.append(("评价等级", f.grade))
    row = _label_rows(ws, row, pairs, f.inline_labels, width)
    row += 1
    merge(ws, row, 1, row, width, "评价得分总表", border=False)
    row += 1
    cols = [c for c in f.score_columns if c[0] != "rate" or f.rate_style != "none"]
    if f.grade_in == "column":
        cols.append(("grade", "评价等级"))
    header_row(ws, row, [text for _k, text in cols])
    row += 1
    for i, (name, weight, score) in enumerate(f.scores):
        if f.blank_row_in_table and i == 2:
            row += 1  # a blank row inside the table
        _score_row(ws, row, cols, f, name, weight, score, None)
        row += 1
    _score_row(ws, row, cols, f, f.total_label, f.total_max, f.total_score, f.grade)
    row += 2
    if f.grade_in == "sentence":
        sentence = f"综合评定：{f.project_name}绩效得分为：{f.total_score}分，等级为“{f.grade}”。"
        merge(ws, row, 1, row, width, sentence, border=False, align=Alignment(wrap_text=True))
        row += 2
    if f.milestones is not None:
        merge(ws, row, 1, row, width, "产出时效：项目如期完成率", border=False)
        row += 1
        header_row(ws, row, list(f.milestone_columns))
        row += 1
        for stage, planned, actual in f.milestones:
            rate = f.milestone_rate_overrides.get(stage)
            if rate is None:
                rate = percent_text(D(str(actual)) / D(str(planned)))
            for c, v in enumerate((stage, planned, actual, rate), start=1):
                put(ws, row, c, v)
            row += 1
        row += 1
    for note in f.notes:
        merge(ws, row, 1, row, width, note, border=False, align=Alignment(wrap_text=True))
        row += 1
    set_widths(ws, {"A": 18, "B": 30, "C": 16, "D": 30, "E": 12, "F": 12})


def _label_rows(
    ws: Worksheet,
    row: int,
    pairs: list[tuple[str, CellValue]],
    inline: bool,
    width: int,
) -> int:
    """Label：value pairs, two per row (label | value | label | value), or one cell each."""
    if inline:
        for label, value in pairs:
            merge(ws, row, 1, row, width, f"{label}：{value}", border=False)
            row += 1
        return row
    for i in range(0, len(pairs), 2):
        chunk = pairs[i : i + 2]
        if len(chunk) == 1 or chunk[0][0] == "项目名称":
            label, value = chunk[0]
            put(ws, row, 1, label, bold=True)
            merge(ws, row, 2, row, width, value)
            row += 1
            if len(chunk) == 2:
                label, value = chunk[1]
                put(ws, row, 1, label, bold=True)
                merge(ws, row, 2, row, width, value)
                row += 1
            continue
        (l1, v1), (l2, v2) = chunk
        put(ws, row, 1, l1, bold=True)
        merge(ws, row, 2, row, 3, v1)
        put(ws, row, 4, l2, bold=True)
        merge(ws, row, 5, row, width, v2)
        row += 1
    return row


def _score_row(
    ws: Worksheet,
    row: int,
    cols: list[tuple[str, str]],
    f: EvaluationForm,
    name: str,
    weight: CellValue,
    score: CellValue,
    grade: str | None,
) -> None:
    rate: CellValue = f.rate_overrides.get(name)
    if rate is None and f.rate_style != "none":
        fraction = _number(score) / _number(weight)
        if f.rate_style == "text":
            rate = percent_text(fraction)
        elif f.rate_style == "number":
            rate = (fraction * 100).quantize(D("0.01"))
        else:
            rate = fraction.quantize(D("0.0001"))
    cells = {"level1": name, "max": weight, "score": score, "rate": rate, "grade": grade}
    for c, (key, _text) in enumerate(cols, start=1):
        value = cells[key]
        put(ws, row, c, value, fmt="0.00%" if key == "rate" and f.rate_style == "percent" else None)
        if key in ("max", "score") and isinstance(value, D):
            ws.cell(row=row, column=c).number_format = "0.00"


def _number(value: CellValue) -> D:
    """A cell value as a Decimal, as typed (全角, 千分位)."""
    return D(unicodedata.normalize("NFKC", str(value)).replace(",", ""))


# ------------------------------------------------------------------ sub-project table
@dataclass(frozen=True)
class SubprojectRow:
    """One 子项目 of the table; amounts in 万元 (None = "—", not stated)."""

    seq: int
    name: str
    unit: str
    approved_wan: D | None
    allocated_wan: D | None
    spent_wan: D | None

    @property
    def rate(self) -> D | None:
        """累计支出 / 累计下达 (None when nothing was allocated)."""
        if not self.allocated_wan or self.spent_wan is None:
            return None
        return self.spent_wan / self.allocated_wan


def seed001_subprojects() -> list[SubprojectRow]:
    """The 75 sub-projects: demo amounts rounded to 0.01 万元, totals as published (子项目)."""
    rows: list[SubprojectRow] = []
    for seq, sub in enumerate(dongguan_subprojects(), start=1):
        if sub.budget_wan is None:
            rows.append(SubprojectRow(seq, sub.name, sub.unit, None, D("0.00"), D("0.00")))
            continue
        spent = (sub.amount_yuan / WAN).quantize(D("0.01"), ROUND_HALF_UP)
        rows.append(SubprojectRow(seq, sub.name, sub.unit, sub.budget_wan, sub.budget_wan, spent))
    residue = DG_SPENT_WAN - sum((r.spent_wan or D(0) for r in rows), D(0))
    biggest = max(range(len(rows)), key=lambda i: rows[i].approved_wan or D(0))
    rows[biggest] = replace(rows[biggest], spent_wan=(rows[biggest].spent_wan or D(0)) + residue)
    assert sum((r.approved_wan or D(0) for r in rows), D(0)) == DG_APPROVED_WAN
    return rows


@dataclass
class SubprojectTable:
    """The sub-project spending table; defaults are seed 001's canonical layout (子项目表)."""

    rows: list[SubprojectRow] = field(default_factory=seed001_subprojects)
    title: str | None = SUBPROJECT_TITLE
    #: label -> value above the table (项目名称 is the parent project)
    labels: dict[str, str] = field(
        default_factory=lambda: {
            "主管部门": DG_DEPARTMENT,
            "项目名称": DG_NAME,
            "评价期间": PERIOD,
        }
    )
    inline_labels: bool = False
    unit: Literal["万元", "元"] = "万元"
    unit_in: Literal["caption", "header"] = "caption"
    #: columns in order, with their header texts (the unit suffix is added for "header")
    columns: tuple[tuple[str, str], ...] = (
        ("seq", "序号"),
        ("name", "子项目名称"),
        ("unit", "建设单位"),
        ("approved", "立项批复金额"),
        ("allocated", "累计下达金额"),
        ("spent", "累计支出金额"),
        ("rate", "支出率"),
    )
    #: write some amounts as text with thousands separators, one in full-width digits
    messy: bool = True
    blank_row_after: int | None = 10  # a blank row after this sequence number
    total: bool = True
    #: column key -> a 合计 cell written instead of the column sum
    total_overrides: dict[str, CellValue] = field(default_factory=dict)
    #: (seq, column key) -> a cell written instead of the computed one
    cell_overrides: dict[tuple[int, str], CellValue] = field(default_factory=dict)
    notes: list[str] = field(default_factory=lambda: [SUBPROJECT_NOTE])


def write_subproject_table(path: Path, tables: Sequence[tuple[str, SubprojectTable]]) -> Path:
    """Write one sub-project table per (sheet name, table); return ``path``."""
    wb = new_workbook()
    for name, table in tables:
        subproject_sheet(wb.create_sheet(name), table)
    return save_deterministic(wb, path)


def _money(amount: D | None, unit: str) -> D | None:
    if amount is None:
        return None
    return (amount * WAN).quantize(D("0.01")) if unit == "元" else amount


def subproject_sheet(ws: Worksheet, t: SubprojectTable) -> None:
    """Lay out one sub-project spending table on ``ws`` (子项目资金支出情况表)."""
    width = len(t.columns)
    row = 1
    if t.title:
        merge(ws, row, 1, row, width, t.title, border=False)
        ws.cell(row=row, column=1).font = TITLE_FONT
        row += 1
    for label, value in t.labels.items():
        if t.inline_labels:
            merge(ws, row, 1, row, width, f"{label}：{value}", border=False)
        else:
            put(ws, row, 1, label, bold=True, border=False)
            merge(ws, row, 2, row, width, value, border=False)
        row += 1
    if t.unit_in == "caption":
        merge(
            ws,
            row,
            1,
            row,
            width,
            f"金额单位：{t.unit}",
            border=False,
            align=Alignment(horizontal="right"),
        )
        row += 1
    money = {"approved", "allocated", "spent"}
    suffix = f"（{t.unit}）" if t.unit_in == "header" else ""
    header_row(ws, row, [text + (suffix if key in money else "") for key, text in t.columns])
    row += 1
    for i, sub in enumerate(t.rows):
        values: dict[str, CellValue] = {
            "seq": sub.seq,
            "name": sub.name,
            "unit": sub.unit,
            "approved": _money(sub.approved_wan, t.unit),
            "allocated": _money(sub.allocated_wan, t.unit),
            "spent": _money(sub.spent_wan, t.unit),
            "rate": percent_text(sub.rate) if sub.rate is not None else "—",
        }
        if values["approved"] is None:
            values["approved"] = "—"
        if t.messy:
            if i % 9 == 4 and isinstance(values["spent"], D):
                values["spent"] = with_thousands(values["spent"])
            if i == 7 and isinstance(values["approved"], D):
                values["approved"] = fullwidth(format(values["approved"], "f"))
        for (seq, key), override in t.cell_overrides.items():
            if seq == sub.seq:
                values[key] = override
        for c, (key, _text) in enumerate(t.columns, start=1):
            put(ws, row, c, values[key], fmt="#,##0.00")
        row += 1
        if t.blank_row_after is not None and sub.seq == t.blank_row_after:
            row += 1
    if t.total:
        sums: dict[str, D] = {
            k: sum(
                (_money(getattr(s, f"{k}_wan"), t.unit) or D(0) for s in t.rows),
                D(0),
            )
            for k in ("approved", "allocated", "spent")
        }
        totals: dict[str, CellValue] = {
            **sums,
            "rate": percent_text(sums["spent"] / sums["allocated"]) if sums["allocated"] else None,
            "seq": "合计",
            "name": "合计",
            "unit": None,
        }
        totals.update(t.total_overrides)
        first_two = [k for k, _ in t.columns[:2]]
        if first_two == ["seq", "name"]:
            merge(ws, row, 1, row, 2, "合计", bold=True)
            start = 3
        else:
            start = 1
        for c, (key, _text) in enumerate(t.columns[start - 1 :], start=start):
            put(ws, row, c, totals[key], fmt="#,##0.00", bold=True)
        row += 1
    for note in t.notes:
        merge(ws, row, 1, row, width, note, border=False)
        row += 1
    set_widths(ws, {"A": 8, "B": 44, "C": 22, "D": 16, "E": 16, "F": 16, "G": 10})


# ------------------------------------------------------------------ the canonical workbook
def write_seed001(path: Path) -> Path:
    """Seed 001's evaluation result form and sub-project table in one workbook (第三方评价)."""
    wb = new_workbook()
    evaluation_form_sheet(wb.create_sheet("绩效评价结果"), EvaluationForm())
    subproject_sheet(wb.create_sheet("子项目资金支出情况"), SubprojectTable())
    return save_deterministic(wb, path)
