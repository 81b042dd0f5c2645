"""Independent readers for the tests: parse what the writers wrote, the way a person would."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

_FW = str.maketrans("０１２３４５６７８９．％，－", "0123456789.%,-")


def num(value: Any) -> Decimal:
    """A cell as an exact Decimal: floats via their shortest repr, text cleaned of
    full-width digits, thousands separators and a trailing percent sign (as a fraction)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    text = str(value).translate(_FW).replace(",", "").strip()
    if text.endswith("%"):
        return Decimal(text[:-1]) / 100
    return Decimal(text)


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = re.fullmatch(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?", str(value))
    if not m:
        raise ValueError(f"not a date: {value!r}")
    return date(*map(int, m.groups()))


def table(ws: Worksheet, first_label: str) -> list[dict[str, Any]]:
    """Rows under the header row whose first cell is ``first_label``, as dicts."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r and r[0] == first_label)
    header = [str(h) if h is not None else "" for h in rows[start]]
    out = []
    for r in rows[start + 1 :]:
        if r[0] is None or not str(r[0]).strip() or str(r[0]).startswith("注"):
            continue
        if all(v is None for v in r[1:]):
            continue  # a note or summary line under the table (one cell), not a data row
        out.append(dict(zip(header, r, strict=False)))
    return out


def load(path: Path, name: str) -> Worksheet:
    return load_workbook(path)[name]
