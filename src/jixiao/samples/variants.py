"""Layout variants of the five canonical submissions (同一事实、不同版式).

Every department lays out the same facts differently. This module renders each of the five
canonical sample submissions (:mod:`jixiao.samples.demo`, :mod:`jixiao.samples.seed002`) in
many layouts built from small, composable, named transformations, so that a test can prove
that the figures read from a workbook do not depend on its layout (metamorphic testing).

A :class:`Doc` holds a deep copy of the canonical content (the writers' dataclasses:
:class:`~jixiao.samples.ledger.Ledger`, :class:`~jixiao.samples.forms.SelfEvalProject`,
:class:`~jixiao.samples.forms.ScoringTable`) plus a :class:`Style` (how to lay it out). A
:class:`Transformation` changes one aspect of either: a unit (amounts converted exactly with
Decimal), a label synonym, a cell rendering (full-width digits, text with thousands
separators, percent formats), the column order, merged or repeated group cells, titles, blank
and note rows, extra sheets, or how the tables are split over sheets and workbooks. None adds,
drops or changes a fact. :func:`render` writes the workbook(s) with this module's own
parametrised writers; with the default :class:`Style` they lay out a sheet exactly like the
canonical writers in :mod:`jixiao.samples.forms` and :mod:`jixiao.samples.ledger`.

Usage::

    doc = make_doc("003", ["title_short", "units_yuan", "groups_repeated"])
    paths = render(doc, dest_dir)      # ingest ``paths`` in this order

:data:`NAMED_VARIANTS` is the fixed list the tests run; hypothesis combines
:data:`TRANSFORMATIONS` freely (at most one per :attr:`Transformation.group`).
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from jixiao.samples._xlsx import (
    BOLD,
    BORDER,
    CENTER,
    HEADER_FILL,
    TITLE_FONT,
    fullwidth,
    header_row,
    new_workbook,
    save_deterministic,
    set_widths,
)
from jixiao.samples.forms import (
    FUNDING_COLUMNS,
    INDICATOR_COLUMNS,
    SCORING_TAIL,
    SCORING_WIDTHS,
    FundingRow,
    ScoringTable,
    SelfEvalProject,
)
from jixiao.samples.ledger import COLUMNS, DEFAULT_SHEET_NAMES, INSTRUCTIONS, Ledger, LedgerSheet
from jixiao.samples.money import WAN

Kind = Literal["ledger", "selfeval", "scoring"]
LEDGER: frozenset[Kind] = frozenset({"ledger"})
SELFEVAL: frozenset[Kind] = frozenset({"selfeval"})
SCORING: frozenset[Kind] = frozenset({"scoring"})
FORMS: frozenset[Kind] = SELFEVAL | SCORING
ALL: frozenset[Kind] = LEDGER | FORMS

AMOUNT_FMT = "#,##0.00"
PERCENT_FMT = "0.00%"
NOTE_ALIGN = Alignment(horizontal="left", vertical="top", wrap_text=True)


@dataclass(frozen=True)
class Formatted:
    """A cell value with its own number format (e.g. 0.8148 shown as ``81.48%``)."""

    value: Decimal | int
    fmt: str


Cell = str | Decimal | int | date | Formatted | None


# =========================================================================== canonical content
@dataclass(frozen=True)
class Canonical:
    """One canonical submission: seed, layout kind, builder and file name."""

    seed: str
    kind: Kind
    file_stem: str
    build: Callable[[], Any]


def _canonicals() -> dict[str, Canonical]:
    from jixiao.samples.demo import dongguan_ledger, jiangmen_ledger, xinfeng_2023, yichun_2022
    from jixiao.samples.seed002 import jiangmen_2023_scoring_table

    return {
        "000": Canonical(
            "000", "ledger", "江门市_数字政府专项资金_2019-2022_台账", jiangmen_ledger
        ),
        "001": Canonical(
            "001", "ledger", "东莞市_数字政府建设项目_2019-2021_台账", dongguan_ledger
        ),
        "002": Canonical("002", "scoring", "江门市_2023_指标评分表", jiangmen_2023_scoring_table),
        "003": Canonical(
            "003", "selfeval", "宜春市_2022_项目支出绩效自评表", lambda: [yichun_2022()]
        ),
        "004": Canonical("004", "selfeval", "新丰县_2023_项目支出绩效自评表", xinfeng_2023),
    }


SEEDS = ("000", "001", "002", "003", "004")
_CONTENT_CACHE: dict[str, Any] = {}


def canonical(seed: str) -> Canonical:
    """The canonical submission of ``seed`` ("000" … "004")."""
    return _canonicals()[seed]


def canonical_content(seed: str) -> Any:
    """A fresh deep copy of the canonical content of ``seed`` (built once, then copied)."""
    if seed not in _CONTENT_CACHE:
        _CONTENT_CACHE[seed] = canonical(seed).build()
    return copy.deepcopy(_CONTENT_CACHE[seed])


def write_canonical(seed: str, dest: Path) -> list[Path]:
    """The canonical workbook of ``seed``, written by the canonical writer (标准版式)."""
    from jixiao.samples.forms import write_scoring_table, write_selfeval_form
    from jixiao.samples.ledger import write_ledger

    c = canonical(seed)
    path = dest / f"{c.file_stem}.xlsx"
    content = canonical_content(seed)
    if c.kind == "ledger":
        return [write_ledger(path, content)]
    if c.kind == "scoring":
        return [write_scoring_table(path, [content])]
    return [write_selfeval_form(path, content)]


# =========================================================================== style and doc
KEEP = "<keep>"  # a Style text field left as the canonical writer has it


@dataclass
class Style:
    """How to lay the facts out. The defaults reproduce the canonical layout."""

    # ---- every layout
    title: str | None = KEEP  # the title over each table (None: no title)
    extra_sheets: list[str] = field(default_factory=list)  # cover | instructions | draft | chart
    split: Literal["sheets", "workbooks", "years"] = "sheets"
    blank_rows: bool = False  # blank rows inside tables
    note_rows: bool = False  # "注：…" rows inside (ledger) or between blocks (forms)
    info_beside: bool = False  # the info block (title, unit caption, project labels) beside
    xls: bool = False  # legacy .xls (BIFF8), via jixiao.samples._xls when available
    # ---- ledgers
    ledger_order: Literal["canonical", "reversed", "rotated"] = "canonical"
    repeat_header_every: int | None = None
    unit_in: Literal["keep", "header", "caption", "cell"] = "keep"
    # ---- forms
    year_in_title: bool = False  # "项目支出绩效自评表（2023年度）", no separate year row
    merged_groups: bool = True  # 一级/二级 merged over their children, else repeated per row
    indicator_order: tuple[str, ...] = INDICATOR_COLUMNS
    funding_order: tuple[str, ...] = FUNDING_COLUMNS
    scoring_tail: tuple[str, ...] = SCORING_TAIL
    labels: dict[str, str] = field(default_factory=dict)  # canonical label -> synonym
    inline_labels: bool = False  # "项目名称：X" in one cell
    form_unit_in: Literal["label", "caption", "cell"] = "label"


@dataclass
class Doc:
    """The content of one canonical submission and how to lay it out."""

    seed: str
    kind: Kind
    content: Any
    style: Style = field(default_factory=Style)
    applied: list[str] = field(default_factory=list)

    @property
    def ledger(self) -> Ledger:
        assert isinstance(self.content, Ledger)
        return self.content

    @property
    def forms(self) -> list[SelfEvalProject]:
        assert isinstance(self.content, list)
        return self.content

    @property
    def scoring(self) -> ScoringTable:
        assert isinstance(self.content, ScoringTable)
        return self.content


@dataclass(frozen=True)
class Transformation:
    """One named change of layout that keeps every fact (版式变换)."""

    name: str
    kinds: frozenset[Kind]
    group: str  # at most one transformation per group in a combination
    apply: Callable[[Doc], None]
    doc: str = ""

    def applies_to(self, seed: str) -> bool:
        return canonical(seed).kind in self.kinds


# =========================================================================== value helpers
_PCT = re.compile(r"^(\d+(?:\.\d+)?)%$")


def _as_decimal(value: object) -> Decimal | None:
    """A numeric cell (Decimal/int or plain numeric text with separators) as Decimal."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (Decimal, int)):
        return Decimal(value)
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).replace(",", "").strip()
        if re.fullmatch(r"[+-]?\d+(?:\.\d+)?", text):
            return Decimal(text)
    return None


