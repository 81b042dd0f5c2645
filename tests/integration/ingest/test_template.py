"""The canonical template has drop-downs and reads back through the ledger reader."""

from __future__ import annotations

from decimal import Decimal

import openpyxl

from jixiao.ingest.loader import ingest_files
from jixiao.ingest.template import write_template


def _choices(ws) -> list[str]:
    return [dv.formula1 or "" for dv in ws.data_validations.dataValidation]


def test_template_round_trip(settings, query):
    path = write_template(settings.inbox / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "填写说明"
    assert wb["代码表"].sheet_state == "hidden"
    assert any("压减" in f for f in _choices(wb["预算"]))
    assert any("政府协同和部门管理" in f for f in _choices(wb["项目登记"]))
    assert any("政府协同和部门管理" in f for f in _choices(wb["支付"]))
    # units, directions and kinds are drop-downs too
    for name in ("预算", "支付"):
        assert '"万元,元"' in _choices(wb[name])
        assert wb[name]["A1"].value == "金额单位：" and wb[name]["B1"].value == "万元"
    assert '"≥,≤,="' in _choices(wb["绩效指标"])
    assert '"定量,定性,是否"' in _choices(wb["绩效指标"])

    summary = ingest_files(settings)
    result = summary.files[0]
    assert (result.status, result.layout, result.rows_loaded) == ("loaded", "ledger", 6)
    assert result.rows_rejected == 0
    assert {i["sheet"] for i in result.sheets_ignored} == {"填写说明", "代码表"}
    assert query("select amount_yuan, original_unit from raw.payments") == [
        (Decimal("283000.00"), "万元")
    ]
    assert query("select line_type, amount_yuan from raw.budget_lines") == [
        ("cut", Decimal("10000000.00"))
    ]
    assert query(
        "select level1_name, level2_name, level3_name, target_kind, target_direction, "
        "target_value, target_unit, actual_value, deviation_reason from raw.indicators"
    ) == [
        (
            "产出指标",
            "数量指标",
            "公共数据资源社会开放数据集",
            "quantitative",
            ">=",
            Decimal("1330"),
            "个",
            Decimal("5453"),
            "完成值高于指标值较多,指标值设置偏低",
        )
    ]


def test_template_unit_drop_down_changes_the_unit(settings, query):
    """Choosing 元 in the caption drop-down makes the same figure yuan, not 万元."""
    path = write_template(settings.inbox / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["支付"]["B1"] = "元"
    wb.save(path)
    ingest_files(settings)
    assert query("select amount_yuan, original_unit from raw.payments") == [
        (Decimal("28.30"), "元")
    ]


def test_indicator_sheet_rejects_a_kind_mismatch_and_unknown_direction(settings, query):
    path = write_template(settings.inbox / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["绩效指标"]
    ws.append(
        ["JM-SZZF", 2023, "效益指标", "社会效益", "群众满意度提升", "", "", "逐步提升", "", "定量"]
    )
    ws.append(["JM-SZZF", 2023, "产出指标", "质量指标", "网办率", "", "约", "95%", "", ""])
    ws.append(
        [
            "JM-SZZF",
            2023,
            "产出指标",
            "质量指标",
            "全程网办率",
            5,
            "≥",
            "95%",
            "",
            "定量",
            "96.54%",
            5,
        ]
    )
    wb.save(path)
    result = ingest_files(settings).files[0]
    assert (result.rows_loaded, result.rows_rejected, result.rows_read) == (7, 2, 9)
    assert query(
        "select row_number, cell_ref, reason_code from raw.rejected_rows order by row_number"
    ) == [(3, "H3", "unparseable_value"), (4, "G4", "unknown_code")]
    assert query(
        "select target_direction, target_value, target_unit, actual_value, weight "
        "from raw.indicators where level3_name = '全程网办率'"
    ) == [(">=", Decimal("95"), "%", Decimal("96.54"), Decimal("5"))]
