"""Semantic guards through the real loader (语义校验，经加载器): what reaches raw.* and what
is rejected or quarantined, with the run context of earlier loads."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
from tests.integration.ingest import ingest_workbooks as wbk

from jixiao.ingest.loader import ingest_files

JM = "江门市政务服务数据管理局"
DG = "东莞市政务服务数据管理局"
REGISTER = ["项目编码", "项目名称", "主管部门", "项目类别"]
PAY = ["项目编码", "年度", "支付日期", "支付金额（万元）", "资金来源", "收款单位"]


def test_a_second_department_cannot_submit_for_anothers_project(settings, query):
    """The same code in two departments' files merged their payments under one department."""
    wbk.ledger_workbook(
        settings.inbox / "01_jm.xlsx",
        {
            "项目登记": [REGISTER, ["JM-SZZF", "“数字政府”建设专项资金", JM, "基础设施"]],
            "支付": [PAY, ["JM-SZZF", 2022, "2022-03-01", 9880, "当年财政拨款", "某信息公司"]],
        },
    )
    wbk.ledger_workbook(
        settings.inbox / "02_dg.xlsx",
        {
            "项目登记": [
                REGISTER,
                ["JM-SZZF", "数字政府", DG, "基础设施"],
                ["DG-XM01", "东莞新项目", DG, "基础设施"],
            ],
            "支付": [
                PAY,
                ["JM-SZZF", 2022, "2022-04-01", 28.3, "当年财政拨款", "某科技公司"],
                ["DG-XM01", 2022, "2022-04-02", 12.5, "当年财政拨款", "某公司"],
            ],
        },
    )
    summary = ingest_files(settings)
    jm, dg = summary.files
    assert (jm.status, jm.rows_loaded, jm.rows_rejected) == ("loaded", 2, 0)
    assert (dg.status, dg.rows_loaded, dg.rows_rejected) == ("loaded", 2, 2)
    assert query(
        "select file_name, sheet_name, row_number, cell_ref, reason_code from raw.rejected_rows "
        "order by sheet_name, row_number"
    ) == [
        ("02_dg.xlsx", "支付", 2, "A2", "department_clash"),
        ("02_dg.xlsx", "项目登记", 2, "A2", "department_clash"),
    ]
    for zh, en in query("select message_zh, message_en from raw.rejected_rows"):
        assert JM in zh and DG in zh and "JM-SZZF" in zh
        assert JM in en and DG in en and "JM-SZZF" in en
    assert query(
        "select distinct department_name from raw.submissions where project_key = 'JM-SZZF'"
    ) == [(JM,)]
    assert query("select project_key, amount_yuan from raw.payments order by project_key") == [
        ("DG-XM01", Decimal("125000.00")),
        ("JM-SZZF", Decimal("98800000.00")),
    ]


def test_bad_numbers_and_dates_are_rejected_rows_and_the_rest_loads(settings, query):
    rows = [
        ["JM-SZZF", 2022, "2022-03-01", 28.3, "当年财政拨款", "甲"],
        ["JM-SZZF", 2022, "2022-03-02", "NaN", "当年财政拨款", "乙"],
        ["JM-SZZF", 2022, "2022-03-03", 1e14, "当年财政拨款", "丙"],
        ["JM-SZZF", 2022, "2022-03-04", -28.3, "当年财政拨款", "丁"],
        ["JM-SZZF", 2999, "2022-03-05", 1.5, "当年财政拨款", "戊"],
        ["JM-SZZF", 2022, "1899-12-31", 1.5, "当年财政拨款", "己"],
    ]
    wbk.ledger_workbook(settings.inbox / "pay.xlsx", {"支付": [PAY, *rows]})
    (result,) = ingest_files(settings).files
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_rejected) == (
        "loaded",
        6,
        1,
        5,
    )
    assert query(
        "select row_number, cell_ref, reason_code from raw.rejected_rows order by row_number"
    ) == [
        (3, "D3", "value_out_of_range"),
        (4, "D4", "value_out_of_range"),
        (5, "D5", "negative_amount"),
        (6, "B6", "date_out_of_range"),
        (7, "C7", "date_out_of_range"),
    ]
    assert query("select fiscal_year, amount_yuan from raw.payments") == [
        (2022, Decimal("283000.00"))
    ]


def test_yuan_under_a_wan_yuan_caption_is_quarantined_and_other_files_load(settings, query):
    wbk.ledger_workbook(
        settings.inbox / "01_wrong_unit.xlsx",
        {
            "预算": [
                ["项目编码", "年度", "类型", "金额（万元）"],
                ["JM-SZZF", 2022, "年初预算", 50],
            ],
            "支付": [PAY, ["JM-SZZF", 2022, "2022-03-01", 455000, "当年财政拨款", "某公司"]],
        },
    )
    wbk.ledger_workbook(
        settings.inbox / "02_good.xlsx",
        {"支付": [PAY, ["DG-XM01", 2022, "2022-03-01", 12.5, "当年财政拨款", "某公司"]]},
    )
    wrong, good = ingest_files(settings).files
    assert (wrong.status, wrong.reason_code) == ("quarantined", "implausible_amount")
    assert "455000 万元 = 45.5 亿元" in wrong.message_zh
    assert "455000 元 = 45.5 万元" in wrong.message_zh
    assert "D1" in wrong.message_zh  # the 支付金额（万元） header gave the unit
    assert good.status == "loaded"
    assert query("select project_key from raw.payments") == [("DG-XM01",)]


