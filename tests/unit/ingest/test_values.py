"""Value and unit parsers (值与单位解析), with hypothesis properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jixiao.ingest.errors import CellError
from jixiao.ingest.values import (
    parse_amount,
    parse_date,
    parse_decimal,
    parse_measure,
    parse_period,
    parse_rate,
    parse_unit,
    parse_year,
    unit_from_label,
)

FULL = str.maketrans("0123456789.,%>=<", "０１２３４５６７８９．，％＞＝＜")


@pytest.mark.parametrize(
    ("text", "kind", "direction", "value", "unit"),
    [
        ("≥95%", "quantitative", ">=", Decimal(95), "%"),
        ("≤4小时", "quantitative", "<=", Decimal(4), "小时"),
        ("100%", "quantitative", "=", Decimal(100), "%"),
        ("2.8", "quantitative", "=", Decimal("2.8"), None),
        ("1,330", "quantitative", "=", Decimal(1330), None),
        ("是", "yes_no", "=", Decimal(1), None),
        ("否", "yes_no", "=", Decimal(0), None),
        ("逐步提升", "qualitative", None, None, None),
        ("９８", "quantitative", "=", Decimal(98), None),
        ("＞＝９０％", "quantitative", ">=", Decimal(90), "%"),
        ("不低于85%", "quantitative", ">=", Decimal(85), "%"),
        ("4小时以内", "quantitative", "<=", Decimal(4), "小时"),
        ("1.5万人次以上", "quantitative", ">=", Decimal("1.5"), "万人次"),
        (96.54, "quantitative", "=", Decimal("96.54"), None),
        ("完成率达到95%以上并持续提升", "qualitative", None, None, None),
    ],
)
def test_parse_measure_examples(text, kind, direction, value, unit):
    m = parse_measure(text)
    assert m is not None
    assert (m.kind, m.direction, m.value, m.unit) == (kind, direction, value, unit)


def test_parse_measure_keeps_original_text_and_blank_is_none():
    assert parse_measure("≥９５％").text == "≥９５％"
    assert parse_measure("  ") is None and parse_measure(None) is None


@given(
    st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False),
    st.sampled_from([("≥", ">="), ("≤", "<="), ("", "="), (">=", ">="), ("不超过", "<=")]),
    st.sampled_from(["%", "小时", "个", "万路", ""]),
    st.booleans(),
)
def test_measure_roundtrip(value, direction, unit, fullwidth):
    text = f"{direction[0]}{value}{unit}"
    if fullwidth:
        text = text.translate(FULL)
    m = parse_measure(text)
    assert m.kind == "quantitative"
    assert (m.direction, m.value, m.unit or "") == (direction[1], value, unit)
    assert m.text == text


@given(st.integers(min_value=0, max_value=10**13), st.booleans(), st.booleans())
def test_amount_wan_yuan_exact(fen, thousands, fullwidth):
    """Any amount written in 万元 with at most 6 decimals converts to exact yuan."""
    wan = Decimal(fen) / Decimal(10**6)
    text = f"{wan:,f}" if thousands else f"{wan:f}"
    if fullwidth:
        text = text.translate(FULL)
    yuan, unit = parse_amount(text, "万元")
    assert unit == "万元"
    assert yuan == (wan * 10000).quantize(Decimal("0.01"))
    assert yuan * 100 == Decimal(fen)


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=9))
def test_sub_fen_is_rejected_not_rounded(whole, digit):
    with pytest.raises(CellError) as err:
        parse_amount(f"{whole}.00{digit}", "元")
    assert err.value.reason_code == "sub_fen_precision"
    with pytest.raises(CellError):
        parse_amount(f"{whole}.000000{digit}", "万元")


def test_amount_unit_in_cell_and_floats():
    assert parse_amount("30000元", "万元") == (Decimal("30000.00"), "元")
    assert parse_amount("3万元", "元") == (Decimal("30000.00"), "万元")
    assert parse_amount(50418.98, "万元") == (Decimal("504189800.00"), "万元")
    assert parse_amount(0.1, "元") == (Decimal("0.10"), "元")  # not 0.1000000000000000055
    assert parse_amount("", "元") is None
    with pytest.raises(CellError) as err:
        parse_amount("100美元", "元")
    assert err.value.reason_code == "unknown_unit"
    with pytest.raises(CellError) as err:
        parse_amount("约100", "元")
    assert err.value.reason_code == "unparseable_value"


def test_units_from_labels_and_captions():
    assert unit_from_label("支付金额（万元）") == "万元"
    assert unit_from_label("金额(元)") == "元"
    assert unit_from_label("amount_yuan") == "元"
    assert unit_from_label("实际支出") is None
    assert parse_unit("金额单位：万元") == "万元"
    assert unit_from_label("金额（千元）") == "千元"
    assert unit_from_label("预算（亿元）") == "亿元"
    assert parse_unit("thousand yuan") == "千元"
    assert parse_amount("1.25亿元", None) == (Decimal("125000000.00"), "亿元")
    assert parse_amount("12千元", "元") == (Decimal("12000.00"), "千元")
    with pytest.raises(CellError):
        unit_from_label("金额（美元）")


def test_dates_years_periods_rates_numbers():
    assert parse_date(44652) == dt.date(2022, 4, 1)
    assert parse_date("2023年5月1日") == dt.date(2023, 5, 1)
    assert parse_date("2023/5/1") == parse_date("2023.05.01") == parse_date("20230501")
    assert parse_date(dt.datetime(2023, 5, 1, 8)) == dt.date(2023, 5, 1)
    with pytest.raises(CellError):
        parse_date("2023-13-45")
    assert parse_year("（2023年度）") == 2023 and parse_year(2023.0) == 2023
    assert parse_year("２０２２") == 2022
    with pytest.raises(CellError):
        parse_year("明年")
    assert parse_period("2019-2021") == (2019, 2021) and parse_period("2023") == (2023, 2023)
    assert parse_rate("98.84%") == Decimal("0.9884") and parse_rate(0.9761) == Decimal("0.9761")
    assert parse_decimal("1,330") == Decimal(1330) and parse_decimal("９８") == Decimal(98)
    with pytest.raises(CellError):
        parse_decimal("十分")


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_date_text_and_serial_roundtrip(d):
    serial = (d - dt.date(1899, 12, 30)).days
    assert parse_date(serial) == d
    assert parse_date(f"{d.year}年{d.month}月{d.day}日") == d
    assert parse_date(d.isoformat()) == d


@pytest.mark.parametrize("placeholder", ["—", "-", "/", "／", "－", "——", " — "])
def test_not_applicable_placeholders_read_as_blank(placeholder: str) -> None:
    """Forms write "—" or "/" in cells that do not apply (e.g. 分值 on 其中 rows)."""
    assert parse_decimal(placeholder) is None
    assert parse_rate(placeholder) is None


def test_a_lone_minus_sign_is_not_a_number_but_a_negative_number_is() -> None:
    assert parse_decimal("-12.5") == Decimal("-12.5")
