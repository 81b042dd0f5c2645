"""Export safety (导出安全): formula-injection neutralisation and safe file names.

Every text that a report writes into a cell or an HTML page passes through
:func:`neutralise`, so a project name such as ``=HYPERLINK("http://x","点击")`` typed into a
departmental workbook can never become a live formula when the report is opened in Excel
or pasted from the HTML page into a spreadsheet (CSV/formula injection, OWASP).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n")
"""Leading characters that make a spreadsheet treat text as a formula (公式注入触发字符)."""

# Control characters that the xlsx XML format cannot store (openpyxl refuses them).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def neutralise(value: Any) -> Any:
    """Make exported text inert (中和公式注入): prefix a ``'`` when it starts a formula.

    Non-text values (numbers, Decimal, None) are returned unchanged. Text that begins with
    ``= + - @``, tab, CR or LF gets a leading apostrophe, which Excel, LibreOffice and
    Google Sheets show as plain text; XML-illegal control characters are dropped.
    """
    if not isinstance(value, str):
        return value
    text = _ILLEGAL_XML.sub("", value)
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def is_neutral(value: Any) -> bool:
    """True when ``value`` cannot start a formula (无公式注入风险)."""
    return not (isinstance(value, str) and value.startswith(FORMULA_TRIGGERS))


def safe_filename(name: str, key: str | None = None, max_len: int = 60) -> str:
    """A file-system-safe, readable name (安全文件名); ``key`` adds a stable short hash.

    The hash keeps names unique when two projects share a display name and makes the file
    name deterministic for the same mart key.
    """
    base = _UNSAFE_FILENAME.sub("_", name).strip(" ._") or "unnamed"
    base = base.lstrip("=+-@'") or "unnamed"
    base = base[:max_len]
    if key is None:
        return base
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return f"{base}_{digest}"
