"""Semantic guards in the readers (读取时的语义校验), on in-memory grids through ``extract``.

Each test feeds the mistake a clerk makes (figures as in docs/input-formats.md and the seed
forms: 江门 “数字政府” 35000 万元, payments of 28.3 万元) and asserts the precise rejection:
reason code, cell, value seen and a bilingual message that says how to fix it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jixiao.ingest import layouts
from jixiao.ingest.errors import FileRejected, RowRejection
from jixiao.ingest.layouts import ledger
from jixiao.ingest.layouts.common import Extracted
from jixiao.ingest.template import SHEETS
from jixiao.ingest.workbook import Sheet, Workbook

JM = "江门市政务服务数据管理局"
DG = "东莞市政务服务数据管理局"
REGISTER_HEADER = ["项目编码", "项目名称", "主管部门", "开始年度", "结束年度"]
BUDGET_HEADER = ["项目编码", "年度", "类型", "资金来源", "金额（万元）", "原因"]
PAY_HEADER = ["项目编码", "年度", "支付日期", "支付金额", "收款单位", "凭证号"]


def _register(*rows: list[Any]) -> Sheet:
    return Sheet("项目登记", [REGISTER_HEADER, *[list(r) for r in rows]])


def _budget(*rows: list[Any]) -> Sheet:
    return Sheet("预算", [BUDGET_HEADER, *[list(r) for r in rows]])


def _payments(*rows: list[Any], unit: str = "万元") -> Sheet:
    return Sheet("支付", [["金额单位：", unit], PAY_HEADER, *[list(r) for r in rows]])


def _extract(*sheets: Sheet, context: dict[str, Any] | None = None) -> Extracted:
    return layouts.extract(Workbook("jm.xlsx", list(sheets)), context)


def _only(out: Extracted, code: str) -> RowRejection:
    found = [r for r in out.rejections if r.reason_code == code]
    assert len(found) == 1, [(r.reason_code, r.cell, r.message_en) for r in out.rejections]
    return found[0]


def _bilingual(rej: RowRejection) -> None:
    assert rej.message_zh and rej.message_en and rej.expected
    assert "Error" not in rej.message_zh and "Exception" not in rej.message_zh


# ------------------------------------------------------------------ signs (符号)


@pytest.mark.parametrize("fast", [True, False])
def test_a_negative_initial_budget_is_rejected_not_stored_without_its_sign(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "FAST_PATH", fast)
    out = _extract(
        _budget(
            ["JM-SZZF", 2023.0, "年初预算", "合计", -35000.0, ""],
            ["JM-SZZF", 2023.0, "压减", "合计", -1000.0, "年中压减"],
            ["JM-SZZF", 2023.0, "追加", "合计", 500.0, ""],
        )
    )
    rej = _only(out, "negative_amount")
    assert (rej.sheet, rej.row_number, rej.cell) == ("预算", 2, "E2")
    assert rej.raw_values[4] == "-35000"
    assert "-35000" in rej.message_zh and "年初预算" in rej.message_zh
    assert "压减" in rej.message_zh and "-35000" in rej.message_en
    _bilingual(rej)
    lines = [(r["line_type"], r["amount_yuan"]) for r in out.tables["budget_lines"]]
    # the 压减 line written "-1000" is the explicit reduction: kept as a cut of 1000 万元
    assert lines == [("cut", Decimal("10000000.00")), ("addition", Decimal("5000000.00"))]


@pytest.mark.parametrize("fast", [True, False])
def test_a_negative_payment_is_rejected_with_the_value_seen(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "FAST_PATH", fast)
    out = _extract(
        _payments(
            ["JM-SZZF", 2022.0, "2022-03-01", 28.3, "某科技有限公司", "记-0101"],
            ["JM-SZZF", 2022.0, "2022-04-01", -28.3, "某科技有限公司", "记-0102"],
        )
    )
    rej = _only(out, "negative_amount")
    assert (rej.row_number, rej.cell) == (4, "D4")
    assert "-28.3" in rej.message_zh and "-28.3" in rej.message_en
    assert [p["amount_yuan"] for p in out.tables["payments"]] == [Decimal("283000.00")]


# ------------------------------------------------------------------ finite and in range


@pytest.mark.parametrize("fast", [True, False])
def test_nan_and_huge_payment_amounts_and_1899_dates_are_row_rejections(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "FAST_PATH", fast)
    out = _extract(
        _payments(
            ["JM-SZZF", 2022.0, "2022-03-01", float("nan"), "甲", "记-1"],
            ["JM-SZZF", 2022.0, "2022-03-02", 1e14, "乙", "记-2"],
            ["JM-SZZF", None, dt.datetime(1899, 12, 31), 12.5, "丙", "记-3"],
            ["JM-SZZF", 2999.0, "2022-03-04", 12.5, "丁", "记-4"],
            ["JM-SZZF", 2022.0, 60.0, 12.5, "戊", "记-5"],
            ["JM-SZZF", 2022.0, "2022-03-06", 12.5, "己", "记-6"],
        )
    )
    got = sorted((r.row_number, r.cell, r.reason_code) for r in out.rejections)
    assert got == [
        (3, "D3", "value_out_of_range"),
        (4, "D4", "value_out_of_range"),
        (5, "C5", "date_out_of_range"),
        (6, "B6", "date_out_of_range"),
        (7, "C7", "date_out_of_range"),
    ]
    assert [p["row_number"] for p in out.tables["payments"]] == [8]


def test_a_nan_or_1e14_score_in_an_evaluation_ledger_is_rejected() -> None:
    sheet = Sheet(
        "评价结果",
        [
            ["项目编码", "评价期间", "评价类型", "评价得分"],
            ["DG-SZZF", "2019-2021", "第三方评价", float("nan")],
            ["DG-SZZF", "2019-2021", "第三方评价", 1e14],
            ["DG-SZZF", "1899-2021", "第三方评价", 77.2],
            ["DG-SZZF", "2019-2021", "第三方评价", 77.2],
        ],
    )
    out = _extract(sheet)
    got = sorted((r.row_number, r.cell, r.reason_code) for r in out.rejections)
    assert got == [
        (2, "D2", "value_out_of_range"),
        (3, "D3", "value_out_of_range"),
        (4, "B4", "date_out_of_range"),
    ]
    assert [e["score"] for e in out.tables["evaluations"]] == [Decimal("77.2")]


# ------------------------------------------------------------------ duplicate codes


def test_the_same_code_twice_in_one_register_rejects_the_second_naming_the_first() -> None:
    out = _extract(
        _register(
            ["JM-SZZF", "“数字政府”建设专项资金", JM, 2019.0, 2022.0],
            ["JM-ZWFW", "政务服务专项", JM, 2019.0, 2022.0],
            ["JM-SZZF", "数字政府（重复）", DG, 2019.0, 2022.0],
        ),
        _payments(["JM-SZZF", 2022.0, "2022-03-01", 28.3, "某科技有限公司", "记-1"]),
    )
    rej = _only(out, "duplicate_code")
    assert (rej.sheet, rej.row_number, rej.cell) == ("项目登记", 4, "A4")
    assert "第 2 行" in rej.message_zh and "row 2" in rej.message_en
    assert "JM-SZZF" in rej.message_zh
    _bilingual(rej)
    names = [p["project_name"] for p in out.tables["projects"]]
    assert names == ["“数字政府”建设专项资金", "政务服务专项"]
    # the first row decides the department of the file's payments, not the last
    (sub,) = out.submissions[-1:]
    assert sub["department_name"] == JM


def test_the_same_code_in_two_periods_is_not_a_duplicate() -> None:
    out = _extract(
        _register(
            ["JM-SZZF", "数字政府一期", JM, 2019.0, 2022.0],
            ["JM-SZZF", "数字政府二期", JM, 2023.0, 2025.0],
        )
    )
    assert out.rejections == []
    assert len(out.tables["projects"]) == 2


# ------------------------------------------------------------------ department ownership


def test_rows_for_a_project_registered_by_another_department_are_rejected() -> None:
    context = {"departments": {"JM-SZZF": JM}, "names": {"JM-SZZF": "数字政府"}}
    out = _extract(
        _register(
            ["JM-SZZF", "数字政府", DG, 2022.0, 2022.0],
            ["DG-XM01", "东莞新项目", DG, 2022.0, 2022.0],
        ),
        _payments(
            ["JM-SZZF", 2022.0, "2022-03-01", 28.3, "某科技有限公司", "记-1"],
            ["DG-XM01", 2022.0, "2022-03-02", 12.5, "某公司", "记-2"],
        ),
        context=context,
    )
    clashes = [r for r in out.rejections if r.reason_code == "department_clash"]
    assert sorted((r.sheet, r.row_number, r.cell) for r in clashes) == [
        ("支付", 3, "A3"),
        ("项目登记", 2, "A2"),
    ]
    for rej in clashes:
        assert JM in rej.message_zh and DG in rej.message_zh and "JM-SZZF" in rej.message_zh
        assert JM in rej.message_en and DG in rej.message_en
        _bilingual(rej)
    # the new project loads; nothing of JM-SZZF is merged under 东莞
    assert [p["project_key"] for p in out.tables["payments"]] == ["DG-XM01"]
    assert [p["project_code"] for p in out.tables["projects"]] == ["DG-XM01"]
    assert {s["project_key"] for s in out.submissions} == {"DG-XM01"}
    assert all(
        r["_submission"] is None or out.submissions[r["_submission"]]["project_key"] == "DG-XM01"
        for rows in out.tables.values()
        for r in rows
    )


def test_the_owning_department_resubmitting_is_accepted() -> None:
    context = {"departments": {"JM-SZZF": JM}, "names": {}}
    out = _extract(
        _register(["JM-SZZF", "数字政府", JM, 2022.0, 2022.0]),
        _payments(["JM-SZZF", 2022.0, "2022-03-01", 28.3, "某科技有限公司", "记-1"]),
        context=context,
    )
    assert out.rejections == []
    assert len(out.tables["payments"]) == 1


def test_a_clash_records_the_code_looked_up_in_the_context() -> None:
    seen: set[str] = set()
    layouts.extract(
        Workbook("f.xlsx", [_register(["DG-XM01", "新项目", DG, 2022.0, 2022.0])]),
        {"departments": {}, "names": {}},
        lookups=seen,
    )
    assert "DG-XM01" in seen


# ------------------------------------------------------------------ template examples


def test_the_templates_example_rows_are_rejected_and_real_rows_load() -> None:
    header, example, _choices = SHEETS["支付"]
    sheet = Sheet(
        "支付",
        [
            ["金额单位：", "万元"],
            header,
            example,
            ["JM-SZZF", 2022, "2022-03-01", 28.3, "当年财政拨款", "某科技有限公司", "记-0101"],
        ],
    )
    out = _extract(sheet)
    rej = _only(out, "template_example")
    assert (rej.row_number, rej.cell) == (3, "A3")
    assert "示例-JM-SZZF" in rej.message_zh and "删除" in rej.message_zh
    assert "delete" in rej.message_en
    assert [p["row_number"] for p in out.tables["payments"]] == [4]


def test_an_older_templates_example_left_unchanged_is_rejected() -> None:
    """Templates written before the example codes were marked printed JM-SZZF 28.3 万元."""
    header = SHEETS["支付"][0]
    old = ["JM-SZZF", 2022, "2022-03-01", 28.3, "当年财政拨款", "某科技有限公司", "记-0001"]
    old += ["政务云运维", "基础设施"]
    pay = Sheet("支付", [["金额单位：", "万元"], header, old, [*old[:6], "记-0002", "运维"]])
    info = Sheet("填写说明", [["填写说明 / Instructions"]])
    budget = Sheet(
        "预算",
        [["金额单位：", "万元"], SHEETS["预算"][0], ["JM-SZZF", 2020, "压减", "合计", 1000]],
    )
    out = layouts.extract(Workbook("t.xlsx", [info, budget, pay]))
    rej = _only(out, "template_example")
    assert (rej.sheet, rej.row_number) == ("支付", 3)
    assert [p["row_number"] for p in out.tables["payments"]] == [4]
    # outside a workbook made from the template the same figures are ordinary data
    plain = layouts.extract(Workbook("p.xlsx", [Sheet("支付", [row[:] for row in pay.rows])]))
    assert plain.rejections == [] and len(plain.tables["payments"]) == 2


# ------------------------------------------------------------------ implausible units


def test_yuan_typed_under_a_wan_yuan_caption_quarantines_the_file_with_both_readings() -> None:
    """45.5 万元 of budget typed as 455000 under 金额单位：万元 read as 45.5 亿元 of payments."""
    with pytest.raises(FileRejected) as caught:
        _extract(
            _budget(["JM-SZZF", 2022.0, "年初预算", "合计", 50.0, ""]),
            _payments(["JM-SZZF", 2022.0, "2022-03-01", 455000.0, "某科技有限公司", "记-1"]),
        )
    rej = caught.value.rejection
    assert rej.reason_code == "implausible_amount"
    assert (rej.sheet, rej.cell) == ("支付", "B1")
    assert "455000 万元 = 45.5 亿元" in rej.message_zh
    assert "455000 元 = 45.5 万元" in rej.message_zh
    assert "if the figures are in 元: 455000 元 = 45.5 万元" in rej.message_en
    assert "B1" in rej.message_zh and "B1" in rej.message_en


def test_a_project_above_the_ceiling_quarantines_the_file() -> None:
    with pytest.raises(FileRejected) as caught:
        _extract(_budget(["JM-SZZF", 2022.0, "年初预算", "合计", 31821930.0, ""]))
    rej = caught.value.rejection
    assert rej.reason_code == "implausible_amount"
    assert rej.cell == "E1"  # the header 金额（万元） gave the unit
    assert "3182.19 亿元" in rej.message_zh and "3182.19 万元" in rej.message_zh


def test_plausible_budgets_and_payments_load() -> None:
    out = _extract(
        _budget(["JM-SZZF", 2022.0, "年初预算", "合计", 35000.0, ""]),
        _payments(["JM-SZZF", 2022.0, "2022-03-01", 28.3, "某科技有限公司", "记-1"]),
    )
    assert out.rejections == []
    assert out.unit_cells == {"预算": "E1", "支付": "B1"}


# ------------------------------------------------------------------ messages


def test_an_unknown_unit_caption_names_the_cell_of_the_unit() -> None:
    with pytest.raises(FileRejected) as caught:
        _extract(_payments(["JM-SZZF", 2022.0, "2022-03-01", 28.3, "甲", "记-1"], unit="美元"))
    rej = caught.value.rejection
    assert (rej.reason_code, rej.cell) == ("unknown_unit", "B1")
    assert "B1" in rej.message_zh and "美元" in rej.message_zh
    assert "千元" in rej.message_zh and "亿元" in rej.message_zh  # the seed's units


def test_every_unit_of_the_seed_reads_exactly() -> None:
    """seeds/unit_factors.csv: 28.3 千元 is 28,300 yuan, 0.0283 亿元 is 2,830,000 yuan."""
    for unit, yuan in (("千元", "28300.00"), ("亿元", "2830000000.00"), ("元", "28.30")):
        out = _extract(_payments(["JM-SZZF", 2022.0, "2022-03-01", 28.3, "甲", "记-1"], unit=unit))
        assert out.rejections == [], unit
        [row] = out.tables["payments"]
        assert (row["amount_yuan"], row["original_unit"]) == (Decimal(yuan), unit)


def test_a_negative_sub_project_amount_rejects_its_row(tmp_path) -> None:
    """Seed 001's sub-project table with one 累计支出金额 typed negative."""
    from jixiao.ingest.layouts import subprojects
    from jixiao.ingest.values import compact
    from jixiao.ingest.workbook import read_workbook
    from jixiao.samples.seed001 import SubprojectTable, write_subproject_table

    table = SubprojectTable(cell_overrides={(5, "spent"): "-1,000.50"})
    path = write_subproject_table(tmp_path / "子项目.xlsx", [("子项目", table)])
    sheet = read_workbook(path).sheets[0]
    out = Extracted()
    subprojects.read_sheet(sheet, "子项目.xlsx", out, {"departments": {}, "names": {}})
    negatives = [r for r in out.rejections if r.reason_code == "negative_amount"]
    assert len(negatives) == 1
    (rej,) = negatives
    col = next(c for row in sheet.rows for c, v in enumerate(row) if compact(v) == "累计支出金额")
    assert rej.cell is not None and rej.cell.startswith("ABCDEFGHIJ"[col])
    assert "-1,000.50" in rej.message_zh and "-1,000.50" in rej.message_en
    assert all(p["amount_yuan"] >= 0 for p in out.tables["payments"])


