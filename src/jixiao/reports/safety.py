"""Export safety (导出安全): normalise first, then neutralise formulas; safe names and metadata.

Every text that a report writes into a cell, a CSV field or an HTML page passes through
:func:`neutralise`, so a project name such as ``=HYPERLINK("http://x","点击")`` typed into a
departmental workbook can never become a live formula when the report is opened in Excel
or pasted from the HTML page into a spreadsheet (CSV/formula injection, OWASP).

The order matters: the text is *normalised first* (:func:`clean_text`: Unicode NFC, control
characters, bidi overrides and XML-illegal code points removed) and only then checked for a
formula trigger, so ``"\\x01=HYPERLINK(...)"`` cannot slip past the check and become
``=HYPERLINK(...)`` once the control character is dropped. Numbers are never text: writers
put them in numeric cells, so a negative amount needs no escaping.

File names (:func:`safe_filename`) and document properties (:func:`clean_property`) get
the same normalisation; file names also lose path separators and reserved characters but
keep Chinese.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from decimal import Decimal
from typing import Any

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n")
"""Leading characters that make a spreadsheet treat text as a formula (公式注入触发字符)."""

# C0 controls except TAB/LF/CR, DEL and the C1 controls; lone surrogates; the XML
# non-characters U+FFFE/U+FFFF. openpyxl refuses the C0 ones, Excel refuses a file with them
# in docProps, and none of them is ever meant in a clerk's text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Bidirectional embedding/override/isolate marks (U+202E turns "gpj.exe" into "exe.jpg").
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Invisible characters that make two file names look alike (zero width, BOM, soft hyphen).
_INVISIBLE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\t\n\r\u2028\u2029]+')
_WINDOWS_RESERVED = frozenset(
    {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(1, 10)),
        *(f"LPT{i}" for i in range(1, 10)),
    }
)


def clean_text(value: str) -> str:
    """Normalised text (规范化文本): NFC, no control, bidi or XML-illegal characters.

    TAB, LF and CR are kept (they are legal in cells and may be meant); everything else
    in the C0/C1 ranges, DEL and the bidi controls is dropped.
    """
    text = unicodedata.normalize("NFC", value) if not value.isascii() else value
    return _BIDI.sub("", _CONTROL.sub("", text))


def _starts_formula(text: str) -> bool:
    if text.startswith(FORMULA_TRIGGERS):
        return True
    # " =1+1" / full-width space first: some CSV importers trim before evaluating.
    stripped = text.lstrip(" \u3000\u00a0")
    return stripped != text and stripped.startswith(FORMULA_TRIGGERS)


def neutralise(value: Any) -> Any:
    """Make exported text inert (中和公式注入): normalise, then prefix ``'`` to a formula.

    Non-text values (numbers, Decimal, None) are returned unchanged. Text is first cleaned
    by :func:`clean_text`; if what remains begins with ``= + - @``, tab, CR or LF (or
    spaces then one of those) it gets a leading apostrophe, which Excel, LibreOffice and
    Google Sheets show as plain text.
    """
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    return "'" + text if _starts_formula(text) else text


def is_neutral(value: Any) -> bool:
    """True when ``value`` cannot start a formula and carries no control characters."""
    if not isinstance(value, str):
        return True
    return not (_starts_formula(value) or _CONTROL.search(value) or _BIDI.search(value))


def is_number(value: Any) -> bool:
    """A real number (数值), not text and not bool: written as a numeric cell, never escaped."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def clean_property(value: Any, max_len: int = 255) -> str | None:
    """A document-property value (文档属性: title, subject, creator…) that Excel can open.

    Control and bidi characters are removed (NUL/BEL in docProps made workbooks unopenable)
    and line breaks become spaces; a formula-like start is harmless here and kept.
    """
    if value is None:
        return None
    text = clean_text(str(value)).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return text.strip()[:max_len] or None


def safe_filename(name: str, key: str | None = None, max_len: int = 60) -> str:
    """A file-system-safe, readable name (安全文件名); ``key`` adds a stable short hash.

    Chinese is kept; control, bidi and invisible characters are removed, separators,
    reserved characters and line breaks become ``_``, and the name cannot start with a
    formula trigger, a dot or an apostrophe. The hash keeps names unique when two projects
    share a display name and makes the file name deterministic for the same mart key.
    """
    text = _INVISIBLE.sub("", clean_text(name))
    base = _UNSAFE_FILENAME.sub("_", text).strip(" ._")
    base = base.lstrip("=+-@'._") or "unnamed"
    base = base[:max_len].rstrip(" ._") or "unnamed"
    if base.split(".")[0].upper() in _WINDOWS_RESERVED:
        base = f"_{base}"
    if key is None:
        return base
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return f"{base}_{digest}"
