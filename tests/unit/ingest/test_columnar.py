"""The column-wise ledger fast path gives exactly what the row reader gives (快速路径等价性).

Each case is read twice, with ``ledger.FAST_PATH`` on and off, and every output is compared:
rows (Decimal yuan, dates, codes, text), submissions, and rejections with their messages.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.ingest.layouts import extract, ledger
from jixiao.ingest.workbook import Sheet, Workbook

HEADER = [
    "项目编码",
    "年度",
    "支付日期",
    "支付金额（万元）",
    "资金来源",
    "收款单位",
    "凭证号",
    "摘要",
]

CODES = ["P1", "P2", " P1 ", "Ｐ３", 123, 7.0, "", None, "合计", "注：以上为示例", "   ", True]
YEARS = [2023, 2023.0, "2023", "2023年", "２０２３年度", "23", "", None, 1800, "abc", 2022.5]
DATES = [
    dt.date(2023, 5, 1),
    dt.datetime(2023, 6, 2, 10, 30),
    "2023-05-01",
    "2023/5/1",
    "2023年5月1日",
    "20230501",
    45000,
    45000.5,
    "45000",
    "2023-13-01",
    "昨天",
    "",
    None,
    0,
]
AMOUNTS = [
    28.3,
    0.01,
    0.000001,
    0.0000001,
    1330,
    -5.5,
    "1,330",
    "９８",
    "30000元",
    "12万元",
    "12千元",
    "12美元",
    " 2.8 ",
    "abc",
    "",
    None,
    1e20,
    1e-7,
    123456789.123,
    True,
    float("inf"),
]
FUNDS = ["当年财政拨款", "上年结转", "合计", "自筹", "", None, 5]
TEXTS = ["某科技有限公司", "  两个  空格 ", "Ａ公司", "", None, 3.5, dt.date(2023, 1, 1)]


def _read(rows: list[list[Any]], fast: bool) -> tuple[Any, ...]:
    sheet = Sheet(name="支付", rows=[list(r) for r in rows])
    old = ledger.FAST_PATH
    ledger.FAST_PATH = fast
    try:
        out = extract(Workbook(name="t.xlsx", sheets=[sheet]), {"departments": {"P1": "甲局"}})
    finally:
        ledger.FAST_PATH = old
    return out.tables, out.submissions, out.rejections, out.layouts


def _same(rows: list[list[Any]]) -> tuple[Any, ...]:
    fast, slow = _read(rows, True), _read(rows, False)
    assert fast == slow
    return fast


def test_clean_ledger_takes_the_fast_path_and_matches():
    rows = [HEADER] + [
        ["P1", 2023.0, "2023-01-05", 28.3, "当年财政拨款", "甲", f"V{i}", "运维"] for i in range(50)
    ]
    tables, subs, rejections, _ = _same(rows)
    pay = tables["payments"]
    assert len(pay) == 50 and rejections == []
    assert pay[0]["amount_yuan"] == Decimal("283000.00") and pay[0]["original_text"] == "28.3"
    assert pay[0]["fund_source"] == "current_appropriation"
    assert subs == [
        {
            "sheet_name": "支付",
            "layout": "ledger",
            "department_name": "甲局",
            "project_key": "P1",
            "project_name": None,
            "fiscal_year": 2023,
        }
    ]


def test_fast_path_is_used_for_clean_rows(monkeypatch: pytest.MonkeyPatch):
    """With the fast path on, clean rows never reach the row reader; messy ones do."""
    seen: list[int] = []
    original = ledger.read_row

    def spy(sheet, r, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(r)
        return original(sheet, r, *a, **k)

    monkeypatch.setattr(ledger, "read_row", spy)
    rows = [
        HEADER,
        ["P1", 2023, "2023-01-05", 1, "", "甲", "V1", ""],
        ["P1", "abc", "", 1, "", "", "", ""],
    ]
    tables, _subs, rejections, _ = _read(rows, True)
    assert seen == [2]  # only the bad row (0-based index 2) went to the row reader
    assert len(tables["payments"]) == 1
    assert [(r.row_number, r.cell, r.reason_code) for r in rejections] == [
        (3, "B3", "unparseable_value")
    ]


def test_messy_columns_match_exactly():
    rows: list[list[Any]] = [["金额单位：万元"], [], HEADER]
    for i in range(len(AMOUNTS) * 2):
        rows.append(
            [
                CODES[i % len(CODES)],
                YEARS[i % len(YEARS)],
                DATES[i % len(DATES)],
                AMOUNTS[i % len(AMOUNTS)],
                FUNDS[i % len(FUNDS)],
                TEXTS[i % len(TEXTS)],
                TEXTS[(i + 1) % len(TEXTS)],
            ]  # rows shorter than the header: the missing cell reads as ''
        )
    rows += [["P1", 2023, "2023-01-01", amount, "合计", "甲", "V", "摘要"] for amount in AMOUNTS]
    rows += [[], ["注：金额单位为万元"], ["合计", "", "", 100]]
    tables, _subs, rejections, _ = _same(rows)
    assert tables.get("payments") and rejections  # both outcomes are exercised
    codes = {r.reason_code for r in rejections}
    assert {"unparseable_value", "missing_value", "sub_fen_precision", "unknown_unit"} <= codes


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(CODES),
            st.sampled_from(YEARS),
            st.sampled_from(DATES),
            st.sampled_from(AMOUNTS) | st.floats(allow_nan=False, allow_infinity=False, width=64),
            st.sampled_from(FUNDS),
            st.sampled_from(TEXTS),
        ),
        max_size=25,
    ),
    st.sampled_from(["支付金额（万元）", "支付金额（元）", "amount_yuan"]),
)
def test_any_mix_of_messy_cells_matches(cells: list[tuple[Any, ...]], amount_header: str):
    header = [*HEADER[:3], amount_header, *HEADER[4:6]]
    _same([header] + [list(c) for c in cells])