def _plain(amount: Decimal) -> str:
    """Decimal as plain text, no exponent, no trailing zeros beyond the point."""
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _thousands(amount: Decimal) -> str:
    """'1,234,567.89' keeping every significant decimal (千分位文本)."""
    text = _plain(amount)
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def _convert(value: Cell, factor: Decimal) -> Cell:
    """An amount cell multiplied exactly by ``factor`` (元 <-> 万元), keeping its rendering."""
    if isinstance(value, Formatted):
        return value
    num = _as_decimal(value)
    if num is None:
        return value
    out = num * factor
    out = out.quantize(Decimal(1)) if out == out.to_integral_value() else out.normalize()
    if isinstance(value, str):
        return _thousands(out) if "," in value else _plain(out)
    return out


def _fullwidth_cell(value: Cell) -> Cell:
    """Digits of a number or text as a Chinese IME types them (全角)."""
    if isinstance(value, (Formatted, date)) or value is None:
        return value
    if isinstance(value, (Decimal, int)):
        return fullwidth(_plain(Decimal(value)))
    return fullwidth(value)


def _text_number(value: Cell) -> Cell:
    """A number stored as text, with thousands separators (文本型数字)."""
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return _thousands(Decimal(value))
    return value


def _typed_percent(value: Cell) -> Cell:
    """A typed '81.48%' as Excel stores it: 0.8148 with a percent format (百分比格式)."""
    if isinstance(value, str):
        m = _PCT.fullmatch(unicodedata.normalize("NFKC", value).strip())
        if m:
            return Formatted(Decimal(m.group(1)) / 100, PERCENT_FMT)
    if isinstance(value, Decimal) and not isinstance(value, bool):
        return value
    return value


def _percent_text(value: Cell) -> Cell:
    """A rate stored as a fraction (Decimal 0.8339) written as the text '83.39%'."""
    if isinstance(value, Formatted):
        value = Decimal(value.value)
    if isinstance(value, Decimal):
        return f"{_plain(value * 100)}%"
    return value


# =========================================================================== content transforms
def _ledger_rows(
    doc: Doc, kinds: Iterable[str], keys: Iterable[str]
) -> Iterable[tuple[dict[str, object], str]]:
    kinds, keys = set(kinds), list(keys)
    for sheet in doc.ledger.sheets:
        if sheet.kind in kinds:
            for row in sheet.rows:
                for key in keys:
                    if row.get(key) is not None:
                        yield row, key


def _map_ledger(
    doc: Doc, kinds: Iterable[str], keys: Iterable[str], fn: Callable[[Any], Any]
) -> None:
    for row, key in list(_ledger_rows(doc, kinds, keys)):
        row[key] = fn(row[key])


def _funding_amounts(p: SelfEvalProject) -> Iterable[tuple[FundingRow, str]]:
    for f in p.funding:
        for attr in ("initial", "final", "executed"):
            yield f, attr


def _map_forms(
    doc: Doc,
    fn: Callable[[Any], Any],
    *,
    amounts: bool,
    scores: bool,
    measures: bool,
    rates: bool,
) -> None:
    """Apply ``fn`` to the chosen cells of every self-evaluation sheet."""
    for p in doc.forms:
        for f in p.funding:
            if amounts:
                f.initial, f.final, f.executed = fn(f.initial), fn(f.final), fn(f.executed)
            if scores:
                f.weight, f.score = fn(f.weight), fn(f.score)
            if rates:
                f.rate = fn(f.rate)
        for ind in p.indicators:
            if measures:
                ind.target, ind.actual = fn(ind.target), fn(ind.actual)
            if scores:
                ind.weight, ind.score = fn(ind.weight), fn(ind.score)
        if scores:
            p.total_weight, p.total_score = fn(p.total_weight), fn(p.total_score)


def _map_scoring(
    doc: Doc, fn: Callable[[Any], Any], *, amounts: bool, scores: bool, measures: bool
) -> None:
    t = doc.scoring
    if amounts:
        for attr in (
            "eval_amount",
            "planned",
            "allocated_local",
            "allocated_transfer",
            "spent_local",
            "spent_transfer",
        ):
            setattr(t, attr, fn(getattr(t, attr)))
    for level in t.levels:
        if scores:
            level.weight, level.block_score = fn(level.weight), fn(level.block_score)
        for group in level.groups:
            if scores:
                group.weight = fn(group.weight)
            for ind in group.indicators:
                if scores:
                    ind.weight, ind.score = fn(ind.weight), fn(ind.score)
                if measures:
                    ind.expected, ind.actual = fn(ind.expected), fn(ind.actual)
    if scores:
        t.total_score = fn(t.total_score)
        t.total_weights = tuple(fn(w) for w in t.total_weights)


