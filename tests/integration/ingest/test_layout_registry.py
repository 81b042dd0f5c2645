"""Scored layout detection, completeness, the documents' own words, originals before copies."""

from __future__ import annotations

import json
import os
import shutil
import time
from decimal import Decimal

import openpyxl
from tests.integration.ingest import ingest_workbooks as wbk

from jixiao.ingest.loader import ingest_files


def _evidence(query, file_name: str) -> list[dict]:
    ((raw,),) = query("select layout_evidence from raw.load_log where file_name = ?", [file_name])
    return json.loads(raw)


def test_scoring_table_titled_like_a_selfeval_form_is_read_as_a_scoring_table(settings, query):
    path = wbk.scoring_workbook(settings.inbox / "江门评分表.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.active["A1"] = "2023年度项目支出绩效自评表"  # a title is weak evidence
    wb.save(path)
    summary = ingest_files(settings)
    assert summary.files_quarantined == 0, summary.files[0].message_en
    assert summary.files[0].layout == "scoring_table"
    (ev,) = _evidence(query, path.name)
    assert ev["layout"] == "scoring_table"
    assert ev["runner_up"] is not None and ev["runner_up_score"] < ev["score"] - 0.1
    assert any("scoring header" in r for r in ev["reasons"])
    ((n,),) = query("select count(*) from raw.indicators where file_name = ?", [path.name])
    assert n > 0


def test_indicator_table_without_actuals_is_rejected_naming_the_column(settings, query):
    path = wbk.selfeval_workbook(settings.inbox / "新丰自评.xlsx")
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for r in range(13, 20):
            ws[f"E{r}"] = None  # the 实际完成值 column, header and values
    wb.save(path)
    summary = ingest_files(settings)
    (result,) = summary.files
    assert result.status == "quarantined"
    assert result.reason_code == "missing_required_columns"
    assert "实际完成值" in result.message_zh and "actual" in result.message_en
    assert query("select count(*) from raw.indicators") == [(0,)]


def test_funding_block_with_actual_arrival_column_keeps_allocated(settings, query):
    path = wbk.selfeval_workbook(settings.inbox / "新丰自评.xlsx")
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        ws["I6"], ws["I7"] = "实际到位数", 27000  # seed 003's extra column
    wb.save(path)
    summary = ingest_files(settings)
    assert summary.files_loaded == 1, summary.files[0].message_en
    rows = query(
        "select allocated_yuan from raw.funding_reported where fund_source = 'total' "
        "order by project_key"
    )
    assert rows == [(Decimal("27000.00"),), (Decimal("27000.00"),)]


def test_register_with_demand_unit_column_and_mid_year_cut_load(settings, query):
    path = wbk.ledger_workbook(
        settings.inbox / "江门台账.xlsx",
        {
            "项目登记": [
                ["项目编码", "项目名称", "需求单位", "项目类别"],
                ["JM-1", "政务云平台", "江门市政务服务数据管理局", "基础设施"],
            ],
            "预算": [
                ["金额单位：万元"],
                ["项目编码", "年度", "类型", "金额"],
                ["JM-1", 2022, "安排", 22000],
                ["JM-1", 2022, "年中压减", 12000],
            ],
            "支付": [
                ["金额单位：元"],
                ["项目编码", "支付日期", "支付金额", "收款单位"],
                ["JM-1", "2022-06-30", "1,000.50", "中国电信"],
            ],
        },
    )
    summary = ingest_files(settings)
    assert summary.files_loaded == 1, summary.files[0].message_en
    assert query("select department_name, implementing_unit from raw.projects") == [
        ("江门市政务服务数据管理局", None)
    ]
    assert query("select line_type, amount_yuan from raw.budget_lines order by line_type") == [
        ("cut", Decimal("120000000.00")),
        ("initial", Decimal("220000000.00")),
    ]
    assert query("select amount_yuan from raw.payments") == [(Decimal("1000.50"),)]
    assert query("select count(*) from raw.rejected_rows where file_name = ?", [path.name]) == [
        (0,)
    ]


def test_the_original_loads_and_its_copy_is_the_duplicate(settings, query):
    original = wbk.selfeval_workbook(settings.inbox / "新丰县_2023_自评表.xlsx")
    copy = settings.inbox / "新丰县_2023_自评表 - 副本.xlsx"
    shutil.copy2(original, copy)  # same bytes, same mtime, as Explorer's copy
    st = original.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert copy.name < original.name  # by name alone the copy would come first
    summary = ingest_files(settings)
    status = {f.file: f.status for f in summary.files}
    assert status == {original.name: "loaded", copy.name: "duplicate"}
    assert query("select distinct file_name from raw.indicators") == [(original.name,)]
    signals = dict(query("select file_name, order_signal from raw.load_log"))
    assert signals[original.name] is None
    assert signals[copy.name] in ("copy", "arrival")


def test_a_newer_resubmission_is_loaded_after_the_older_file(settings, query):
    older = wbk.selfeval_workbook(settings.inbox / "b_自评表.xlsx")
    time.sleep(1.1)  # a later arrival in the inbox (inode change time, whole seconds)
    newer = settings.inbox / "a_自评表（更正）.xlsx"
    wb = openpyxl.load_workbook(older)
    wb.worksheets[0]["E7"] = 58000  # the corrected 全年执行数
    wb.save(newer)
    summary = ingest_files(settings)
    assert [f.file for f in summary.files] == [older.name, newer.name]
    assert [f.status for f in summary.files] == ["loaded", "loaded"]
    signals = dict(query("select file_name, order_signal from raw.load_log"))
    assert signals[newer.name] == "arrival"


def test_total_rows_and_summary_lines_are_kept_as_reported_figures(settings, query):
    wbk.ledger_workbook(
        settings.inbox / "江门台账.xlsx",
        {
            "项目登记": [
                ["项目编码", "项目名称", "主管部门", "上级项目编码"],
                ["JM", "专项资金", "江门市政数局", None],
                ["JM-1", "政务云", "江门市政数局", "JM"],
                ["JM-2", "政务网", "江门市政数局", "JM"],
            ],
            "支付": [
                ["金额单位：万元"],
                ["资金来源", "项目编码", "支付日期", "支付金额", "收款单位"],
                # a fund-source code 合计 in the first column is data, not a total row
                ["合计", "JM-1", "2021-03-01", 100, "甲"],
                ["当年财政拨款", "JM-2", "2022-03-01", "200.5", "乙"],
                ["资金来源", "项目编码", "支付日期", "支付金额", "收款单位"],  # printed again
                ["当年财政拨款", "JM-2", "2022-04-01", 50, "乙"],
                ["合计", None, None, 350.5, None],
                ["2021-2022年预算安排 400 万元，实际支付 350.5 万元，支付率 87.63%"],
            ],
        },
    )
    summary = ingest_files(settings)
    (result,) = summary.files
    assert result.status == "loaded", result.message_en
    assert result.rows_rejected == 0
    assert query("select count(*), sum(amount_yuan) from raw.payments") == [
        (3, Decimal("3505000.00"))
    ]
    got = query(
        "select project_key, period_start_year, fiscal_year, measure, amount_yuan, rate, "
        "row_number from raw.reported_totals order by row_number, measure"
    )
    assert got == [
        ("JM", 2021, 2022, "paid", Decimal("3505000.00"), None, 7),  # the 合计 row
        ("JM", 2021, 2022, "final", Decimal("4000000.00"), None, 8),  # the summary line
        ("JM", 2021, 2022, "paid", Decimal("3505000.00"), None, 8),
        ("JM", 2021, 2022, "pay_rate", None, Decimal("0.876300"), 8),
    ]


def test_a_total_without_one_project_to_belong_to_is_not_kept(settings, query):
    wbk.ledger_workbook(
        settings.inbox / "支付.xlsx",
        {
            "支付": [
                ["项目编码", "支付日期", "支付金额（元）", "收款单位"],
                ["A-1", "2022-03-01", 100, "甲"],
                ["B-1", "2022-03-01", 200, "乙"],
                ["合计", None, 300, None],
            ]
        },
    )
    summary = ingest_files(settings)
    assert summary.files_loaded == 1
    assert query("select count(*) from raw.payments") == [(2,)]
    assert query("select count(*) from raw.reported_totals") == [(0,)]
    assert query("select count(*) from raw.rejected_rows") == [(0,)]


def test_an_unknown_header_is_named_with_the_closest_known_term(settings):
    wbk.ledger_workbook(
        settings.inbox / "支付.xlsx",
        {
            "支付": [
                ["项目编码", "支付日期", "支付金钱（元）", "收款单位"],
                ["A-1", "2022-03-01", 100, "甲"],
            ]
        },
    )
    (result,) = ingest_files(settings).files
    assert result.status == "quarantined" and result.reason_code == "missing_required_columns"
    assert "支付金钱" in result.message_zh and "支付金额" in result.message_zh
    assert "closest known: '支付金额'" in result.message_en
