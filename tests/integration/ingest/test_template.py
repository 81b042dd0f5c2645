"""The canonical template has drop-downs and reads back through the ledger reader."""

from __future__ import annotations

from decimal import Decimal

import openpyxl

from jixiao.ingest.loader import ingest_files
from jixiao.ingest.template import EXAMPLE_PREFIXES, LEGACY_EXAMPLES, SHEETS, write_template


def _choices(ws) -> list[str]:
    return [dv.formula1 or "" for dv in ws.data_validations.dataValidation]


#: the clerk's own voucher and reason where the example printed made-up ones
_OWN = {"记-0001": "记-0107", "年中压减": "疫情防控压减"}


def _replace_examples(path) -> None:
    """What a clerk does: overwrite each example row with the real project code and own
    voucher/reason (the figures stay, so the assertions below read the same amounts)."""
    wb = openpyxl.load_workbook(path)
    for name in SHEETS:
        ws = wb[name]
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("示例-"):
                    cell.value = cell.value.removeprefix("示例-")
                if isinstance(cell.value, str) and cell.value.startswith("（示例）"):
                    cell.value = cell.value.removeprefix("（示例）")
                if cell.value in _OWN:
                    cell.value = _OWN[cell.value]
    wb.save(path)


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
    # every example row is marked with the reserved code prefix
    for name in SHEETS:
        codes = [c.value for c in wb[name]["A"] if isinstance(c.value, str)]
        assert any(c.startswith(EXAMPLE_PREFIXES) for c in codes), name

    _replace_examples(path)
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


def test_a_template_with_its_example_rows_left_in_loads_none_of_them(settings, query):
    """Issue 11: the example rows left in loaded as other departments' newest data (one
    city's 2022 spending fell from 98.8 million 元 to 283,000)."""
    write_template(settings.inbox / "template.xlsx")
    result = ingest_files(settings).files[0]
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 0, 6)
    assert query(
        "select sheet_name, row_number, cell_ref, reason_code from raw.rejected_rows "
        "order by sheet_name, row_number"
    ) == [
        (
            name,
            3 if name in ("预算", "支付") else 2,
            "A3" if name in ("预算", "支付") else "A2",
            "template_example",
        )
        for name in sorted(SHEETS)
    ]
    for table in ("payments", "budget_lines", "projects", "evaluations", "submissions"):
        assert query(f"select count(*) from raw.{table}") == [(0,)], table
    ((zh, en),) = query(
        "select message_zh, message_en from raw.rejected_rows where sheet_name = '支付'"
    )
    assert "示例-JM-SZZF" in zh and "删除" in zh and "delete" in en


def test_an_older_templates_payment_example_left_in_is_rejected(settings, query):
    """Templates written before the 示例- prefix printed JM-SZZF 28.3 万元 to 某科技有限公司."""
    path = write_template(settings.inbox / "old_template.xlsx")
    wb = openpyxl.load_workbook(path)
    for name in SHEETS:
        ws = wb[name]
        top = 3 if name in ("预算", "支付") else 2
        ws.delete_rows(top)
        if name in LEGACY_EXAMPLES:
            for c, v in enumerate(LEGACY_EXAMPLES[name], start=1):
                ws.cell(top, c, v)
    wb["支付"].append(
        ["JM-SZZF", 2022, "2022-05-01", 9880, "当年财政拨款", "某信息公司", "记-0123"]
    )
    wb.save(path)
    result = ingest_files(settings).files[0]
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    assert query(
        "select sheet_name, row_number, reason_code from raw.rejected_rows order by 1"
    ) == [("支付", 3, "template_example"), ("预算", 3, "template_example")]
    assert query("select amount_yuan from raw.payments") == [(Decimal("98800000.00"),)]


def test_template_unit_drop_down_changes_the_unit(settings, query):
    """Choosing 元 in the caption drop-down makes the same figure yuan, not 万元."""
    path = write_template(settings.inbox / "template.xlsx")
    _replace_examples(path)
    wb = openpyxl.load_workbook(path)
    wb["支付"]["B1"] = "元"
    wb.save(path)
    ingest_files(settings)
    assert query("select amount_yuan, original_unit from raw.payments") == [
        (Decimal("28.30"), "元")
    ]


def test_indicator_sheet_rejects_a_kind_mismatch_and_unknown_direction(settings, query):
    path = write_template(settings.inbox / "template.xlsx")
    _replace_examples(path)
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