def _swap_unit(doc: Doc) -> None:
    """元 <-> 万元 everywhere, amounts converted exactly (换算单位)."""
    if doc.kind == "ledger":
        for sheet in doc.ledger.sheets:
            if sheet.kind in ("budget_lines", "payments"):
                factor = WAN if sheet.unit == "万元" else 1 / WAN
                sheet.unit = "元" if sheet.unit == "万元" else "万元"
                for key, label in sheet.headers.items():  # "金额(元)" names the old unit
                    sheet.headers[key] = re.sub(r"[(（](万元|元)[)）]", "{unit}", label)
                for row in sheet.rows:
                    row["amount"] = _convert(row.get("amount"), factor)  # type: ignore[arg-type]
    elif doc.kind == "selfeval":
        for p in doc.forms:
            factor = WAN if p.unit == "万元" else Decimal(1) / WAN
            p.unit = "元" if p.unit == "万元" else "万元"
            for f in p.funding:
                for attr in ("initial", "final", "executed"):
                    setattr(f, attr, _convert(getattr(f, attr), factor))
    else:
        t = doc.scoring
        factor = WAN if t.unit == "万元" else Decimal(1) / WAN
        t.unit = "元" if t.unit == "万元" else "万元"
        _map_scoring(doc, lambda v: _convert(v, factor), amounts=True, scores=False, measures=False)


def _fullwidth(doc: Doc) -> None:
    if doc.kind == "ledger":
        _map_ledger(doc, ("budget_lines", "payments"), ("amount", "year"), _fullwidth_cell)
        _map_ledger(doc, ("evaluations",), ("max_score", "score", "reported_rate"), _fullwidth_cell)
        _map_ledger(doc, ("milestones",), ("planned", "actual"), _fullwidth_cell)
    elif doc.kind == "selfeval":
        _map_forms(doc, _fullwidth_cell, amounts=True, scores=True, measures=True, rates=False)
    else:
        _map_scoring(doc, _fullwidth_cell, amounts=True, scores=True, measures=True)


def _text_numbers(doc: Doc) -> None:
    if doc.kind == "ledger":
        _map_ledger(doc, ("budget_lines", "payments"), ("amount",), _text_number)
        _map_ledger(doc, ("evaluations",), ("max_score", "score"), _text_number)
        _map_ledger(doc, ("milestones",), ("planned", "actual"), _text_number)
    elif doc.kind == "selfeval":
        _map_forms(doc, _text_number, amounts=True, scores=True, measures=True, rates=False)
    else:
        _map_scoring(doc, _text_number, amounts=True, scores=True, measures=True)


def _typed_percents(doc: Doc) -> None:
    if doc.kind == "ledger":
        _map_ledger(doc, ("evaluations",), ("reported_rate",), _typed_percent)
    elif doc.kind == "selfeval":
        _map_forms(doc, _typed_percent, amounts=False, scores=False, measures=True, rates=True)
        for p in doc.forms:  # a fraction rate gets the percent format too
            for f in p.funding:
                if isinstance(f.rate, Decimal):
                    f.rate = Formatted(f.rate, PERCENT_FMT)  # type: ignore[assignment]
    else:
        _map_scoring(doc, _typed_percent, amounts=False, scores=False, measures=True)


def _percents_as_text(doc: Doc) -> None:
    if doc.kind == "ledger":
        pass  # the ledgers' rates are text already
    else:
        _map_forms(doc, _percent_text, amounts=False, scores=False, measures=False, rates=True)


