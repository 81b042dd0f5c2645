"""The format-neutral report model (报告内容模型) shared by the xlsx and HTML renderers.

A report is a list of sections; a section holds paragraphs, typed tables and charts. Both
renderers walk the same objects, so the workbook and the web page always show the same
figures. Cell values are the mart values themselves (Decimal yuan, fraction rates), never
pre-formatted strings: the renderers format them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

Kind = Literal["text", "money", "yuan", "wan", "rate", "score", "int"]
Unit = Literal["wan", "yuan"]

WAN = Decimal(10000)
UNKNOWN = "—"
"""How an unknown value (未填报/不可得) is shown: a dash, never 0.00 or 0.00%."""
UNIT_LABELS: dict[str, str] = {"wan": "万元", "yuan": "元"}
UNIT_DIVISORS: dict[str, Decimal] = {"wan": WAN, "yuan": Decimal(1)}


@dataclass(frozen=True)
class Column:
    """A typed column (列): header text, value kind, width in characters."""

    header: str
    kind: Kind = "text"
    width: int = 14


@dataclass
class Table:
    """A table (表格) with a stable ``key`` that tests and HTML ``data-table`` use."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    total: list[Any] | None = None
    note: str | None = None
    highlight: set[tuple[int, int]] = field(default_factory=set)
    """(row index, column index) of cells to highlight (e.g. reported ≠ recomputed)."""


@dataclass
class Chart:
    """A rendered chart (图表): SVG for HTML, PNG for xlsx."""

    key: str
    title: str
    svg: str
    png: bytes


@dataclass
class Section:
    """A report section (报告章节)."""

    key: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    level: int = 1
    """1 for a chapter (一、…), 2 for a sub-section (（二）…) printed under the chapter before."""


@dataclass
class Report:
    """One yearly evaluation report (年度绩效评价报告) for a department or a region."""

    kind: Literal["department", "region"]
    name: str
    year: int
    title: str
    subtitle: str
    sections: list[Section]
    file_stem: str
    unit: Unit = "wan"
    """Unit of every ``money`` column (金额单位): 万元 by default, 元 on request."""
    header_text: str = ""
    """Running header of every printed page (页眉): department or region and year."""

    @property
    def unit_label(self) -> str:
        return UNIT_LABELS[self.unit]


def as_decimal(value: Any) -> Decimal | None:
    """Decimal or None; mart values are already Decimal, ints are widened."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(str(value))


def ratio(numerator: Any, denominator: Any) -> Decimal | None:
    """numerator / denominator rounded to 6 places like the marts' DECIMAL(12,6) rates."""
    n, d = as_decimal(numerator), as_decimal(denominator)
    if n is None or d is None or d == 0:
        return None
    return (n / d).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def in_unit(yuan: Any, unit: Unit) -> Decimal | None:
    """An amount in yuan expressed in ``unit`` (exact Decimal; 万元 = 元 / 10000)."""
    d = as_decimal(yuan)
    return None if d is None else d / UNIT_DIVISORS[unit]


def fmt(value: Any, kind: Kind, unit: Unit = "wan") -> str:
    """Display text for a value of ``kind`` (显示格式): 1,234.56 / 98.84% / 98.00.

    An unknown number shows as ``—`` (never 0.00); ``money`` is yuan shown in ``unit`` with
    two decimals (9,150.00 万元).
    """
    if value is None or value == "":
        return "" if kind == "text" else UNKNOWN
    if kind == "text":
        return str(value)
    d = as_decimal(value)
    assert d is not None
    if kind == "money":
        shown = in_unit(d, unit)
        assert shown is not None
        return f"{shown.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    if kind == "yuan":
        return f"{d.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    if kind == "wan":
        text = f"{d:,.6f}".rstrip("0")
        whole, _, frac = text.partition(".")
        return f"{whole}.{frac.ljust(2, '0')}"
    if kind == "rate":
        return f"{(d * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"
    if kind == "score":
        return f"{d.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"
    if kind == "int":
        return f"{int(d):d}"
    raise ValueError(kind)
