"""The writers produce workbooks openpyxl opens, with the labels and merged ranges promised."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from openpyxl import load_workbook

from jixiao.samples.forms import (
    FundingRow,
    Indicator,
    LedgerSheet,
    ScoringIndicator,
    ScoringLevel1,
    ScoringLevel2,
    ScoringTable,
    SelfEvalProject,
    write_ledger,
    write_scoring_table,
    write_selfeval_form,
)


def _project(name: str, left_label: bool) -> SelfEvalProject:
    ind = [
        Indicator("产出指标", "数量指标", "培训人次", "≥100", "１２０", 30, 30),
        Indicator("产出指标", "数量指标", "接入单位", "1,330", "1,400", 20, 20),
        Indicator("产出指标", "时效指标", "审核时长", "≤4小时", "3小时", 10, 10),
        Indicator("满意度指标", "服务对象满意度指标", "满意度", "≥95%", "98%", 30, "２８"),
    ]
    return SelfEvalProject(
        sheet_name=name,
        year=2023,
        project_name=name,
        department="某局",
        implementing_unit="某中心",
        unit="元",
        funding=[
            FundingRow("年度资金总额", D("30000"), D("27000"), D("22516"), 10, D("0.8339"), 8)
        ],
        indicators=ind,
        total_score=96,
        left_label=left_label,
        notes=["注：测试备注"],
    )


def _find(ws, text: str) -> str:  # type: ignore[no-untyped-def]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell.coordinate
    raise AssertionError(f"{text!r} not found")


def test_selfeval_form_sheets_labels_and_merges(tmp_path: Path) -> None:
    path = write_selfeval_form(
        tmp_path / "f.xlsx", [_project("甲项目", True), _project("乙项目", False)]
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ["甲项目", "乙项目"]
    for ws, col in ((wb["甲项目"], "B"), (wb["乙项目"], "A")):
        merged = {r.coord for r in ws.merged_cells.ranges}
        assert ws["A1"].value == "项目支出绩效自评表" and ws["A2"].value == "（2023年度）"
        assert ws[_find(ws, "项目资金（元）")].column_letter == "A"
        top = _find(ws, "一级指标")
        assert top[0] == col
        first = int(top[1:]) + 1
        # 一级 spans its three children; 二级 "数量指标" spans two
        assert f"{col}{first}:{col}{first + 2}" in merged
        level2 = chr(ord(col) + 1)
        assert f"{level2}{first}:{level2}{first + 1}" in merged
        total = _find(ws, "总分")
        assert total[0] == "A"
        row = int(total[1:])
        values = [c.value for c in ws[row] if c.value is not None]
        assert values == ["总分", 100, 96]
        assert ws.cell(row=row + 1, column=1).value is None  # a blank row ...
        assert ws.cell(row=row + 1 + 1, column=1).value == "注：测试备注"  # ... then notes
        assert "１２０" in [c.value for c in ws[first]]
    assert any(
        r.coord.startswith("A") and r.min_col == r.max_col == 1 and r.size["rows"] > 4
        for r in wb["甲项目"].merged_cells.ranges
        if wb["甲项目"][r.coord.split(":")[0]].value == "绩效指标"
    )


def test_scoring_table_two_row_header_rule_and_total(tmp_path: Path) -> None:
    rule = "各项指标权重=40/指标总数"
    table = ScoringTable(
        sheet_name="评分",
        filler="某局",
        project_name="项目",
        year=2023,
        eval_amount=100,
        planned=100,
        allocated_local=100,
        allocated_transfer="/",
        spent_local=D("98.5"),
        spent_transfer="/",
        total_score=D("95.5"),
        header_in_one_cell=False,
        caption_row=False,
        levels=[
            ScoringLevel1(
                "决策",
                20,
                [
                    ScoringLevel2(
                        "资金管理", 20, [ScoringIndicator("资金支出率", 20, None, None, D("19.5"))]
                    )
                ],
            ),
            ScoringLevel1(
                "产出",
                80,
                [
                    ScoringLevel2(
                        "数量指标",
                        None,
                        [
                            ScoringIndicator("甲", expected="≥2.5", actual="2.8"),
                            ScoringIndicator("乙", expected="1330", actual="5453"),
                        ],
                    )
                ],
                weight_rule=rule,
                block_score=76,
            ),
        ],
    )
    ws = load_workbook(write_scoring_table(tmp_path / "s.xlsx", [table]))["评分"]
    assert ws["A2"].value == "填报单位名称：某局" and ws["I2"].value == "金额单位：万元"
    head = int(_find(ws, "一级指标")[1:])
    assert [ws.cell(row=head + 1, column=c).value for c in range(1, 7)] == ["名称", "权重(%)"] * 3
    merged = {r.coord for r in ws.merged_cells.ranges}
    assert {f"A{head}:B{head}", f"G{head}:G{head + 1}"} <= merged
    rows = head + 2
    assert {
        f"A{rows + 1}:A{rows + 2}",
        f"D{rows + 1}:D{rows + 2}",
        f"F{rows + 1}:F{rows + 2}",
        f"I{rows + 1}:I{rows + 2}",
    } <= merged
    assert ws[f"D{rows + 1}"].value == ws[f"F{rows + 1}"].value == rule
    total = int(_find(ws, "合计：")[1:])
    assert ws[f"I{total}"].value == D("95.5") or ws[f"I{total}"].value == 95.5


def test_ledger_units_in_header_or_caption_and_variants(tmp_path: Path) -> None:
    rows = [{"project_code": "P1", "year": 2023, "amount": D("12.5")}]
    path = write_ledger(
        tmp_path / "l.xlsx",
        [
            LedgerSheet("payments", rows, unit="万元"),
            LedgerSheet("budget_lines", rows, unit="元", unit_in="caption", sheet_name="预算表"),
            LedgerSheet(
                "payments",
                rows,
                unit="元",
                headers={"amount": "amount_yuan"},
                sheet_name="pay",
                omit=("summary",),
            ),
        ],
    )
    wb = load_workbook(path)
    assert wb.sheetnames == ["填写说明", "支付", "预算表", "pay"]
    assert "支付金额（万元）" in [c.value for c in wb["支付"][1]]
    assert wb["预算表"]["A1"].value == "金额单位：元"
    assert "金额" in [c.value for c in wb["预算表"][2]]
    header = [c.value for c in wb["pay"][1]]
    assert "amount_yuan" in header and "摘要" not in header
    assert wb["pay"]["D2"].value == 12.5