def _ledger_header(kind: str, key: str, label: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        for sheet in doc.ledger.sheets:
            if sheet.kind == kind:
                sheet.headers[key] = label

    return apply


def _ledger_value(kind: str, key: str, old: set[str], new: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        for sheet in doc.ledger.sheets:
            if sheet.kind == kind:
                for row in sheet.rows:
                    if row.get(key) in old:
                        row[key] = new

    return apply


def _form_label(canonical_label: str, synonym: str) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        doc.style.labels[canonical_label] = synonym

    return apply


def _style(**changes: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        for key, value in changes.items():
            if key == "extra_sheets":
                doc.style.extra_sheets = [*doc.style.extra_sheets, *value]
            else:
                setattr(doc.style, key, value)

    return apply


def _scoring_style(**changes: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        for key, value in changes.items():
            setattr(doc.content, key, value)

    return apply


# =========================================================================== the transformations
_DEPT_SYNONYMS = ("预算部门", "项目单位", "需求单位", "填报单位")
_CUTS = {"压减", "调减", "年中压减", "收回"}

TRANSFORMATIONS: list[Transformation] = [
    # ---- titles
    Transformation(
        "title_short", SELFEVAL, "title", _style(title="绩效自评表"), "title 绩效自评表"
    ),
    Transformation(
        "title_with_year",
        SELFEVAL,
        "title",
        _style(title="项目支出绩效自评表（{year}年度）", year_in_title=True),
        "title 项目支出绩效自评表（2023年度）, no separate year row",
    ),
    Transformation("title_none", ALL, "title", _style(title=None), "no title"),
    Transformation(
        "title_of_other_layout",
        ALL,
        "title",
        _style(title="<other>"),
        "the title of another layout (自评表 over a ledger or 评分表 and vice versa)",
    ),
    # ---- column order
    Transformation(
        "ledger_columns_reversed",
        LEDGER,
        "ledger_order",
        _style(ledger_order="reversed"),
        "ledger columns in reverse order",
    ),
    Transformation(
        "ledger_columns_rotated",
        LEDGER,
        "ledger_order",
        _style(ledger_order="rotated"),
        "ledger columns rotated by three",
    ),
    Transformation(
        "indicator_columns_permuted",
        SELFEVAL,
        "indicator_order",
        _style(
            indicator_order=(
                "一级指标",
                "二级指标",
                "三级指标",
                "分值",
                "年度指标值",
                "实际完成值",
                "得分",
                "偏差原因分析及改进措施",
            )
        ),
        "分值 before 年度指标值",
    ),
    Transformation(
        "funding_columns_permuted",
        SELFEVAL,
        "funding_order",
        _style(funding_order=("全年预算数", "年初预算数", "全年执行数", "执行率", "分值", "得分")),
        "funding columns permuted",
    ),
    Transformation(
        "scoring_columns_permuted",
        SCORING,
        "scoring_tail",
        _style(
            scoring_tail=(
                "评价年度预期值",
                "评价年度实现值",
                "未达标原因分析",
                "自评分数",
                "评分标准",
                "参考佐证材料",
            )
        ),
        "未达标原因分析 before 自评分数",
    ),
    # ---- header synonyms
    *[
        Transformation(
            f"department_{word}",
            LEDGER | SELFEVAL,
            "department_label",
            (
                lambda w: (
                    lambda doc: (
                        _ledger_header("projects", "department", w)(doc)
                        if doc.kind == "ledger"
                        else _form_label("主管部门", w)(doc)
                    )
                )
            )(word),
            f"主管部门 written {word}",
        )
        for word in _DEPT_SYNONYMS
    ],
    Transformation(
        "filler_label_short",
        SCORING,
        "department_label",
        _form_label("填报单位名称", "填报单位"),
        "填报单位名称 written 填报单位",
    ),
    *[
        Transformation(
            f"final_{word}",
            SELFEVAL,
            "final_label",
            _form_label("全年预算数", word),
            f"全年预算数 written {word}",
        )
        for word in ("调整后预算", "预算安排")
    ],
    *[
        Transformation(
            f"executed_{word}",
            SELFEVAL,
            "executed_label",
            _form_label("全年执行数", word),
            f"全年执行数 written {word}",
        )
        for word in ("实际支出", "累计支出", "支付金额")
    ],
    *[
        Transformation(
            f"paid_{word}",
            LEDGER,
            "executed_label",
            _ledger_header("payments", "amount", word + "{unit}"),
            f"支付金额 column headed {word}",
        )
        for word in ("实际支出", "累计支出", "付款金额")
    ],
    *[
        Transformation(
            f"cut_{word}",
            LEDGER,
            "cut_word",
            _ledger_value("budget_lines", "line_type", _CUTS, word),
            f"mid-year cuts typed {word}",
        )
        for word in ("年中压减", "压减", "调减", "收回")
    ],
    Transformation(
        "initial_年初安排",
        LEDGER,
        "initial_word",
        _ledger_value("budget_lines", "line_type", {"年初预算"}, "年初安排"),
        "年初预算 typed 年初安排 (seed 000's word)",
    ),
    *[
        Transformation(
            f"allocated_{word}",
            SCORING,
            "allocated_label",
            _form_label("实际分配下达", word),
            f"实际分配下达 written {word}",
        )
        for word in ("实际到位数", "下达数")
    ],
    # ---- merged group cells
    Transformation(
        "groups_repeated",
        FORMS,
        "groups",
        _style(merged_groups=False),
        "一级/二级 repeated on every row instead of merged",
    ),
    # ---- units
    Transformation(
        "units_swapped",
        ALL,
        "unit_value",
        _swap_unit,
        "amounts in the other unit (元 <-> 万元), converted exactly",
    ),
    Transformation(
        "units_in_header",
        LEDGER,
        "unit_place",
        _style(unit_in="header"),
        "every amount unit as a header suffix",
    ),
    Transformation(
        "units_in_caption",
        ALL,
        "unit_place",
        lambda doc: (
            _style(unit_in="caption")(doc)
            if doc.kind == "ledger"
            else _style(form_unit_in="caption")(doc)
        ),
        "every amount unit in a 金额单位 caption",
    ),
    Transformation(
        "units_in_cells",
        ALL,
        "unit_place",
        lambda doc: (
            _style(unit_in="cell")(doc)
            if doc.kind == "ledger"
            else _style(form_unit_in="cell")(doc)
        ),
        "the unit written in every amount cell (27.5万元), none in the headers",
    ),
    Transformation(
        "scoring_unit_own_cell",
        SCORING,
        "unit_place",
        _scoring_style(header_in_one_cell=False),
        "填报单位名称 and 金额单位 in two cells",
    ),
    # ---- cell renderings
    Transformation(
        "percent_format",
        ALL,
        "percent",
        _typed_percents,
        "typed percents stored as fractions with a 0.00% format",
    ),
    Transformation(
        "percent_text", SELFEVAL, "percent", _percents_as_text, "rates written as text '83.39%'"
    ),
    Transformation("fullwidth_digits", ALL, "digits", _fullwidth, "full-width digits (９８．３４)"),
    Transformation(
        "text_numbers",
        ALL,
        "digits",
        _text_numbers,
        "numbers stored as text with thousands separators",
    ),
    # ---- rows
    Transformation(
        "blank_rows",
        ALL,
        "blank_rows",
        _style(blank_rows=True),
        "blank rows inside and between the tables",
    ),
    Transformation(
        "note_rows",
        ALL,
        "note_rows",
        _style(note_rows=True),
        "note rows (注：…) inside ledgers, between form blocks and under tables",
    ),
    Transformation(
        "repeated_header",
        LEDGER,
        "repeated_header",
        _style(repeat_header_every=60),
        "the header row repeated every 60 rows (printed pages)",
    ),
    Transformation(
        "info_beside",
        ALL,
        "info_place",
        _style(info_beside=True),
        "title, unit caption and project labels beside the table instead of above",
    ),
    Transformation(
        "inline_labels",
        SELFEVAL,
        "info_place",
        _style(inline_labels=True),
        "项目名称：X in one cell",
    ),
    # ---- sheets and workbooks
    Transformation(
        "cover_sheet", ALL, "cover", _style(extra_sheets=["cover"]), "a cover sheet first"
    ),
    Transformation(
        "instruction_sheet",
        ALL,
        "instructions",
        _style(extra_sheets=["instructions"]),
        "a 填报说明 sheet",
    ),
    Transformation(
        "hidden_draft",
        ALL,
        "draft",
        _style(extra_sheets=["draft"]),
        "a hidden draft copy of the first data sheet",
    ),
    Transformation(
        "chart_sheet", ALL, "chart", _style(extra_sheets=["chart"]), "a chart-only sheet"
    ),
    Transformation(
        "workbook_per_table",
        LEDGER | SELFEVAL,
        "split",
        _style(split="workbooks"),
        "one workbook per ledger kind (or per project form)",
    ),
    Transformation(
        "sheet_per_year",
        LEDGER,
        "split",
        _style(split="years"),
        "one sheet per ledger kind and year",
    ),
    Transformation(
        "legacy_xls",
        ALL,
        "xls",
        _style(xls=True),
        "saved as legacy .xls (BIFF8, as WPS and old Excel do) by jixiao.samples._xls",
    ),
]

BY_NAME: dict[str, Transformation] = {t.name: t for t in TRANSFORMATIONS}


def xls_available() -> bool:
    """Whether :mod:`jixiao.samples._xls` (BIFF8 writer) has landed."""
    return importlib.util.find_spec("jixiao.samples._xls") is not None


def applicable(seed: str) -> list[Transformation]:
    """The transformations that apply to ``seed`` (in canonical order)."""
    out = [t for t in TRANSFORMATIONS if t.applies_to(seed) and t.name not in _NOOP[seed]]
    if seed == "003":  # one project, one year: nothing to split
        out = [t for t in out if t.group != "split"]
    return out


#: Transformations that would not change this seed's canonical workbook (already so).
_NOOP: dict[str, frozenset[str]] = {
    "000": frozenset({"cut_压减"}),  # Jiangmen already types 压减
    # Dongguan: no titles or captions, 调减 already, every unit already in the header
    "001": frozenset({"title_none", "cut_调减", "units_in_header", "info_beside"}),
    "002": frozenset({"percent_format"}),  # the scoring table has no typed percents
    "003": frozenset(),
    "004": frozenset(),
}


def make_doc(seed: str, names: Sequence[str] = ()) -> Doc:
    """The canonical content of ``seed`` with the named transformations applied in order."""
    c = canonical(seed)
    doc = Doc(seed, c.kind, canonical_content(seed))
    groups: set[str] = set()
    for name in names:
        t = BY_NAME[name]
        if not t.applies_to(seed):
            raise ValueError(f"{name} does not apply to seed {seed} ({c.kind})")
        if t.group in groups:
            raise ValueError(f"two transformations of group {t.group!r}")
        groups.add(t.group)
        t.apply(doc)
        doc.applied.append(name)
    return doc


# =========================================================================== rendering
OTHER_TITLE: dict[Kind, str] = {
    "ledger": "项目支出绩效自评表",
    "scoring": "项目支出绩效自评表",
    "selfeval": "绩效评价指标评分表",
}


def render(doc: Doc, dest: Path) -> list[Path]:
    """Write ``doc`` into ``dest`` and return the workbook paths, in ingest order."""
    dest.mkdir(parents=True, exist_ok=True)
    stem = canonical(doc.seed).file_stem
    books = _books(doc)
    paths: list[Path] = []
    for i, (suffix, wb) in enumerate(books):
        _extra_sheets(wb, doc)
        name = stem if len(books) == 1 else f"{stem}_{i + 1:02d}_{suffix}"
        path = save_deterministic(wb, dest / f"{name}.xlsx")
        if doc.style.xls:
            xls = path.with_suffix(".xls")
            importlib.import_module("jixiao.samples._xls").xlsx_to_xls(path, xls)
            path.unlink()
            path = xls
        paths.append(path)
    return paths


def variant_id(seed: str, names: Sequence[str]) -> str:
    """A readable id: ``003:title_short+units_swapped`` (``003:canonical`` for none)."""
    return f"{seed}:{'+'.join(names) or 'canonical'}"


def _books(doc: Doc) -> list[tuple[str, Workbook]]:
    if doc.kind == "ledger":
        return _ledger_books(doc)
    if doc.kind == "scoring":
        wb = new_workbook()
        _scoring_sheet(wb.create_sheet(doc.scoring.sheet_name), doc.scoring, doc.style)
        return [("scoring", wb)]
    if doc.style.split == "workbooks":
        out = []
        for p in doc.forms:
            wb = new_workbook()
            _selfeval_sheet(wb.create_sheet(p.sheet_name), p, doc.style)
            out.append((p.sheet_name, wb))
        return out
    wb = new_workbook()
    for p in doc.forms:
        _selfeval_sheet(wb.create_sheet(p.sheet_name), p, doc.style)
    return [("forms", wb)]


# --------------------------------------------------------------------------- cells
def _put(
    ws: Worksheet,
    row: int,
    col: int,
    value: Cell,
    *,
    fmt: str | None = None,
    bold: bool = False,
    align: Alignment | None = None,
    border: bool = True,
) -> None:
    """One cell: numbers get ``fmt``; a :class:`Formatted` brings its own format."""
    if isinstance(value, Formatted):
        cell = ws.cell(row=row, column=col, value=value.value)
        cell.number_format = value.fmt
    elif isinstance(value, date):
        cell = ws.cell(row=row, column=col, value=value)
        cell.number_format = "yyyy-mm-dd"
    else:
        cell = ws.cell(row=row, column=col, value=value)
        if fmt and isinstance(value, (Decimal, int)):
            cell.number_format = fmt
    if border:
        cell.border = BORDER
    if bold:
        cell.font = BOLD
    cell.alignment = align or Alignment(vertical="center", wrap_text=True)


def _merge(ws: Worksheet, r1: int, c1: int, r2: int, c2: int, value: Cell, **kw: Any) -> None:
    """Like :func:`jixiao.samples._xlsx.merge`, for any :data:`Cell`."""
    border = kw.get("border", True)
    kw.setdefault("align", CENTER)
    _put(ws, r1, c1, value, **kw)
    if border:
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                ws.cell(row=r, column=c).border = BORDER
    if (r1, c1) != (r2, c2):
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)


def _with_unit(value: Cell, unit: str) -> Cell:
    """An amount written with its unit in the cell: '27.5万元'."""
    if isinstance(value, (Decimal, int)):
        return f"{_plain(Decimal(value))}{unit}"
    if isinstance(value, str) and _as_decimal(value) is not None:
        return f"{value}{unit}"
    return value


def _title(
    style: Style, kind: Kind, canonical_title: str | None, year: int | None = None
) -> str | None:
    if style.title == KEEP:
        return canonical_title
    if style.title == "<other>":
        return OTHER_TITLE[kind]
    if style.title is None:
        return None
    return style.title.format(year=year)


# --------------------------------------------------------------------------- ledgers
def _norm_year(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def _ledger_books(doc: Doc) -> list[tuple[str, Workbook]]:
    led, st = doc.ledger, doc.style
    sheets: list[LedgerSheet] = []
    for sheet in led.sheets:
        if st.split == "years" and sheet.kind in ("budget_lines", "payments", "milestones"):
            name = sheet.sheet_name or DEFAULT_SHEET_NAMES[sheet.kind]
            keyed = sorted(sheet.rows, key=lambda r: _norm_year(r.get("year")))
            for year, rows in groupby(keyed, key=lambda r: _norm_year(r.get("year"))):
                sheets.append(
                    replace(
                        sheet,
                        rows=list(rows),
                        sheet_name=f"{year}年{name}",
                        title=f"{year}年{sheet.title}" if sheet.title else None,
                    )
                )
        else:
            sheets.append(sheet)
    if st.split == "workbooks":
        out = []
        for i, sheet in enumerate(sheets):
            wb = new_workbook()
            if led.instructions and i == 0:
                _instructions(wb.create_sheet("填写说明"))
            _ledger_table(wb.create_sheet(_sheet_name(sheet)), sheet, st)
            out.append((_sheet_name(sheet), wb))
        return out
    wb = new_workbook()
    if led.instructions:
        _instructions(wb.create_sheet("填写说明"))
    for sheet in sheets:
        ws = wb.create_sheet(_sheet_name(sheet))
        _ledger_table(ws, sheet, st)
        if sheet.hidden:
            ws.sheet_state = "hidden"
    return [("ledger", wb)]


def _sheet_name(sheet: LedgerSheet) -> str:
    return sheet.sheet_name or DEFAULT_SHEET_NAMES[sheet.kind]


def _instructions(ws: Worksheet) -> None:
    for i, line in enumerate(INSTRUCTIONS, start=1):
        ws.cell(row=i, column=1, value=line)
    ws.column_dimensions["A"].width = 80


def _ledger_columns(sheet: LedgerSheet, st: Style) -> tuple[list[tuple[str, str]], str]:
    unit_in = sheet.unit_in if st.unit_in == "keep" else st.unit_in
    suffix = f"（{sheet.unit}）" if unit_in == "header" else ""
    cols = []
    for key, label in COLUMNS[sheet.kind]:
        if key in sheet.omit:
            continue
        cols.append((key, sheet.headers.get(key, label).replace("{unit}", suffix)))
    if st.ledger_order == "reversed":
        cols.reverse()
    elif st.ledger_order == "rotated":
        cols = cols[3:] + cols[:3]
    return cols, unit_in


def _ledger_table(ws: Worksheet, sheet: LedgerSheet, st: Style) -> None:
    cols, unit_in = _ledger_columns(sheet, st)
    has_amount = any(key == "amount" for key, _ in cols)
    width = len(cols)
    title = _title(st, "ledger", sheet.title)
    caption = f"金额单位：{sheet.unit}" if unit_in == "caption" and has_amount else None
    row = 1
    above = [t for t in (title, caption) if t]
    if not st.info_beside:
        for text in above:
            align = Alignment(horizontal="right") if text == caption else CENTER
            _merge(ws, row, 1, row, width, text, bold=text == title, border=False, align=align)
            row += 1
    header = row
    if st.info_beside:
        for i, text in enumerate(above):
            _put(ws, header + i, width + 2, text, border=False)

    def write_header(r: int) -> None:
        header_row(ws, r, [label for _, label in cols])

    write_header(row)
    row += 1
    if st.blank_rows:
        row += 1
    for n, record in enumerate(sheet.rows):
        if n and st.repeat_header_every and n % st.repeat_header_every == 0:
            write_header(row)
            row += 1
        if n and st.blank_rows and n % 25 == 0:
            row += 1
        if n and st.note_rows and n % 40 == 0:
            ws.cell(row=row, column=1, value="注：续上表。")
            row += 1
        for col, (key, _) in enumerate(cols, start=1):
            value = record.get(key)
            if key == "amount" and unit_in == "cell":
                value = _with_unit(value, sheet.unit)  # type: ignore[arg-type]
            _ledger_cell(ws, row, col, value)
        row += 1
    notes = list(sheet.notes) + (["注：本表据实填报。"] if st.note_rows else [])
    for i, note in enumerate(notes, start=1):
        ws.cell(row=row + i, column=1, value=note)
    for col, (_, label) in enumerate(cols, start=1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max(10, min(40, 2 * len(label) + 4))
    del header


def _ledger_cell(ws: Worksheet, row: int, col: int, value: object) -> None:
    if value is not None and not isinstance(value, (str, Decimal, int, date, Formatted)):
        raise TypeError(f"unsupported cell value {value!r}")
    _put(ws, row, col, value, fmt=AMOUNT_FMT if isinstance(value, Decimal) else None)


# --------------------------------------------------------------------------- self-evaluation
_FUNDING_ATTR = {
    "年初预算数": "initial",
    "全年预算数": "final",
    "全年执行数": "executed",
    "分值": "weight",
    "执行率": "rate",
    "得分": "score",
}
_INDICATOR_ATTR = {
    "一级指标": "level1",
    "二级指标": "level2",
    "三级指标": "level3",
    "年度指标值": "target",
    "实际完成值": "actual",
    "分值": "weight",
    "得分": "score",
    "偏差原因分析及改进措施": "reason",
}


def _selfeval_sheet(ws: Worksheet, p: SelfEvalProject, st: Style) -> None:
    width = 9 if p.left_label else 8
    lab = st.labels.get
    row = 1
    title = _title(st, "selfeval", "项目支出绩效自评表", p.year)
    if title:
        _merge(ws, row, 1, row, width, title, border=False)
        ws.cell(row=row, column=1).font = TITLE_FONT
        row += 1
    if not st.year_in_title:
        _merge(ws, row, 1, row, width, f"（{p.year}年度）", border=False)
        row += 1
    pairs = _project_pairs(p, st)
    if not st.info_beside:
        row = _selfeval_header(ws, pairs, row, width, st)
    if st.note_rows:
        _merge(ws, row, 1, row, width, "注：请据实填写。", border=False, align=NOTE_ALIGN)
        row += 1
    if st.form_unit_in == "caption":
        _merge(
            ws,
            row,
            1,
            row,
            width,
            f"金额单位：{p.unit}",
            border=False,
            align=Alignment(horizontal="right"),
        )
        row += 1
    row = _funding_block(ws, p, row, width, st)
    row = _goal_block(ws, p, row, width)
    if p.blank_row_before_table:
        row += 1
    table_top = row
    row = _indicator_table(ws, p, row, width, st)
    notes = list(p.notes) + (["注：定性指标按三档评分。"] if st.note_rows else [])
    for i, note in enumerate(notes):
        _merge(ws, row + 1 + i, 1, row + 1 + i, width, note, align=NOTE_ALIGN, border=False)
    if st.info_beside:
        for i, (label, value) in enumerate(pairs):
            _put(ws, table_top + i, width + 2, label, bold=True)
            _merge(ws, table_top + i, width + 3, table_top + i, width + 5, value)
    set_widths(
        ws, {"A": 12, "B": 16, "C": 16, "D": 30, "E": 14, "F": 14, "G": 10, "H": 10, "I": 30}
    )
    del lab


def _project_pairs(p: SelfEvalProject, st: Style) -> list[tuple[str, Cell]]:
    lab = st.labels.get
    pairs: list[tuple[str, Cell]] = [
        ("项目名称", p.project_name),
        (lab("主管部门", "主管部门"), p.department),
        ("实施单位", p.implementing_unit),
    ]
    pairs += [(k, v) for k, v in (("项目编码", p.project_code), ("所属地区", p.region)) if v]
    if p.category:
        pairs.append(("项目类别", p.category))
    return pairs


def _selfeval_header(
    ws: Worksheet, pairs: list[tuple[str, Cell]], row: int, width: int, st: Style
) -> int:
    """项目名称 on its own row, then the rest two per row, as the canonical writer does."""
    left = Alignment(vertical="center")
    if st.inline_labels:
        for label, value in pairs:
            _merge(ws, row, 1, row, width, f"{label}：{value}", align=left)
            row += 1
        return row
    (name_label, name), *rest = pairs
    _put(ws, row, 1, name_label, bold=True)
    _merge(ws, row, 2, row, width, name, align=left)
    row += 1
    # canonical: (主管部门, 实施单位) paired; (项目编码, 所属地区) paired when both; 项目类别 alone
    dept, unit, *others = rest
    chunks: list[list[tuple[str, Cell]]] = [[dept, unit]]
    codes = [o for o in others if o[0] in ("项目编码", "所属地区")]
    if codes:
        chunks.append(codes)
    chunks += [[o] for o in others if o[0] not in ("项目编码", "所属地区")]
    for chunk in chunks:
        if len(chunk) == 2:
            (l1, v1), (l2, v2) = chunk
            _put(ws, row, 1, l1, bold=True)
            _merge(ws, row, 2, row, 4, v1, align=left)
            _put(ws, row, 5, l2, bold=True)
            _merge(ws, row, 6, row, width, v2, align=left)
        else:
            _put(ws, row, 1, chunk[0][0], bold=True)
            _merge(ws, row, 2, row, width, chunk[0][1], align=left)
        row += 1
    return row


def _funding_block(ws: Worksheet, p: SelfEvalProject, row: int, width: int, st: Style) -> int:
    last = row + len(p.funding)
    label = f"项目资金（{p.unit}）" if st.form_unit_in == "label" else "项目资金"
    _merge(ws, row, 1, last, 1, label, bold=True)
    order = st.funding_order
    header_row(ws, row, (None, *(st.labels.get(c, c) for c in order)), start_col=2)
    if width == 9:
        _merge(ws, row, 8, row, 9, st.labels.get(order[-1], order[-1]), bold=True)
        ws.cell(row=row, column=8).fill = HEADER_FILL
    for i, f in enumerate(p.funding, start=1):
        r = row + i
        _put(ws, r, 2, f.label)
        for j, column in enumerate(order):
            col = 3 + j
            value: Cell = getattr(f, _FUNDING_ATTR[column])
            if column in ("年初预算数", "全年预算数", "全年执行数"):
                if st.form_unit_in == "cell":
                    value = _with_unit(value, p.unit)
                fmt, align = AMOUNT_FMT, None
            elif column == "执行率":
                fmt, align = PERCENT_FMT, CENTER
            else:
                fmt, align = None, CENTER
            if width == 9 and j == len(order) - 1:
                _merge(ws, r, 8, r, 9, value, fmt=fmt)
            else:
                _put(ws, r, col, value, fmt=fmt, align=align)
    return last + 1


def _goal_block(ws: Worksheet, p: SelfEvalProject, row: int, width: int) -> int:
    _merge(ws, row, 1, row + 1, 1, "年度总体目标", bold=True)
    _merge(ws, row, 2, row, 5, "预期目标", bold=True)
    _merge(ws, row, 6, row, width, "实际完成情况", bold=True)
    wrap = Alignment(wrap_text=True)
    _merge(ws, row + 1, 2, row + 1, 5, p.goal_expected, align=wrap)
    _merge(ws, row + 1, 6, row + 1, width, p.goal_actual, align=wrap)
    ws.row_dimensions[row + 1].height = 60
    return row + 2


def _indicator_table(ws: Worksheet, p: SelfEvalProject, row: int, width: int, st: Style) -> int:
    c0 = 2 if p.left_label else 1
    order = st.indicator_order
    if order[:2] != ("一级指标", "二级指标"):
        raise ValueError("一级指标 and 二级指标 must stay the first two columns")
    col = {label: c0 + i for i, label in enumerate(order)}
    header_row(ws, row, order, start_col=c0)
    r = row + 1
    for n, (_, block) in enumerate(groupby(p.indicators, key=lambda i: i.level1)):
        if n and st.blank_rows:
            r += 1
        rows1 = list(block)
        if st.merged_groups:
            _merge(ws, r, c0, r + len(rows1) - 1, c0, rows1[0].level1)
            r2 = r
            for _, group in groupby(rows1, key=lambda i: i.level2):
                rows2 = list(group)
                _merge(ws, r2, c0 + 1, r2 + len(rows2) - 1, c0 + 1, rows2[0].level2)
                r2 += len(rows2)
        for ind in rows1:
            for label in order[0 if not st.merged_groups else 2 :]:
                align = None if label in ("三级指标", "偏差原因分析及改进措施") else CENTER
                _put(ws, r, col[label], getattr(ind, _INDICATOR_ATTR[label]), align=align)
            r += 1
    if p.left_label:
        _merge(ws, row, 1, r - 1, 1, "绩效指标", bold=True)
    first_value = min(col["分值"], col["得分"])
    _merge(ws, r, 1, r, first_value - 1, "总分", bold=True)
    for c in range(first_value, c0 + len(order)):
        _put(ws, r, c, None)
    _put(ws, r, col["分值"], p.total_weight, bold=True, align=CENTER)
    _put(ws, r, col["得分"], p.total_score, bold=True, align=CENTER)
    return r + 1


# --------------------------------------------------------------------------- scoring table
_SCORING_ATTR = {
    "评价年度预期值": (None, "expected"),
    "评价年度实现值": (None, "actual"),
    "自评分数": ("block_score", "score"),
    "未达标原因分析": ("block_reason", "reason"),
    "评分标准": ("block_scoring_rule", "scoring_rule"),
    "参考佐证材料": ("block_evidence", "evidence"),
}


def _scoring_sheet(ws: Worksheet, t: ScoringTable, st: Style) -> None:
    lab = st.labels.get
    left = Alignment(horizontal="left")
    row = 1
    title = _title(st, "scoring", t.attachment_label)
    if title:
        _put(ws, row, 1, title, border=False)
        row += 1
    filler = f"{lab('填报单位名称', '填报单位名称')}：{t.filler}"
    unit = f"金额单位：{t.unit}" if st.form_unit_in == "label" else None
    info: list[tuple[str, int, int, Alignment]] = []
    if unit and t.header_in_one_cell:
        info.append((f"{filler}  {unit}", 1, 12, left))
    else:
        info.append((filler, 1, 8, left))
        if unit:
            info.append((unit, 9, 12, Alignment(horizontal="right")))
    if not st.info_beside:
        for text, c1, c2, align in info:
            _merge(ws, row, c1, row, c2, text, border=False, align=align)
        row += 1
    if st.form_unit_in == "caption":
        _merge(
            ws,
            row,
            1,
            row,
            12,
            f"金额单位：{t.unit}",
            border=False,
            align=Alignment(horizontal="right"),
        )
        row += 1
    row = _scoring_basic(ws, t, row, st)
    if st.note_rows:
        _merge(ws, row, 1, row, 12, "注：请据实填写。", border=False, align=NOTE_ALIGN)
        row += 1
    if st.blank_rows:
        row += 1
    _merge(ws, row, 1, row, 12, "指标评分表", bold=True)
    header_top = row + 1
    row = _scoring_header(ws, t, row + 1, st)
    row = _scoring_rows(ws, t, row, st)
    col = {label: 7 + i for i, label in enumerate(st.scoring_tail)}
    _put(ws, row, 1, "合计：", bold=True)
    for c, value in zip((2, 4, 6), t.total_weights, strict=True):
        _put(ws, row, c, value, bold=True, align=CENTER)
    for c in (3, 5, *range(7, 13)):
        _put(ws, row, c, None)
    _put(ws, row, col["自评分数"], t.total_score, bold=True, align=CENTER)
    notes = list(t.notes) + (["注：本表据实填报。"] if st.note_rows else [])
    for i, note in enumerate(notes):
        _merge(ws, row + 2 + i, 1, row + 2 + i, 12, note, align=NOTE_ALIGN, border=False)
    if st.info_beside:
        for i, (text, _, _, _) in enumerate(info):
            _put(ws, header_top + i, 14, text, border=False)
    set_widths(ws, SCORING_WIDTHS)


def _scoring_basic(ws: Worksheet, t: ScoringTable, row: int, st: Style) -> int:
    lab = st.labels.get
    left = Alignment(vertical="center", wrap_text=True)
    money = (lambda v: _with_unit(v, t.unit)) if st.form_unit_in == "cell" else (lambda v: v)
    _merge(ws, row, 1, row + 2, 1, "基本情况", bold=True)
    _put(ws, row, 2, "项目名称", bold=True)
    _merge(ws, row, 3, row, 6, t.project_name, align=left)
    _put(ws, row, 7, "评价年度", bold=True)
    _put(ws, row, 8, t.year, align=CENTER)
    _put(ws, row, 9, "评价金额", bold=True)
    _merge(ws, row, 10, row, 12, money(t.eval_amount))
    _put(ws, row + 1, 2, "联系人", bold=True)
    _merge(ws, row + 1, 3, row + 1, 6, t.contact, align=left)
    _put(ws, row + 1, 7, "联系电话", bold=True)
    _put(ws, row + 1, 8, t.phone)
    _put(ws, row + 1, 9, "联系邮箱", bold=True)
    _merge(ws, row + 1, 10, row + 1, 12, t.email)
    _put(ws, row + 2, 2, "实施文件依据", bold=True)
    _merge(ws, row + 2, 3, row + 2, 8, t.basis, align=left)
    _put(ws, row + 2, 9, "项目级次", bold=True)
    _merge(ws, row + 2, 10, row + 2, 12, t.project_level)
    row += 3
    _merge(ws, row, 1, row + 2, 1, "资金情况", bold=True)
    _merge(ws, row, 2, row, 3, "预算计划安排", bold=True)
    _merge(ws, row, 4, row, 12, money(t.planned), align=Alignment(horizontal="left"))
    lines = (
        (lab("实际分配下达", "实际分配下达"), t.allocated_local, t.allocated_transfer),
        ("实际支出金额", t.spent_local, t.spent_transfer),
    )
    for i, (label, local, transfer) in enumerate(lines, start=1):
        _merge(ws, row + i, 2, row + i, 3, label, bold=True)
        _put(ws, row + i, 4, "市本级")
        _put(ws, row + i, 5, money(local), fmt=AMOUNT_FMT)
        _put(ws, row + i, 6, "转移支付至下级")
        _merge(ws, row + i, 7, row + i, 12, money(transfer), align=Alignment(horizontal="left"))
    row += 3
    _merge(ws, row, 1, row, 1, "绩效目标情况", bold=True)
    _merge(ws, row, 2, row, 3, "预期总体目标", bold=True)
    _merge(ws, row, 4, row, 12, t.overall_goal, align=Alignment(wrap_text=True, vertical="top"))
    ws.row_dimensions[row].height = 90
    _merge(ws, row + 1, 1, row + 1, 3, "是否如期实现预期总体目标", bold=True)
    _merge(ws, row + 1, 4, row + 1, 12, t.goal_achieved, align=Alignment(horizontal="left"))
    return row + 2


def _scoring_header(ws: Worksheet, t: ScoringTable, row: int, st: Style) -> int:
    top = row
    if t.caption_row:
        _merge(ws, row, 1, row, 6, "评价指标", bold=True)
        row += 1
    for col, label in enumerate(st.scoring_tail, start=7):
        _merge(ws, top, col, row + 1, col, label, bold=True)
    for col, label in ((1, "一级指标"), (3, "二级指标"), (5, "三级指标")):
        _merge(ws, row, col, row, col + 1, label, bold=True)
    header_row(ws, row + 1, ("名称", "权重(%)") * 3)
    return row + 2


def _scoring_rows(ws: Worksheet, t: ScoringTable, row: int, st: Style) -> int:
    col = {label: 7 + i for i, label in enumerate(st.scoring_tail)}
    for n, level in enumerate(t.levels):
        if n and st.blank_rows:
            row += 1
        count = sum(len(g.indicators) for g in level.groups)
        last = row + count - 1

        def group_cell(c: int, r1: int, r2: int, value: Cell) -> None:
            if st.merged_groups:
                _merge(ws, r1, c, r2, c, value)
            else:
                for r in range(r1, r2 + 1):
                    _put(ws, r, c, value, align=CENTER)

        group_cell(1, row, last, level.name)
        group_cell(2, row, last, level.weight)
        if level.weight_rule:
            group_cell(4, row, last, level.weight_rule)
            group_cell(6, row, last, level.weight_rule)
        for label, (block_attr, _) in _SCORING_ATTR.items():
            block = getattr(level, block_attr) if block_attr else None
            if block is not None:  # a block cell (one score for the group) stays merged
                _merge(ws, row, col[label], last, col[label], block)
        r = row
        for group in level.groups:
            m = len(group.indicators)
            group_cell(3, r, r + m - 1, group.name)
            if not level.weight_rule:
                group_cell(4, r, r + m - 1, group.weight)
            for ind in group.indicators:
                _put(ws, r, 5, ind.name)
                if not level.weight_rule:
                    _put(ws, r, 6, ind.weight, align=CENTER)
                for label, (block_attr, attr) in _SCORING_ATTR.items():
                    if block_attr and getattr(level, block_attr) is not None:
                        continue
                    align = (
                        CENTER
                        if label in ("评价年度预期值", "评价年度实现值", "自评分数")
                        else None
                    )
                    _put(ws, r, col[label], getattr(ind, attr), align=align)
                r += 1
        row = last + 1
    return row


# --------------------------------------------------------------------------- extra sheets
def _first_data_sheet(wb: Workbook) -> Worksheet:
    for ws in wb.worksheets:
        if ws.title not in ("填写说明", "填报说明", "封面"):
            return ws
    raise ValueError("no data sheet")


def _extra_sheets(wb: Workbook, doc: Doc) -> None:
    extras = doc.style.extra_sheets
    data = _first_data_sheet(wb)
    if "draft" in extras:
        draft = wb.copy_worksheet(data)
        draft.title = f"{data.title[:20]}（草稿）"
        draft.sheet_state = "hidden"
    if "chart" in extras:
        chart = BarChart()
        chart.title = "图表"
        values = Reference(data, min_col=1, min_row=1, max_col=1, max_row=min(10, data.max_row))
        chart.add_data(values)
        cs = wb.create_chartsheet("图表")
        cs.add_chart(chart)
    if "instructions" in extras:
        ws = wb.create_sheet("填报说明", 0)
        lines = (
            "填报说明",
            "1. 请按表格填写，金额保留两位小数。",
            "2. 一级指标、二级指标可合并单元格。",
            "3. 报送前请核对合计数。",
        )
        for i, line in enumerate(lines, start=1):
            ws.cell(row=i, column=1, value=line)
    if "cover" in extras:
        ws = wb.create_sheet("封面", 0)
        year = {"000": "2019-2022", "001": "2019-2021", "002": "2023", "003": "2022"}.get(
            doc.seed, "2023"
        )
        ws.cell(row=3, column=2, value=f"{year}年度预算绩效评价材料").font = TITLE_FONT
        ws.cell(row=6, column=2, value="报送日期：2024年3月20日")
        ws.column_dimensions["B"].width = 50
