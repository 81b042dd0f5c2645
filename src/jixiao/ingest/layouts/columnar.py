"""Column-wise fast path for ledger sheets (台账列式快速解析).

The row reader in :mod:`jixiao.ingest.layouts.ledger` parses one cell at a time and is the
reference. Ledgers repeat the same codes, dates, years, payees and fund sources thousands of
times, so here each column is parsed once per *distinct* value (memoised by type and value)
with exactly the same parser functions, and amounts that calamine hands over as numbers are
converted with the same Decimal steps as :func:`jixiao.ingest.values.parse_amount`.

A row takes the fast path only when every cell of it parsed cleanly; any other row (a blank
or note row, a bad value, a value of an unusual type) is handed to the row reader, which
produces the row or the rejection with its usual message. Rows are emitted in sheet order and
submissions are created in the same order, so the output is identical to the row reader's;
``tests/unit/ingest/test_columnar.py`` checks that on messy columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from jixiao.ingest.errors import CellError
from jixiao.ingest.plausibility import bounds
from jixiao.ingest.values import (
    FEN,
    MAX_YUAN,
    UNIT_FACTORS,
    compact,
    format_decimal,
    normalize_text,
    parse_amount,
    parse_date,
    parse_year,
)

FAIL: Any = object()  # a cell the fast path cannot take: the row goes to the row reader
_NOTE_PREFIXES = ("注", "说明", "备注", "填表", "审核", "note")
_TOTAL_LABELS = {"合计", "总计", "小计", "total"}


def column(rows: Sequence[list[Any]], col: int | None) -> list[Any]:
    """The cells of column ``col`` (0-based) of ``rows``; '' past a row's end, None if no col."""
    if col is None:
        return [None] * len(rows)
    return [row[col] if col < len(row) else "" for row in rows]


def _attempt(fn: Callable[[Any], Any], value: Any) -> Any:
    try:
        return fn(value)
    except CellError:
        return FAIL


def memo_map(fn: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """``fn`` over ``values``, computed once per distinct (type, value); CellError -> FAIL.

    Keys include the type so that 1, 1.0 and True (equal in Python) never share a result.
    """
    if len({v.__class__ for v in values}) == 1:  # one type: key by value, C-speed passes
        done = {v: _attempt(fn, v) for v in set(values)}
        return [done[v] for v in values]
    cache: dict[Any, Any] = {}
    out: list[Any] = []
    append = out.append
    for v in values:
        key = v if v.__class__ is str else (v.__class__, v)
        try:
            append(cache[key])
        except KeyError:
            r = cache[key] = _attempt(fn, v)
            append(r)
    return out


def text_or_none(value: Any) -> str | None:
    """Normalised text, None when empty (the row reader's ``_text``)."""
    return normalize_text(value) or None


def dates(values: list[Any]) -> list[Any]:
    """``parse_date`` per cell: Excel dates within the plausible range directly, everything
    else (text, serials, dates out of range) memoised through parse_date."""
    out: list[Any] = []
    slow = []
    b = bounds()
    low, high = b.date_min, b.date_max
    for i, v in enumerate(values):
        cls = v.__class__
        if cls is dt.datetime and low <= v.date() <= high:
            out.append(v.date())
        elif cls is dt.date and low <= v <= high:
            out.append(v)
        else:
            out.append(None)
            slow.append(i)
    if slow:
        parsed = memo_map(parse_date, [values[i] for i in slow])
        for i, p in zip(slow, parsed, strict=True):
            out[i] = p
    return out


def amounts(values: list[Any], unit: str | None) -> list[Any]:
    """``parse_amount(v, unit)`` per cell -> (yuan, unit used, original text) | None | FAIL.

    Numbers (the usual case) follow parse_amount's own steps: the float's shortest repr as a
    Decimal, times the unit factor, refused below one fen. Text goes through parse_amount.
    Negative, non-finite and out-of-range amounts are FAIL: the row reader rejects them.
    """
    factor = UNIT_FACTORS.get(unit) if unit is not None else None
    out: list[Any] = []
    for v in values:
        cls = v.__class__
        if factor is not None and (cls is float or cls is int):
            d = Decimal(repr(v)) if cls is float else Decimal(v)
            yuan = d * factor
            if not yuan.is_finite() or yuan < 0 or yuan > MAX_YUAN:
                out.append(FAIL)
                continue
            q = yuan.quantize(FEN)
            out.append((q, unit, format_decimal(d)) if q == yuan else FAIL)
        elif v is None or (cls is str and not v.strip()):
            out.append(None)
        else:
            try:
                parsed = parse_amount(v, unit)
            except CellError:
                out.append(FAIL)
                continue
            if parsed and parsed[0] < 0:
                out.append(FAIL)
                continue
            out.append((*parsed, normalize_text(v)) if parsed else None)
    return out


def years(values: list[Any]) -> list[Any]:
    """``parse_year`` per cell, memoised."""
    return memo_map(parse_year, values)


def texts(values: list[Any]) -> list[Any]:
    """``normalize_text(v) or None`` per cell, memoised."""
    return memo_map(text_or_none, values)


def plain_row_flags(rows: Sequence[list[Any]]) -> list[bool]:
    """True for rows that are certainly neither blank nor a note/total row (首列判断).

    Decided from the first cell: a non-blank non-text value, or text that is not a total
    label and does not start like a note. Anything else is left to the row reader's checks.
    """
    cache: dict[str, bool] = {}
    flags = []
    for row in rows:
        v = row[0] if row else None
        if isinstance(v, str):
            flag = cache.get(v)
            if flag is None:
                t = compact(v).rstrip(":").lower()
                flag = cache[v] = bool(v.strip()) and not (
                    t in _TOTAL_LABELS or t.startswith(_NOTE_PREFIXES)
                )
            flags.append(flag)
        else:
            flags.append(v is not None and v.__class__ in (int, float, dt.date, dt.datetime))
    return flags
