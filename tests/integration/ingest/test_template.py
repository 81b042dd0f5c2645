"""The canonical template has drop-downs and reads back through the ledger reader."""

from __future__ import annotations

from decimal import Decimal

import openpyxl

from jixiao.ingest.loader import ingest_files
from jixiao.ingest.template import write_template


def test_template_round_trip(settings, query):
    path = write_template(settings.inbox / "template.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "填写说明"
    assert wb["代码表"].sheet_state == "hidden"
    validations = wb["预算"].data_validations.dataValidation
    assert any("压减" in (dv.formula1 or "") for dv in validations)
    assert any(
        "政府协同和部门管理" in (dv.formula1 or "")
        for dv in wb["支付"].data_validations.dataValidation
    )

    summary = ingest_files(settings)
    result = summary.files[0]
    assert (result.status, result.layout, result.rows_loaded) == ("loaded", "ledger", 5)
    assert {i["sheet"] for i in result.sheets_ignored} == {"填写说明", "代码表"}
    assert query("select amount_yuan, original_unit from raw.payments") == [
        (Decimal("283000.00"), "万元")
    ]
    assert query("select line_type, amount_yuan from raw.budget_lines") == [
        ("cut", Decimal("10000000.00"))
    ]
