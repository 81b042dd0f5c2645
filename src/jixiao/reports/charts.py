"""Charts with correct Chinese labels (图表), rendered by matplotlib with a bundled CJK font.

The font is a GB 2312 subset of Noto Sans CJK (SIL OFL 1.1) shipped in ``fonts/``, so
charts never depend on the fonts installed on the machine. SVG output turns glyphs into
paths (no font needed to view it) and carries no date and fixed element ids, so the same
data always gives the same SVG.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jixiao.reports.model import Chart
from jixiao.reports.safety import clean_text

FONT_PATH = Path(__file__).with_name("fonts") / "NotoSansCJK-Jixiao-Subset.otf"
"""Bundled CJK font subset (随包字体子集)."""

_PALETTE = ("#1f5fa8", "#d9822b", "#3c8d5a", "#b23b3b", "#7b5ea7", "#5b7083")


@cache
def _font_name() -> str:
    """Register the bundled font with matplotlib once and return its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(FONT_PATH))
    return str(font_manager.FontProperties(fname=str(FONT_PATH)).get_name())


def _figure(width: float = 7.0, height: float = 3.6) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.family": [_font_name()],
            "axes.unicode_minus": False,
            "svg.hashsalt": "jixiao",
            "svg.fonttype": "path",
            "figure.dpi": 100,
        }
    )
    fig, ax = plt.subplots(figsize=(width, height))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _render(fig: Any, key: str, title: str) -> Chart:
    title = clean_text(title)
    import matplotlib.pyplot as plt

    fig.tight_layout()
    svg_buf = io.StringIO()
    fig.savefig(svg_buf, format="svg", metadata={"Date": None, "Creator": "jixiao"})
    png_buf = io.BytesIO()
    fig.savefig(png_buf, format="png", dpi=110, metadata={"Software": "jixiao"})
    plt.close(fig)
    svg = svg_buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE for inline HTML use
    return Chart(key=key, title=title, svg=svg, png=png_buf.getvalue())


def _pct(values: Sequence[Decimal | None]) -> list[float]:
    """Fractions to percentages as floats for plotting only (never for money)."""
    return [float(v * 100) if v is not None else float("nan") for v in values]


def execution_chart(
    months: Sequence[int],
    execution: Sequence[Decimal | None],
    schedule: Sequence[Decimal | None],
    title: str,
) -> Chart:
    """Cumulative execution rate by month against 序时进度 (预算执行进度与序时进度)."""
    fig, ax = _figure()
    ax.plot(months, _pct(execution), marker="o", color=_PALETTE[0], label="累计执行率")
    ax.plot(months, _pct(schedule), linestyle="--", color=_PALETTE[3], label="序时进度")
    ax.set_xticks(list(range(1, 13)), [f"{m}月" for m in range(1, 13)])
    ax.set_ylim(0, 110)
    ax.set_ylabel("百分比（%）")
    ax.set_title(clean_text(title))  # a NUL or BEL in a name has no glyph
    ax.legend(loc="upper left", frameon=False)
    return _render(fig, "execution_monthly", title)


def grade_chart(
    grades: Sequence[str], reported: Sequence[int], recomputed: Sequence[int], title: str
) -> Chart:
    """Projects per grade, reported vs recomputed (得分等级分布：自评与复核)."""
    fig, ax = _figure()
    xs = list(range(len(grades)))
    ax.bar([x - 0.2 for x in xs], reported, width=0.4, color=_PALETTE[1], label="自评等级")
    ax.bar([x + 0.2 for x in xs], recomputed, width=0.4, color=_PALETTE[0], label="复核等级")
    ax.set_xticks(xs, list(grades))
    ax.set_ylabel("项目数（个）")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(clean_text(title))  # a NUL or BEL in a name has no glyph
    ax.legend(frameon=False)
    return _render(fig, "grade_distribution", title)


def category_chart(labels: Sequence[str], shares: Sequence[Decimal | None], title: str) -> Chart:
    """Share of funds by project category (分类资金占比), horizontal bars."""
    fig, ax = _figure(height=max(2.4, 0.5 * len(labels) + 1.2))
    ys = list(range(len(labels)))
    values = _pct(shares)
    ax.barh(ys, values, color=[_PALETTE[i % len(_PALETTE)] for i in ys])
    ax.set_yticks(ys, [clean_text(label) for label in labels])
    ax.invert_yaxis()
    for y, v in zip(ys, values, strict=True):
        ax.text(v, y, f" {v:.2f}%", va="center", fontsize=9)
    ax.set_xlabel("资金占比（%）")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_title(clean_text(title))  # a NUL or BEL in a name has no glyph
    return _render(fig, "category_shares", title)