@pytest.mark.parametrize("fast", [True, False])
def test_a_sheet_naming_another_department_than_the_files_own_register_is_rejected(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "FAST_PATH", fast)
    pay = Sheet(
        "支付",
        [
            ["金额单位：", "万元"],
            ["项目编码", "主管部门", "年度", "支付日期", "支付金额", "收款单位"],
            ["JM-SZZF", DG, 2022.0, "2022-03-01", 28.3, "某科技有限公司"],
            ["JM-SZZF", JM, 2022.0, "2022-03-02", 12.5, "某公司"],
        ],
    )
    out = _extract(_register(["JM-SZZF", "数字政府", JM, 2022.0, 2022.0]), pay)
    rej = _only(out, "department_clash")
    assert (rej.sheet, rej.row_number, rej.cell) == ("支付", 3, "B3")  # the 主管部门 cell
    assert JM in rej.message_zh and DG in rej.message_zh
    assert [p["row_number"] for p in out.tables["payments"]] == [4]
    assert {s["department_name"] for s in out.submissions} == {JM}


def test_a_budget_ten_thousand_times_the_year_before_quarantines_the_file() -> None:
    """2022's 45.5 万元 is right; 2023's 455000 (元 meant) reads as 45.5 亿元."""
    with pytest.raises(FileRejected) as caught:
        _extract(
            Sheet(
                "预算",
                [
                    ["金额单位：万元"],
                    [*BUDGET_HEADER[:4], "金额"],
                    ["JM-SZZF", 2022.0, "年初预算", "当年财政拨款", 45.5],
                    ["JM-SZZF", 2023.0, "年初预算", "当年财政拨款", 455000.0],
                ],
            )
        )
    rej = caught.value.rejection
    assert (rej.reason_code, rej.sheet, rej.cell) == ("implausible_amount", "预算", "A1")
    assert "2023 年度" in rej.message_zh and "2022 年度（45.5 万元）的 10000 倍" in rej.message_zh
    assert "455000 万元 = 45.5 亿元" in rej.message_zh
    assert "if the figures are in 元: 455000 元 = 45.5 万元" in rej.message_en


