"""Parse-time guards (解析时的合理性校验): finite numbers, plausible ranges, dates and years.

Issue 11: a NaN or 1e14 score crashed the load (ArrowInvalid), 1899 / 2999 / Excel serial 60
loaded into impossible fiscal years. Each is now a CellError with its own reason code, which
the readers turn into a rejected row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jixiao.ingest.errors import CellError
from jixiao.ingest.plausibility import bounds, from_mapping
from jixiao.ingest.values import (
    MAX_YUAN,
    parse_amount,
    parse_date,
    parse_decimal,
    parse_measure,
    parse_period,
    parse_rate,
    parse_score,
    parse_weight,
    parse_year,
)


def _code(fn, *args) -> CellError:
    with pytest.raises(CellError) as caught:
        fn(*args)
    return caught.value


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "inf"])
def test_non_finite_numbers_are_value_out_of_range(value) -> None:
    for fn in (parse_decimal, parse_score, parse_weight, parse_rate):
        err = _code(fn, value)
        assert err.reason_code == "value_out_of_range", fn
        assert "有限" in err.message_zh and "finite" in err.message_en
    assert _code(parse_amount, value, "万元").reason_code == "value_out_of_range"
    assert _code(parse_measure, float("nan")).reason_code == "value_out_of_range"


def test_a_nan_score_never_becomes_decimal_nan() -> None:
    """calamine hands a #NUM!-free NaN over as float('nan'); Decimal(repr(nan)) is NaN."""
    with pytest.raises(CellError):
        parse_score(float("nan"))
    assert parse_score(77.2) == Decimal("77.2")


@pytest.mark.parametrize("value", [1e14, "1e14", 1000.5, -1, "1,001"])
def test_scores_beyond_0_to_1000_are_out_of_range(value) -> None:
    err = _code(parse_score, value)
    assert err.reason_code == "value_out_of_range"
    assert "0～1000" in err.message_zh and "0 to 1000" in err.message_en


def test_scores_and_weights_within_range_parse() -> None:
    assert parse_score("98") == Decimal(98)
    assert parse_score(0) == Decimal(0) and parse_score(1000) == Decimal(1000)
    assert parse_weight("20%") == Decimal(20)
    assert _code(parse_weight, "2000%").reason_code == "value_out_of_range"


def test_rates_beyond_the_sane_bound_are_out_of_range() -> None:
    assert parse_rate("97.61%") == Decimal("0.9761")
    assert parse_rate("120%") == Decimal("1.2")
    assert _code(parse_rate, "1e14%").reason_code == "value_out_of_range"
    assert _code(parse_rate, "-5%").reason_code == "value_out_of_range"


def test_amounts_up_to_one_trillion_yuan_load_and_beyond_are_out_of_range() -> None:
    assert Decimal(10) ** 12 == MAX_YUAN
    assert parse_amount(10**8, "万元") == (Decimal("1000000000000.00"), "万元")
    err = _code(parse_amount, 1e14, "元")
    assert err.reason_code == "value_out_of_range"
    assert "1 万亿元" in err.message_zh and "10^12" in err.message_en
    assert _code(parse_amount, "1e14", "万元").reason_code == "value_out_of_range"
    assert _code(parse_amount, 100000001, "万元").reason_code == "value_out_of_range"


def test_negative_amounts_keep_their_sign() -> None:
    """The parser keeps the sign; the readers decide (adjustment line or negative_amount)."""
    assert parse_amount("-500", "万元") == (Decimal("-5000000.00"), "万元")
    assert parse_amount(-28.3, "万元") == (Decimal("-283000.00"), "万元")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (dt.datetime(1899, 12, 31), "1899-12-31"),
        ("1899-12-31", "1899-12-31"),
        ("2999-01-01", "2999-01-01"),
        (dt.date(2999, 5, 1), "2999-05-01"),
        (60, "Excel 1900 年日期序号 60"),  # 1900-02-29, a day that never was
        (1, "Excel 1900 年日期序号 1"),
        (36161, "1999-01-01"),
    ],
)
def test_dates_out_of_the_configured_range(value, shown) -> None:
    err = _code(parse_date, value)
    assert err.reason_code == "date_out_of_range"
    assert shown in err.message_zh
    assert "2000-01-01" in err.expected and "2100-12-31" in err.expected
    assert "serial" not in err.message_zh  # no English inside the Chinese message


def test_dates_in_range_still_parse() -> None:
    assert parse_date(44652) == dt.date(2022, 4, 1)
    assert parse_date("2000-01-01") == dt.date(2000, 1, 1)
    assert parse_date(dt.datetime(2100, 12, 31)) == dt.date(2100, 12, 31)


@pytest.mark.parametrize("value", [1899, "1899", "2999年", "（2999年度）", 1990.0])
def test_fiscal_years_out_of_range(value) -> None:
    err = _code(parse_year, value)
    assert err.reason_code == "date_out_of_range"
    assert "2000" in err.message_zh and "2100" in err.message_zh


def test_periods_out_of_range_and_in_range() -> None:
    assert _code(parse_period, "1899-2021").reason_code == "date_out_of_range"
    assert _code(parse_period, "2019-2999").reason_code == "date_out_of_range"
    assert parse_period("2019-2021") == (2019, 2021)
    assert parse_year(2100) == 2100 and parse_year("2000年度") == 2000


def test_bounds_come_from_the_yaml_file() -> None:
    b = bounds()
    assert (b.year_min, b.year_max) == (2000, 2100)
    assert (b.date_min, b.date_max) == (dt.date(2000, 1, 1), dt.date(2100, 12, 31))
    assert (b.score_min, b.score_max) == (Decimal(0), Decimal(1000))
    assert b.max_project_yuan == Decimal(10) ** 11
    other = from_mapping(
        {
            "dates": {"min": "2010-01-01", "max": "2030-12-31"},
            "fiscal_years": {"min": 2010, "max": 2030},
            "scores": {"min": 0, "max": 100},
            "rates": {"min": 0, "max": 2},
            "amounts": {
                "max_cell_yuan": 1,
                "max_project_yuan": 2,
                "max_file_total_yuan": 3,
                "unit_ratio": 4,
            },
        }
    )
    assert other.date_min == dt.date(2010, 1, 1) and other.unit_ratio == Decimal(4)
