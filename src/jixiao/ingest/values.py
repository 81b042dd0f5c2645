"""Value parsers for hand-filled cells (手工填报单元格的值解析).

Everything returns exact :class:`~decimal.Decimal` values (never floats for money or measures).
Text is first normalised with Unicode NFKC, which turns full-width digits and symbols
(９８, ％, ＞, （）, ，) into their ASCII forms; ``≥``/``≤`` are kept and recognised.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jixiao import rules
from jixiao.ingest.errors import CellError
from jixiao.ingest.plausibility import bounds

FEN = Decimal("0.01")
WAN = Decimal(10000)
#: the largest amount one cell may hold, in yuan (plausibility.yaml amounts.max_cell_yuan)
MAX_YUAN = bounds().max_cell_yuan
#: money unit -> yuan per unit (金额单位换算), from seeds/unit_factors.csv: 元, 千元, 万元, 亿元
UNIT_FACTORS: dict[str, Decimal] = {u: Decimal(f) for u, f in rules.unit_factors().items()}


def _unit_aliases() -> dict[str, str]:
    """How people write each unit of the seed: the unit, its English name without spaces,
    the unit without 元 (万, 千, 亿) and a few customary spellings (单位写法)."""
    aliases = {"rmb": "元", "wanyuan": "万元", "10kyuan": "万元", "kyuan": "千元"}
    for row in rules.seed("unit_factors"):
        unit = row["unit"]
        aliases[unit] = unit
        aliases[row["unit_en"].replace(" ", "").lower()] = unit
        if len(unit) > 1 and unit.endswith("元"):
            aliases[unit[:-1]] = unit
    return aliases


_UNIT_ALIASES = _unit_aliases()
#: the units an error message lists (元、千元、万元、亿元)
_UNITS_ZH = "、".join(UNIT_FACTORS)
_EXCEL_EPOCH = dt.date(1899, 12, 30)

_NUM = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+"
_DIRECTIONS: list[tuple[str, str]] = [
    (">=", ">="),
    ("≥", ">="),
    ("⩾", ">="),
    ("不低于", ">="),
    ("不少于", ">="),
    ("大于等于", ">="),
    ("大于或等于", ">="),
    ("至少", ">="),
    ("达到", ">="),
    (">", ">="),
    ("大于", ">="),
    ("高于", ">="),
    ("<=", "<="),
    ("≤", "<="),
    ("⩽", "<="),
    ("不高于", "<="),
    ("不超过", "<="),
    ("不多于", "<="),
    ("小于等于", "<="),
    ("小于或等于", "<="),
    ("<", "<="),
    ("小于", "<="),
    ("低于", "<="),
    ("=", "="),
    ("等于", "="),
]
_SUFFIX_DIRECTIONS = [
    ("及以上", ">="),
    ("以上", ">="),
    ("及以下", "<="),
    ("以下", "<="),
    ("以内", "<="),
]
_YES = {"是", "yes", "y", "true", "有", "√", "✓", "已完成", "达成"}
_NO = {"否", "no", "n", "false", "无", "×", "✗", "未完成", "未达成"}
_MEASURE_RE = re.compile(rf"^(?P<num>{_NUM})(?P<unit>[^\d]{{0,12}})$")


@dataclass(frozen=True)
class Measure:
    """A parsed target or actual (指标值): kind, direction, value, unit and the original text."""

    kind: str  # quantitative | yes_no | qualitative
    direction: str | None  # >= | <= | = (None for qualitative)
    value: Decimal | None
    unit: str | None
    text: str


def normalize_text(value: Any) -> str:
    """Cell value as clean text: NFKC (full-width -> ASCII), trimmed, no inner line breaks."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return format_decimal(to_decimal_exact(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = str(value)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if _WS_RUN.search(text):
        text = _WS.sub(" ", text)
    return text.strip()


_WS = re.compile(r"\s+")
_WS_RUN = re.compile(r"\s\s|[^\S ]")


