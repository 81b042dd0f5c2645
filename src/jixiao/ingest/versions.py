"""A workbook's own date signals, for ordering resubmissions (文件自身的日期信号).

A resubmission supersedes an earlier file only when it is newer by the document's own time,
not by the time it reached the inbox. The signals, strongest first:

1. the 填报日期 / 填表日期 / 报送日期 written in the workbook (:func:`filled_date`);
2. the workbook's document properties: ``dcterms:modified`` (and ``dcterms:created``) of
   ``docProps/core.xml`` in the xlsx package (:func:`document_signals`);
3. the file's modification time (``raw.load_log.received_at``);
4. arrival order (``raw.load_log.arrived_at``, then ``loaded_at``).

The loader stores (1) and (2) in ``raw.load_log.document_filled_on`` and
``raw.load_log.document_modified_at``; the view ``raw._submission_versions``
(``raw_schema.sql``) orders the versions by them and marks the current one. Nothing here
raises on a bad file: a missing, oversized or garbage property is simply ``None``.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as DefusedET

from jixiao.ingest.layouts.common import labelled_value
from jixiao.ingest.values import CellError, normalize_text, parse_date
from jixiao.ingest.workbook import Sheet

#: labels of the date the form was filled in, in priority order (as written on the forms)
FILLED_DATE_LABELS: tuple[str, ...] = (
    "填报日期",
    "填表日期",
    "报送日期",
    "填报时间",
    "填表时间",
    "报送时间",
    "date filled",
    "filled on",
)
#: docProps/core.xml is a few hundred bytes; a bigger part is not read
_MAX_CORE_XML_BYTES = 1 << 20
#: a document time outside this window is a wrong clock or garbage, not a signal
EARLIEST = dt.datetime(1990, 1, 1)
LATEST_AHEAD = dt.timedelta(days=366)

_NS_DCTERMS = "{http://purl.org/dc/terms/}"
_DATE_IN_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _plausible(moment: dt.datetime, now: dt.datetime | None = None) -> bool:
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return EARLIEST <= moment <= now + LATEST_AHEAD


def parse_w3cdtf(text: str | None) -> dt.datetime | None:
    """A W3CDTF time (``2024-03-15T08:30:00Z``) as naive UTC; anything else -> None."""
    if not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
        except ValueError:
            return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment if _plausible(moment) else None


def document_signals(path: Path) -> dict[str, dt.datetime | None]:
    """``{"modified": ..., "created": ...}`` from an xlsx's ``docProps/core.xml``.

    Read with :mod:`zipfile` and defusedxml (no entity expansion, no external entities), the
    part's size checked before it is read. A legacy .xls, a package without core.xml, an
    oversized or malformed part, or a value that is not a plausible time gives ``None``.
    """
    signals: dict[str, dt.datetime | None] = {"modified": None, "created": None}
    try:
        with zipfile.ZipFile(path) as package:
            try:
                info = package.getinfo("docProps/core.xml")
            except KeyError:
                return signals
            if info.file_size > _MAX_CORE_XML_BYTES:
                return signals
            with package.open(info) as part:
                data = part.read(_MAX_CORE_XML_BYTES + 1)
        if len(data) > _MAX_CORE_XML_BYTES:
            return signals
        root = DefusedET.fromstring(data)
    except Exception:  # any unreadable package means "no signal", never a crash
        return signals
    for name in ("modified", "created"):
        element = root.find(f"{_NS_DCTERMS}{name}")
        signals[name] = parse_w3cdtf(element.text if element is not None else None)
    return signals


def _date_of(value: Any) -> dt.date | None:
    """A date from a cell value or from a text that holds one ("2024年3月15日（盖章）")."""
    if isinstance(value, (dt.date, dt.datetime, int, float)):
        try:
            return parse_date(value)
        except CellError:
            return None
    text = normalize_text(value)
    m = _DATE_IN_TEXT.search(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def filled_date(sheets: Iterable[Sheet]) -> dt.date | None:
    """The 填报日期 / 填表日期 / 报送日期 written in the workbook, else None.

    The label may hold its value ("填报日期：2024年3月15日") or stand left of it (an Excel date,
    a serial number or a text date). The first sheet with a usable date wins; a blank form
    ("填报日期：    年  月  日") or an implausible date (before 1990, more than a year ahead)
    is no signal.
    """
    for sheet in sheets:
        if not _may_hold_date_label(sheet):
            continue  # a ledger's thousand rows are not normalised just to find no label
        found = labelled_value(sheet, FILLED_DATE_LABELS)
        if found is None:
            continue
        text, row, col = found
        raw = sheet.get(row, col)
        day = _date_of(raw) if not isinstance(raw, str) else _date_of(text)
        if day is None:
            continue
        if _plausible(dt.datetime.combine(day, dt.time())):
            return day
    return None


#: how a cell holding a label of FILLED_DATE_LABELS can start (the label is matched at the
#: start of the cell's text, after spaces, '*' and other punctuation): 填/报 or d/f in any
#: case or width. A ledger's 支付日期 column does not start so.
_LABEL_START = re.compile(r"[\W_]*(?:填|报|d|f|ｄ|ｆ)", re.IGNORECASE)


def _may_hold_date_label(sheet: Sheet) -> bool:
    """Whether any text cell could hold a label of :data:`FILLED_DATE_LABELS` (one regex
    match per text cell, much cheaper than normalising a whole ledger's grid)."""
    match = _LABEL_START.match
    return any(isinstance(v, str) and match(v) for row in sheet.rows for v in row)


def load_log_signals(path: Path, sheets: Iterable[Sheet]) -> dict[str, Any]:
    """The ``raw.load_log`` columns of a file's own date signals (载入日志中的文件日期).

    ``document_filled_on`` (the 填报日期 written in it) and ``document_modified_at`` (its
    docProps modified time, else its created time): the loader merges them into the file's
    meta so its load_log row carries them.
    """
    props = document_signals(path)
    return {
        "document_filled_on": filled_date(sheets),
        "document_modified_at": props["modified"] or props["created"],
    }
