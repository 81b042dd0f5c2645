"""The per-project 项目支出绩效自评表 regenerated from the marts (项目自评表).

Standard layout of the annex to 财预〔2020〕10号: title and year; 项目名称; 主管部门 /
实施单位; the funding block 项目资金（万元） (年初预算数, 全年预算数, 全年执行数, 分值, 执行率,
得分) for 年度资金总额 and its fund sources; 年度总体目标; the indicator table with the 一级/二级
指标 merged over their children; 总分. Beside every reported score (自评得分) the form shows
the warehouse's recomputed score (复核得分) and the difference, highlighted when they differ.

Defined names ``t_funding``, ``t_indicators`` and ``t_total`` mark the three blocks.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.reports.content import half_width_digits, indicator_target_text
from jixiao.reports.marts import Row, YearData
from jixiao.reports.model import WAN, as_decimal, ratio
from jixiao.reports.safety import neutralise, safe_filename
from jixiao.reports.xlsx_common import (
    BOLD,
    CENTER,
    HIGHLIGHT,
    LEFT,
    fit_rows,
    header,
    merge,
    print_a4,
    put,
    save_workbook,
    title,
)

NCOLS = 10
WIDTHS = (10, 12, 30, 13, 13, 11, 10, 10, 9, 36)
FUND_ROWS: tuple[tuple[str, str], ...] = (
    ("total", "年度资金总额"),
    ("current_appropriation", "其中：当年财政拨款"),
    ("carryover", "上年结转资金"),
    ("other", "其他资金"),
)
BUDGET_EXECUTION_NAMES = frozenset({"预算执行率", "资金支出率", "执行率", "支出率"})


def is_budget_execution(r: Row) -> bool:
    """Is this indicator the 预算执行率 line that the form shows in the funding block?"""
    if r.get("rule_applied") == "allocation_rate":
        return False
    return (
        r.get("rule_applied") == "budget_execution_rate"
        or r.get("kind") in ("budget_rate", "budget_execution")
        or r.get("level1_name") in BUDGET_EXECUTION_NAMES
        or r.get("level3_name") in BUDGET_EXECUTION_NAMES
    )


def _wan(yuan: Any) -> Decimal | None:
    d = as_decimal(yuan)
    return None if d is None else d / WAN


def _differs(a: Any, b: Any) -> bool:
    x, y = as_decimal(a), as_decimal(b)
    return x is not None and y is not None and x != y


def _name(wb: Workbook, ws: Worksheet, key: str, r1: int, r2: int) -> None:
    ref = f"{quote_sheetname(ws.title)}!$A${r1}:${get_column_letter(NCOLS)}${r2}"
    wb.defined_names[key] = DefinedName(key, attr_text=ref)


def _header_block(ws: Worksheet, p: Row, year: int) -> int:
    title(ws, 1, "项目支出绩效自评表", NCOLS)
    title(ws, 2, f"（{year}年度）", NCOLS, font=BOLD)
    put(ws, 3, 1, "项目名称", bold=True, align=CENTER)
    merge(ws, 3, 1, 3, 2)
    put(ws, 3, 3, p["project_name"])
    merge(ws, 3, 3, 3, NCOLS)
    put(ws, 4, 1, "主管部门", bold=True, align=CENTER)
    merge(ws, 4, 1, 4, 2)
    put(ws, 4, 3, p.get("department_name"))
    merge(ws, 4, 3, 4, 5)
    put(ws, 4, 6, "实施单位", bold=True, align=CENTER)
    merge(ws, 4, 6, 4, 7)
    put(ws, 4, 8, p.get("implementing_unit") or p.get("department_name"))
    merge(ws, 4, 8, 4, NCOLS)
    return 5


def _funding_block(
    wb: Workbook, ws: Worksheet, row: int, p: Row, data: YearData, fund: Row | None
) -> int:
    key = p["project_key"]
    by_source = data.budget_by_source.get(key, {})
    spent = data.spent_by_source.get(key, {})
    total_budget = data.budget_total.get(key, {})
    put(ws, row, 1, "项目资金（万元）", bold=True, align=CENTER)
    merge(ws, row, 1, row + len(FUND_ROWS), 1)
    for c, text in enumerate(
        (
            "",
            "",
            "年初预算数",
            "全年预算数",
            "全年执行数",
            "分值",
            "执行率",
            "自评得分",
            "复核得分",
        ),
        start=2,
    ):
        header(ws, row, c, text)
    merge(ws, row, 2, row, 3)
    first = row
    for source, label in FUND_ROWS:
        row += 1
        put(ws, row, 2, label)
        merge(ws, row, 2, row, 3)
        if source == "total":
            initial, final, executed = (
                total_budget.get("initial_yuan"),
                p.get("final_budget_yuan"),
                p.get("spent_yuan"),
            )
        else:
            b = by_source.get(source, {})
            initial, final, executed = b.get("initial_yuan"), b.get("final_yuan"), spent.get(source)
        put(ws, row, 4, _wan(initial), "wan")
        put(ws, row, 5, _wan(final), "wan")
        put(ws, row, 6, _wan(executed), "wan")
        is_total = source == "total"
        weight = fund.get("weight") if fund and is_total else None
        put(ws, row, 7, weight, "score")
        put(ws, row, 8, ratio(executed, final) if (final or executed) else None, "rate")
        rep = fund.get("reported_score") if fund and is_total else None
        rec = fund.get("recomputed_score") if fund and is_total else None
        fill = HIGHLIGHT if _differs(rep, rec) else None
        put(ws, row, 9, rep, "score", fill=fill)
        cell = put(ws, row, 10, rec, "score", fill=fill)
        if fund and is_total and fund.get("rule_applied"):
            cell.comment = Comment(str(neutralise(fund["rule_applied"])), "jixiao")
    _name(wb, ws, "t_funding", first, row)
    row += 1
    goal = data.goals.get(p["project_key"], {})
    for goal_label, goal_text in (
        ("年度总体目标：预期目标", goal.get("expected_goal")),
        ("年度总体目标：实际完成情况", goal.get("actual_outcome")),
    ):
        put(ws, row, 1, goal_label, bold=True, align=CENTER)
        merge(ws, row, 1, row, 3)
        put(ws, row, 4, goal_text or None, align=LEFT)
        merge(ws, row, 4, row, NCOLS)
        ws.row_dimensions[row].height = (
            30 if not goal_text else max(30, 15 * (1 + len(str(goal_text)) // 40))
        )
        row += 1
    return row


def _merge_runs(ws: Worksheet, first: int, values: list[tuple[Any, ...]], col: int) -> None:
    """Merge consecutive rows whose key tuple is equal (一级/二级指标合并单元格)."""
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            merge(ws, first + start, col, first + i - 1, col)
            ws.cell(row=first + start, column=col).alignment = CENTER
            start = i


def _indicator_block(wb: Workbook, ws: Worksheet, row: int, items: list[Row]) -> int:
    heads = (
        "一级指标",
        "二级指标",
        "三级指标",
        "年度指标值",
        "实际完成值",
        "分值",
        "自评得分",
        "复核得分",
        "差异",
        "偏差原因分析及改进措施",
    )
    for c, text in enumerate(heads, start=1):
        header(ws, row, c, text)
    first = row + 1
    for r in items:
        row += 1
        rep, rec = r.get("reported_score"), r.get("recomputed_score")
        fill = HIGHLIGHT if _differs(rep, rec) else None
        diff = (
            as_decimal(rep) - as_decimal(rec)  # type: ignore[operator]
            if rep is not None and rec is not None
            else None
        )
        values: list[tuple[Any, str]] = [
            (r.get("level1_name"), "text"),
            (r.get("level2_name"), "text"),
            (half_width_digits(str(r.get("level3_name") or "")) or None, "text"),
            (indicator_target_text(r, "target"), "text"),
            (indicator_target_text(r, "actual"), "text"),
            (r.get("weight"), "score"),
        ]
        for c, (v, kind) in enumerate(values, start=1):
            put(ws, row, c, v, kind)  # type: ignore[arg-type]
        put(ws, row, 7, rep, "score", fill=fill)
        cell = put(ws, row, 8, rec, "score", fill=fill)
        put(ws, row, 9, diff, "score", fill=fill)
        reason = r.get("deviation_reason")
        put(ws, row, 10, half_width_digits(str(reason)) if reason else None)
        if r.get("rule_applied"):
            cell.comment = Comment(str(neutralise(r["rule_applied"])), "jixiao")
    if items:
        _merge_runs(ws, first, [(r.get("level1_name"),) for r in items], 1)
        _merge_runs(ws, first, [(r.get("level1_name"), r.get("level2_name")) for r in items], 2)
        _name(wb, ws, "t_indicators", first - 1, row)
    return row + 1


def _total_block(wb: Workbook, ws: Worksheet, row: int, p: Row, weight_sum: Decimal) -> int:
    rep, rec = p.get("reported_score"), p.get("recomputed_score")
    fill = HIGHLIGHT if _differs(rep, rec) else None
    put(ws, row, 1, "总分", bold=True, align=CENTER)
    merge(ws, row, 1, row, 5)
    put(ws, row, 6, weight_sum, "score", bold=True)
    put(ws, row, 7, rep, "score", bold=True, fill=fill)
    put(ws, row, 8, rec, "score", bold=True, fill=fill)
    diff = (
        as_decimal(rep) - as_decimal(rec)  # type: ignore[operator]
        if rep is not None and rec is not None
        else None
    )
    put(ws, row, 9, diff, "score", bold=True, fill=fill)
    grades = f"自评等级：{p.get('reported_grade') or '—'}；复核等级：{p.get('grade') or '—'}"
    put(ws, row, 10, grades, bold=True)
    _name(wb, ws, "t_total", row, row)
    return row + 1


def write_selfeval(data: YearData, project_key: str, path: Path, generated_at: datetime) -> Path:
    """Write one project's 自评表 workbook (写出项目支出绩效自评表)."""
    p = data.project(project_key)
    items = data.indicators.get(project_key, [])
    fund = next((r for r in items if is_budget_execution(r)), None)
    table_items = [r for r in items if r is not fund]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "自评表"
    row = _header_block(ws, p, data.year)
    row = _funding_block(wb, ws, row, p, data, fund)
    row = _indicator_block(wb, ws, row, table_items)
    weights = [as_decimal(r.get("weight")) or Decimal(0) for r in table_items]
    fund_weight = (as_decimal(fund.get("weight")) if fund else None) or Decimal(0)
    weight_total = as_decimal(p.get("weight_total"))  # the mart's own sum, when it has one
    row = _total_block(
        wb, ws, row, p, weight_total if weight_total is not None else sum(weights, fund_weight)
    )
    notes = (
        "注：复核得分由数据仓库按财预〔2020〕10号评分规则重新计算（规则见单元格批注）；"
        "黄色单元格表示自评得分与复核得分不一致。金额单位：万元。"
    )
    put(ws, row + 1, 1, notes, border=False)
    ws.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=NCOLS)
    ws.row_dimensions[row + 1].height = 30
    for c, w in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    fit_rows(ws, 3, row + 1)  # long indicator names and reasons wrap; rows grow to fit
    print_a4(ws)
    return save_workbook(
        wb, path, f"{p['project_name']} 项目支出绩效自评表 {data.year}", generated_at
    )


def selfeval_filename(p: Row) -> str:
    """自评表_<项目名称>_<hash>.xlsx, stable for the same project key."""
    return f"自评表_{safe_filename(p['project_name'], p['project_key'])}.xlsx"