def compact(value: Any) -> str:
    """Text with all whitespace removed, for label matching (标签匹配用)."""
    text = normalize_text(value)
    return _WS.sub("", text) if " " in text else text


PLACEHOLDERS = frozenset({"-", "--", "—", "——", "–", "/", "\\", "－", "／", "―"})
"""Dashes and slashes that forms use for "not applicable" (不适用占位符): read as blank."""


def is_blank(value: Any) -> bool:
    """Empty, whitespace, or a not-applicable placeholder such as "—" or "/" (空白或占位符)."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text == "" or text in PLACEHOLDERS


def to_decimal_exact(value: float | int) -> Decimal:
    """A cell's number as the Decimal it displays (shortest repr of the float, not its binary)."""
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def format_decimal(d: Decimal) -> str:
    """Plain text of a Decimal without exponent or trailing zeros."""
    whole = d.to_integral_value()
    if d == whole:  # also infinities and huge numbers, which quantize() cannot take
        return format(whole, "f")
    return format(d.normalize(), "f")


def parse_decimal(value: Any) -> Decimal | None:
    """A plain number: 2.8, "1,330", "９８", " 12 " -> Decimal; blank -> None; else CellError."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise _bad_number(value)
    if isinstance(value, (int, float)):
        return finite(to_decimal_exact(value), value)
    text = normalize_text(value).replace(" ", "")
    if re.fullmatch(_NUM, text):
        return Decimal(text.replace(",", ""))
    if _EXP_RE.fullmatch(text) or text.lower().lstrip("+-") in _NON_FINITE:
        return finite(Decimal(text), value)
    raise _bad_number(value)


#: "1e14", "2.5E+3": a number in scientific notation (what Excel shows for a huge figure)
_EXP_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d{1,4}")
_NON_FINITE = frozenset({"nan", "inf", "infinity"})


def finite(d: Decimal, value: Any = None) -> Decimal:
    """``d`` itself when it is a finite number; NaN and ±Infinity raise value_out_of_range."""
    if d.is_finite():
        return d
    seen = value if value is not None else d
    raise CellError(
        "value_out_of_range",
        "有限的数字 / a finite number",
        f"「{seen}」不是有限的数字（NaN 或无穷大），请填写实际数值",
        f"'{seen}' is not a finite number (NaN or infinity); type the actual figure",
    )


def in_range(d: Decimal, low: Decimal, high: Decimal, what_zh: str, what_en: str) -> Decimal:
    """``d`` when ``low <= d <= high``, else CellError value_out_of_range naming the bounds."""
    if low <= d <= high:
        return d
    shown = format_decimal(d)
    lo, hi = format_decimal(low), format_decimal(high)
    raise CellError(
        "value_out_of_range",
        f"{what_zh}在 {lo} 至 {hi} 之间 / a {what_en} between {lo} and {hi}",
        f"{what_zh}「{shown}」超出合理范围 {lo}～{hi}，请核对数值（是否多打了位数或填错了列）",
        f"{what_en} '{shown}' is outside the plausible range {lo} to {hi}; check the figure "
        "(extra digits, or the wrong column?)",
    )


def parse_score(value: Any) -> Decimal | None:
    """A score or points value (得分/分值): a number within plausibility.yaml ``scores``."""
    d = parse_decimal(value)
    if d is None:
        return None
    b = bounds()
    return in_range(d, b.score_min, b.score_max, "得分/分值", "score")


def parse_weight(value: Any) -> Decimal | None:
    """A weight or score in points: like :func:`parse_decimal`, and "20%" (a 权重(%) cell
    typed with its sign, or shown so by a percent format) is 20 points (权重/分值)."""
    d: Decimal | None = None
    if isinstance(value, str):
        text = normalize_text(value).replace(" ", "")
        if text.endswith("%") and re.fullmatch(_NUM, text[:-1]):
            d = Decimal(text[:-1].replace(",", ""))
    if d is None:
        d = parse_decimal(value)
    if d is None:
        return None
    b = bounds()
    return in_range(d, b.score_min, b.score_max, "权重/分值", "weight")


def _bad_number(value: Any) -> CellError:
    return CellError(
        "unparseable_value",
        "数字 / a number",
        f"「{value}」不是数字",
        f"'{value}' is not a number",
    )


def parse_rate(value: Any) -> Decimal | None:
    """A rate as a fraction: "98.84%" -> 0.9884, 0.9884 -> 0.9884, "98.84" (>1) -> 0.9884."""
    if is_blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        d = finite(to_decimal_exact(value), value)
        return _rate_in_range(d / 100 if d > 1 else d)
    text = normalize_text(value).replace(" ", "")
    pct = text.endswith("%")
    num = parse_decimal(text.rstrip("%"))
    if num is None:
        raise _bad_number(value)
    return _rate_in_range(num / 100 if pct or num > 1 else num)


def _rate_in_range(rate: Decimal) -> Decimal:
    b = bounds()
    return in_range(rate, b.rate_min, b.rate_max, "比率", "rate")


def parse_measure(value: Any) -> Measure | None:
    """A target/actual such as "≥95%", "≤4小时", "是", "逐步提升" (指标值解析); blank -> None."""
    if is_blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = finite(to_decimal_exact(value), value)
        return Measure("quantitative", "=", number, None, normalize_text(value))
    original = str(value).strip() if not isinstance(value, bool) else normalize_text(value)
    text = normalize_text(value).replace(" ", "")
    if text.lower() in _YES or text.lower() in _NO:
        return Measure("yes_no", "=", Decimal(1 if text.lower() in _YES else 0), None, original)
    direction = "="
    rest = text
    for prefix, d in _DIRECTIONS:
        if rest.startswith(prefix):
            direction, rest = d, rest[len(prefix) :]
            break
    for suffix, d in _SUFFIX_DIRECTIONS:
        if rest.endswith(suffix) and direction == "=":
            direction, rest = d, rest[: -len(suffix)]
            break
    m = _MEASURE_RE.match(rest)
    if not m:
        return Measure("qualitative", None, None, None, original)
    unit = m.group("unit").strip() or None
    return Measure(
        "quantitative", direction, Decimal(m.group("num").replace(",", "")), unit, original
    )


def parse_unit(text: Any) -> str:
    """A money unit ("万元", "元", "（千元）", "亿", "yuan") -> one of :data:`UNIT_FACTORS`,
    else CellError."""
    t = compact(text).strip("()（）:：").lower()
    t = re.sub(r"^(金额单位|单位|unit)[:：]?", "", t)
    if t in _UNIT_ALIASES:
        return _UNIT_ALIASES[t]
    raise CellError(
        "unknown_unit",
        f"{_UNITS_ZH} / {', '.join(UNIT_FACTORS)}",
        f"无法识别的金额单位「{text}」，应为 {_UNITS_ZH} 之一",
        f"unknown money unit '{text}'; expected one of 元 (yuan), 千元 (1,000 yuan), "
        "万元 (10,000 yuan), 亿元 (100 million yuan)",
    )


def unit_from_label(label: Any) -> str | None:
    """The unit in a header's parentheses: "金额（万元）" -> '万元'; no parentheses -> None.

    A parenthesised unit that is not a money unit raises ``CellError('unknown_unit')``.
    """
    t = compact(label)
    m = re.search(r"\(([^()]*)\)\s*$", t)
    if not m:
        if t.lower().endswith("_yuan") or t.lower().endswith("yuan"):
            return "元"
        return None
    inner = m.group(1)
    if inner in ("%", "个", "件", "次"):
        return None
    return parse_unit(inner)


#: an amount cell that names its own unit: "35000万元", "318,219.30 元", "1.2亿元"
CELL_UNIT_RE = re.compile(
    rf"^(?:{_NUM})\s*(?:"
    + "|".join(sorted((a for a in _UNIT_ALIASES if not a.isascii()), key=len, reverse=True))
    + ")$"
)


def parse_amount(value: Any, unit: str | None) -> tuple[Decimal, str] | None:
    """An amount in ``unit`` (or the unit written in the cell) -> (exact yuan, unit used).

    "1,330" 万元 -> 13300000.00; "30000元" -> 30000.00; blank -> None. More precision than one
    fen (0.01 元) after conversion is rejected, never rounded. ``unit`` None means the column
    has no unit of its own: a cell that does not name one is rejected (``missing_unit``).
    """
    if is_blank(value):
        return None
    used = unit
    if isinstance(value, str):
        text = normalize_text(value).replace(" ", "")
        m = re.fullmatch(rf"({_EXP_RE.pattern}|{_NUM})(.*)", text)
        if m is None and text.lower().lstrip("+-") in _NON_FINITE:
            finite(Decimal(text), value)
        if not m:
            raise CellError(
                "unparseable_value",
                "金额数字 / an amount",
                f"「{value}」不是金额",
                f"'{value}' is not an amount",
            )
        number = Decimal(m.group(1).replace(",", ""))
        if m.group(2) and re.search(r"[\d.,]", m.group(2)):
            # "12..5", "1.2.3": digits after the number are a mistyped number, not a unit
            raise CellError(
                "unparseable_value",
                "金额数字 / an amount",
                f"「{value}」不是金额",
                f"'{value}' is not an amount",
            )
        if m.group(2):
            used = parse_unit(m.group(2))
    else:
        number = parse_decimal(value)  # type: ignore[assignment]
    if used is None:
        raise CellError(
            "missing_unit",
            "带单位的金额，如 35000万元 / an amount with its unit, e.g. 35000万元",
            f"金额「{value}」没有单位（本列其他单元格都写了万元/元，表头和表上方都没有单位）",
            f"amount '{value}' has no unit (the column's other cells name theirs; neither the "
            "header nor a caption gives one)",
        )
    if used not in UNIT_FACTORS:
        used = parse_unit(used)
    yuan = finite(number, value) * UNIT_FACTORS[used]
    if abs(yuan) > MAX_YUAN:
        raise amount_out_of_range(value, used, yuan)
    if yuan != yuan.quantize(FEN):
        raise CellError(
            "sub_fen_precision",
            "精确到分（0.01 元）/ at most 0.01 yuan precision",
            f"金额「{value}」{used} 精确到分以下",
            f"amount '{value}' {used} is finer than one fen",
        )
    return yuan.quantize(FEN), used


def amount_out_of_range(value: Any, unit: str, yuan: Decimal) -> CellError:
    """An amount above plausibility.yaml ``max_cell_yuan`` (10^12 元 = 1 万亿元)."""
    shown = normalize_text(value)
    limit = format_decimal(MAX_YUAN)
    return CellError(
        "value_out_of_range",
        f"不超过 {limit} 元（1 万亿元）的金额 / an amount of at most {limit} yuan",
        f"金额「{shown}」按{unit}计为 {format_decimal(yuan)} 元，超过 1 万亿元，"
        "请核对数值和金额单位",
        f"amount '{shown}' in {unit} is {format_decimal(yuan)} yuan, more than 10^12 yuan; check "
        "the figure and the money unit",
    )


def parse_date(value: Any) -> dt.date | None:
    """A date from an Excel date, a serial number or text (2023-05-01, 2023/5/1, 2023年5月1日).

    Dates outside plausibility.yaml ``dates`` (2000-01-01..2100-12-31) and Excel serials
    before 1900-03-01 (serial 60 is Excel's non-existent 1900-02-29) raise date_out_of_range.
    """
    found = _parse_date(value)
    if found is None:
        return None
    b = bounds()
    if not b.date_min <= found <= b.date_max:
        raise _date_out_of_range(value, found.isoformat())
    return found


def _date_out_of_range(value: Any, shown: str, shown_en: str | None = None) -> CellError:
    b = bounds()
    lo, hi = b.date_min.isoformat(), b.date_max.isoformat()
    return CellError(
        "date_out_of_range",
        f"{lo} 至 {hi} 之间的日期 / a date between {lo} and {hi}",
        f"日期「{normalize_text(value)}」（读作 {shown}）不在 {lo} 至 {hi} 之间，请填写实际日期"
        "（如 2023-05-01）",
        f"date '{normalize_text(value)}' (read as {shown_en or shown}) is not between {lo} and "
        f"{hi}; type the actual date (e.g. 2023-05-01)",
    )


def _parse_date(value: Any) -> dt.date | None:
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise _date_out_of_range(value, "非有限数", "not a finite number")
        if 1 <= value < 61:
            # Excel's serials 1..60 are 1900-01-01..1900-02-29 (a day that never was)
            n = normalize_text(value)
            raise _date_out_of_range(
                value, f"Excel 1900 年日期序号 {n}", f"Excel 1900-system serial {n}"
            )
        return _from_serial(value)
    text = normalize_text(value).replace(" ", "")
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not m:
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _from_serial(float(text))
    raise CellError(
        "unparseable_value",
        "日期，如 2023-05-01 / a date such as 2023-05-01",
        f"「{value}」不是日期",
        f"'{value}' is not a date",
    )


def _from_serial(serial: float) -> dt.date:
    if not 1 <= serial < 2958466:
        raise CellError(
            "unparseable_value",
            "Excel 日期序号 / an Excel date serial",
            f"「{serial}」不是有效的 Excel 日期",
            f"'{serial}' is not a valid Excel date",
        )
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_year(value: Any) -> int | None:
    """A fiscal year: 2023, "2023年", "2023年度", "（2023年度）" -> 2023; blank -> None."""
    if is_blank(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year
    text = normalize_text(value).replace(" ", "")
    m = re.fullmatch(r"[(]?(\d{4})(?:\.0+)?(?:年度?|年)?[)]?", text)
    if m:
        return check_year(int(m.group(1)), value)
    raise CellError(
        "unparseable_value",
        "年度，如 2023 / a year such as 2023",
        f"「{value}」不是年度",
        f"'{value}' is not a year",
    )


def check_year(year: int, value: Any = None) -> int:
    """``year`` when within plausibility.yaml ``fiscal_years`` (2000..2100), else
    CellError date_out_of_range."""
    b = bounds()
    if b.year_min <= year <= b.year_max:
        return year
    seen = normalize_text(value) if value is not None else str(year)
    raise CellError(
        "date_out_of_range",
        f"{b.year_min} 至 {b.year_max} 之间的年度 / a fiscal year between {b.year_min} and "
        f"{b.year_max}",
        f"年度「{seen}」不在 {b.year_min} 至 {b.year_max} 之间，请填写实际的预算年度（如 2023）",
        f"fiscal year '{seen}' is not between {b.year_min} and {b.year_max}; type the actual "
        "fiscal year (e.g. 2023)",
    )


def parse_period(value: Any) -> tuple[int, int] | None:
    """An evaluation period: "2023" -> (2023, 2023); "2019-2021" / "2019—2021年" -> (2019, 2021)."""
    if is_blank(value):
        return None
    text = normalize_text(value).replace(" ", "")
    m = re.fullmatch(r"(\d{4})年?(?:度)?[-~—–至到](\d{4})年?(?:度)?", text)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if a <= b:
            return check_year(a, value), check_year(b, value)
    y = parse_year(value)
    return (y, y) if y is not None else None


def parse_int(value: Any) -> int | None:
    """A whole count ("96", 96.0, "９６") -> int; fractions are rejected."""
    d = parse_decimal(value)
    if d is None:
        return None
    if d != d.to_integral_value():
        raise CellError(
            "unparseable_value",
            "整数 / a whole number",
            f"「{value}」不是整数",
            f"'{value}' is not a whole number",
        )
    return int(d)
