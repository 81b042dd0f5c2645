"""The department/region report as a print-ready HTML page (年度报告 HTML).

Self-contained: charts are inline SVG (glyphs as paths) and the CJK font is embedded as a
per-page subset of the bundled Noto Sans CJK, so the page shows correct Chinese on a machine
with no Chinese fonts and prints on A4 (``@page``, repeated table headers, no split rows).
Every table has ``data-table="<key>"`` and every value cell ``data-value`` with the raw mart
value, so the figures can be checked by parsing the page.
"""

from __future__ import annotations

import base64
import io
import os
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from jixiao.reports.charts import FONT_PATH
from jixiao.reports.model import Report, Unit, fmt
from jixiao.reports.safety import clean_text, is_number, neutralise
from jixiao.reports.xlsx_common import readable_by_group


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("jixiao.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = _shown
    env.filters["raw"] = _raw
    env.filters["safe_text"] = lambda v: neutralise(v) if v is not None else ""
    return env


def _shown(value: Any, kind: Any, unit: Unit = "wan") -> str:
    """The displayed cell text (显示值): a number is formatted, never escaped; text is neutral.

    A negative amount is a number, not a formula: it shows as ``-37,924,702.37``, not
    ``'-37,924,702.37``. Only text (clerks' names, reasons) goes through ``neutralise``.
    """
    if is_number(value):
        return fmt(value, kind, unit)
    return str(neutralise(fmt(value, kind, unit)))


def _raw(value: Any) -> str:
    """The machine-readable cell value for ``data-value`` (原始值); numbers stay numbers."""
    if value is None:
        return ""
    if is_number(value):
        return str(value)
    return str(neutralise(str(value)))


def font_subset_base64(text: str) -> str:
    """The bundled CJK font cut down to the characters of ``text``, base64 OTF (嵌入字体)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.hinting = False
    options.name_IDs = ["*"]
    options.layout_features = []  # horizontal CJK text needs no GSUB/GPOS features
    options.drop_tables += ["GSUB", "GPOS", "VORG", "vhea", "vmtx"]
    font = TTFont(str(FONT_PATH), recalcTimestamp=False, lazy=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))))
    subsetter.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return base64.b64encode(buf.getvalue()).decode("ascii")


FONT_PLACEHOLDER = "@@JIXIAO_FONT_BASE64@@"


def render_report_html(report: Report, generated_at: datetime) -> str:
    """HTML text of the report; ``generated_at`` appears only in a <meta> tag.

    The page is rendered once with a placeholder, then the embedded font is cut down to
    exactly the characters the page contains.
    """
    template = _env().get_template("report.html.j2")
    html = template.render(
        report=report,
        page_header=Markup(css_string(report.header_text or report.title)),  # noqa: S704
        font_b64=FONT_PLACEHOLDER,
        generated_at=generated_at.isoformat(timespec="seconds"),
        # matplotlib SVG, text as paths; its comments repeat the chart title: cleaned
        svg=lambda chart: Markup(clean_text(chart.svg)),  # noqa: S704
    )
    return html.replace(FONT_PLACEHOLDER, font_subset_base64(html))


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for the running page header): escapes \\ " and
    line breaks, drops control characters."""
    out = []
    for ch in clean_text(text):
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch in "\r\n\t" or ch == "<":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def write_report_html(report: Report, path: Path, generated_at: datetime) -> Path:
    """Write the page atomically (写出 HTML)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".html", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(render_report_html(report, generated_at))
    readable_by_group(Path(tmp))
    os.replace(tmp, path)
    return path
