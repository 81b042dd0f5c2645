"""The regenerated 项目支出绩效自评表: figures from the marts, layout, highlighting."""

from __future__ import annotations

from decimal import Decimal

from openpyxl import load_workbook
from tests.integration.reports.report_helpers import Built, as_dec, table_rows

WAN = Decimal(10000)


def test_funding_block_matches_marts(built: Built) -> None:
    path = built.one("projects", "数字政府", ".xlsx")
    rows = table_rows(path, "t_funding")
    assert rows[0][3:] == [
        "年初预算数",
        "全年预算数",
        "全年执行数",
        "分值",
        "执行率",
        "自评得分",
        "复核得分",
    ]
    total = rows[1]
    assert total[1] == "年度资金总额"
    ((final, spent),) = built.query(
        "select final_budget_yuan, spent_yuan from marts.mart_project_year "
        "where project_key = 'JM-2023-01'"
    )
    ((initial,),) = built.query(
        "select sum(initial_yuan) from marts.fct_budget where project_key = 'JM-2023-01'"
    )
    assert as_dec(total[3]) == initial / WAN
    assert as_dec(total[4]) == final / WAN == Decimal("9150")  # seed 002: 9150 万元
    assert as_dec(total[5]) == spent / WAN == Decimal("9044.14")  # seed 002: 9044.14 万元
    assert abs(as_dec(total[7]) - spent / final) < Decimal("0.0000005")
    ((weight, reported, recomputed),) = built.query(
        "select weight, reported_score, recomputed_score from marts.mart_indicator_results "
        "where indicator_id = 'i1'"
    )
    assert (as_dec(total[6]), as_dec(total[8]), as_dec(total[9])) == (weight, reported, recomputed)
    assert rows[2][1] == "其中：当年财政拨款"
    assert as_dec(rows[2][5]) == spent / WAN  # both payments are 当年财政拨款


def test_indicator_table_matches_marts_and_merges_levels(built: Built) -> None:
    path = built.one("projects", "数字政府", ".xlsx")
    rows = table_rows(path, "t_indicators")
    assert rows[0][0:3] == ["一级指标", "二级指标", "三级指标"]
    expected = built.query(
        "select level3_name, weight, reported_score, recomputed_score, deviation_reason "
        "from marts.mart_indicator_results where project_key = 'JM-2023-01' "
        "and rule_applied <> 'budget_execution_rate' order by row_number"
    )
    body = rows[1:]
    assert [(r[2], as_dec(r[5]), as_dec(r[6]), as_dec(r[7]), r[9]) for r in body] == [
        (e[0], e[1], e[2], e[3], e[4]) for e in expected
    ]
    targets = {r[2]: (r[3], r[4]) for r in body}
    assert targets["共享数据平均审核时长"] == ("≤4小时", "1.58小时")
    assert targets["公共数据资源社会开放数据集"] == ("≥1330个", "5453个")
    ws = load_workbook(path)["自评表"]
    merged = {str(m) for m in ws.merged_cells.ranges}
    start = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "一级指标") + 1
    # 决策 (监管有效性) is one row; 产出 spans 开放数据集 + 审核时长
    assert ws.cell(start + 1, 1).value == "产出"
    assert f"A{start + 1}:A{start + 2}" in merged
    assert ws.cell(start + 1, 2).value == "数量指标"
    assert f"B{start + 1}:B{start + 1}" not in merged  # different 二级指标 are not merged


def test_total_row_and_differences_highlighted(built: Built) -> None:
    path = built.one("projects", "政务服务建设推广", ".xlsx")
    total = table_rows(path, "t_total")[0]
    ((reported, recomputed, grade, reported_grade),) = built.query(
        "select reported_score, recomputed_score, grade, reported_grade "
        "from marts.mart_project_year where project_key = 'XF-2023-01'"
    )
    assert total[0] == "总分"
    assert (as_dec(total[6]), as_dec(total[7])) == (reported, recomputed)
    assert as_dec(total[8]) == reported - recomputed == Decimal("17.50")
    assert total[9] == f"自评等级：{reported_grade}；复核等级：{grade}"
    ws = load_workbook(path)["自评表"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "总分")
    assert ws.cell(row, 7).fill.fgColor.rgb.endswith("FFF2A8")
    # an indicator whose reported and recomputed scores differ is highlighted too
    differ = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 3).value == "网办事项数")
    assert ws.cell(differ, 7).value != ws.cell(differ, 8).value
    assert ws.cell(differ, 8).fill.fgColor.rgb.endswith("FFF2A8")


def test_unchanged_scores_are_not_highlighted(built: Built) -> None:
    path = built.one("projects", "政务外网运维", ".xlsx")
    ws = load_workbook(path)["自评表"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "总分")
    assert ws.cell(row, 7).value == ws.cell(row, 8).value
    assert ws.cell(row, 7).fill.fill_type is None


def test_layout_fonts_borders_print_setup(built: Built) -> None:
    path = built.one("projects", "数字政府", ".xlsx")
    ws = load_workbook(path)["自评表"]
    assert ws["A1"].value == "项目支出绩效自评表"
    assert ws["A2"].value == "（2023年度）"
    assert "A1:J1" in {str(m) for m in ws.merged_cells.ranges}
    assert ws["A1"].font.name == "宋体" and ws["A1"].font.b
    assert ws["C3"].value == "“数字政府”建设专项资金"
    assert ws["A5"].value == "项目资金（万元）"
    assert ws["C3"].border.left.style == "thin"
    assert ws.column_dimensions["C"].width >= 25
    assert int(ws.page_setup.paperSize) == 9  # 9 = A4 in the OOXML paper-size table
    assert ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True


def test_target_text_keeps_or_restores_the_direction() -> None:
    from jixiao.reports.content import indicator_target_text

    row = {"direction": ">=", "target_text": "2.5", "actual_text": "2.84"}
    assert indicator_target_text(row, "target") == "≥2.5"
    assert indicator_target_text(row, "actual") == "2.84"
    assert indicator_target_text({"direction": ">=", "target_text": "≥85"}, "target") == "≥85"
    assert indicator_target_text({"direction": None, "target_text": "逐步提升"}, "target") == (
        "逐步提升"
    )
    yes = {"kind": "yes_no", "target_value": Decimal(1)}
    assert indicator_target_text(yes, "target") == "是"