def test_missing_actual_columns_name_the_closest_known_header(settings):
    """A typo in the 实际完成值 header is named with the term the reader knows."""
    form = wbk.selfeval_workbook(settings.inbox / "01_form.xlsx")
    wb = openpyxl.load_workbook(form)
    ws = wb.worksheets[0]
    found = [c for row in ws.iter_rows() for c in row if c.value == "实际完成值"]
    assert found
    for c in found:
        c.value = "实绩完成值"
    wb.save(form)
    table = wbk.scoring_workbook(settings.inbox / "02_scoring.xlsx")
    wb = openpyxl.load_workbook(table)
    ws = wb.worksheets[0]
    found = [c for row in ws.iter_rows() for c in row if c.value == "评价年度实现值"]
    assert found
    for c in found:
        c.value = "评价年度实绩值"
    wb.save(table)
    form_result, table_result = ingest_files(settings).files
    assert form_result.reason_code == "missing_required_columns"
    assert "「实绩完成值」未识别，最接近的已知列名为「实际完成值」" in form_result.message_zh
    assert "closest known: '实际完成值'" in form_result.message_en
    assert table_result.reason_code == "missing_required_columns"
    assert "「评价年度实绩值」未识别，最接近的已知列名为「评价年度实现值」" in (
        table_result.message_zh
    )


def test_a_form_dated_2999_is_rejected_naming_the_year_cell(settings, query):
    form = wbk.selfeval_workbook(settings.inbox / "2999.xlsx")
    wb = openpyxl.load_workbook(form)
    wb.worksheets[0]["A2"] = "（2999年度）"
    wb.save(form)
    (result,) = ingest_files(settings).files
    assert (result.status, result.reason_code) == ("quarantined", "date_out_of_range")
    assert "A2" in result.message_zh and "2999" in result.message_zh
    assert "2000" in result.message_en and "2100" in result.message_en
    assert query("select count(*) from raw.indicators") == [(0,)]


BUDGET = ["项目编码", "年度", "类型", "金额（万元）"]


def _budget_file(path, rows):
    return wbk.ledger_workbook(path, {"预算": [BUDGET, *rows]})


def test_a_budget_in_yuan_under_wan_yuan_is_caught_against_an_earlier_nights_budget(
    settings, query
):
    """One year per file: only the warehouse's history shows the 10,000 x jump (单位 vs 历史)."""
    _budget_file(settings.inbox / "2022.xlsx", [["JM-SZZF", 2022, "年初预算", 45.5]])
    (first,) = ingest_files(settings).files
    assert first.status == "loaded"
    # next night: 2023's budget typed in 元 under the 万元 caption, and a plausible file
    _budget_file(settings.inbox / "2023.xlsx", [["JM-SZZF", 2023, "年初预算", 480000]])
    _budget_file(settings.inbox / "2023_other.xlsx", [["DG-XM01", 2023, "年初预算", 480000]])
    results = {r.file: r for r in ingest_files(settings).files}
    wrong, other = results["2023.xlsx"], results["2023_other.xlsx"]
    assert (wrong.status, wrong.reason_code) == ("quarantined", "implausible_amount")
    assert "2022 年度" in wrong.message_zh and "45.5 万元" in wrong.message_zh
    assert "480000 元 = 48 万元" in wrong.message_zh
    # no history for DG-XM01: 48 亿 in one year of one project is large but within bounds
    assert other.status == "loaded"
    assert query(
        "select project_key, fiscal_year, amount_yuan from raw.budget_lines order by 1, 2"
    ) == [
        ("DG-XM01", 2023, Decimal("4800000000.00")),
        ("JM-SZZF", 2022, Decimal("455000.00")),
    ]
    # the quarantine keeps where and what was expected, for the submitter's feedback
    assert query(
        "select sheet_name, cell_ref, expected like '%元、千元、万元、亿元%' from raw.load_log "
        "where status = 'quarantined'"
    ) == [("预算", "D1", True)]


def test_a_plausible_next_year_budget_loads_against_the_history(settings, query):
    _budget_file(settings.inbox / "2022.xlsx", [["JM-SZZF", 2022, "年初预算", 45.5]])
    ingest_files(settings)
    _budget_file(settings.inbox / "2023.xlsx", [["JM-SZZF", 2023, "年初预算", 48]])
    results = {r.file: r.status for r in ingest_files(settings).files}
    assert results == {"2022.xlsx": "skipped_unchanged", "2023.xlsx": "loaded"}


def test_the_history_includes_files_loaded_earlier_in_the_same_run(settings, query):
    """The context is re-read after a file with budget lines (sequential or pool alike)."""
    _budget_file(settings.inbox / "01_2022.xlsx", [["JM-SZZF", 2022, "年初预算", 45.5]])
    _budget_file(settings.inbox / "02_2023.xlsx", [["JM-SZZF", 2023, "年初预算", 480000]])
    first, second = ingest_files(settings).files
    assert first.status == "loaded"
    assert (second.status, second.reason_code) == ("quarantined", "implausible_amount")


def test_a_file_quarantined_after_its_register_was_read_names_its_department(settings, query):
    wbk.ledger_workbook(
        settings.inbox / "jm.xlsx",
        {
            "项目登记": [REGISTER, ["JM-SZZF", "“数字政府”建设专项资金", JM, "基础设施"]],
            "预算": [BUDGET, ["JM-SZZF", 2022, "年初预算", 50]],
            "支付": [PAY, ["JM-SZZF", 2022, "2022-03-01", 455000, "当年财政拨款", "某公司"]],
        },
    )
    (result,) = ingest_files(settings).files
    assert (result.status, result.reason_code, result.department) == (
        "quarantined",
        "implausible_amount",
        JM,
    )
    assert query("select department_name, sheet_name from raw.load_log") == [(JM, "支付")]