def test_budgets_growing_a_hundredfold_and_small_first_payments_load() -> None:
    out = _extract(
        _budget(
            ["JM-SZZF", 2022.0, "年初预算", "合计", 50.0, ""],
            ["JM-SZZF", 2023.0, "年初预算", "合计", 5000.0, ""],
        ),
        _payments(
            ["JM-SZZF", 2022.0, "2022-12-01", 0.5, "某公司", "记-1"],
            ["JM-SZZF", 2023.0, "2023-06-01", 4800.0, "某公司", "记-2"],
        ),
    )
    assert out.rejections == []
    assert len(out.tables["payments"]) == 2


def test_a_budget_ten_thousand_times_the_warehouses_previous_year_is_implausible() -> None:
    """With the earlier loads' budgets in the context (context["budgets"]), one year in a
    file is enough: 455000 万元 after the warehouse's 45.5 万元 for 2022."""
    sheet = _budget(["JM-SZZF", 2023.0, "年初预算", "合计", 455000.0, ""])
    context = {
        "departments": {},
        "names": {},
        "budgets": {"JM-SZZF": {2022: Decimal("455000.00")}},
    }
    with pytest.raises(FileRejected) as caught:
        _extract(sheet, context=context)
    rej = caught.value.rejection
    assert rej.reason_code == "implausible_amount"
    assert "2022 年度（45.5 万元）的 10000 倍" in rej.message_zh
    # without that history the same file loads (45.5 亿元 is below every ceiling)
    out = _extract(_budget(["JM-SZZF", 2023.0, "年初预算", "合计", 455000.0, ""]))
    assert len(out.tables["budget_lines"]) == 1
