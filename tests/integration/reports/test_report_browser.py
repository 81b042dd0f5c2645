"""Chinese glyphs are really drawn: the embedded font covers the page, and Chromium draws it.

Missing glyphs render as identical "tofu" boxes, so the browser check renders single
characters of the report in the report's own embedded font and requires that each one has
ink, that all of them differ from each other, and that none looks like the box drawn for a
character no font has (U+E000, private use).
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops
from tests.integration.reports.report_helpers import Built

CELL = 120
SAMPLE = "预算绩效评价报告执行率"
TOFU = "\ue000"


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def _require_chromium() -> str:
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but headless Chromium is missing (apt-get install chromium)")
        pytest.skip("headless Chromium not installed (apt-get install chromium)")
    return exe


def _font_css(html: str) -> str:
    return re.search(r"@font-face \{.*?\}", html, re.S).group(0)  # type: ignore[union-attr]


def _screenshot(exe: str, page: Path, out: Path, width: int, height: int) -> Image.Image:
    subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Image.open(out).convert("L")


def test_embedded_font_has_every_cjk_glyph_of_the_page(built: Built) -> None:
    path = next(p for p in built.paths if p.suffix == ".html")
    html = path.read_text(encoding="utf-8")
    b64 = re.search(r"base64,([A-Za-z0-9+/=]+)", _font_css(html)).group(1)  # type: ignore[union-attr]
    font = TTFont(io.BytesIO(base64.b64decode(b64)))
    cmap = font.getBestCmap()
    cjk = {ch for ch in html if "\u4e00" <= ch <= "\u9fff"}
    assert len(cjk) > 50
    assert not [ch for ch in cjk if ord(ch) not in cmap]
    glyphs = font.getGlyphSet()
    assert all(glyphs[cmap[ord(ch)]].width > 0 for ch in SAMPLE)


@pytest.mark.browser
def test_chromium_draws_chinese_glyphs_not_tofu(built: Built, tmp_path: Path) -> None:
    exe = _require_chromium()
    report = next(p for p in built.paths if p.suffix == ".html" and "departments" in p.parts)
    chars = [*SAMPLE, TOFU]
    cells = "".join(
        f'<div style="position:absolute;left:{i * CELL}px;top:0;width:{CELL}px;'
        f'height:{CELL}px;font:96px/{CELL}px JixiaoCJK;text-align:center">{ch}</div>'
        for i, ch in enumerate(chars)
    )
    page = tmp_path / "glyphs.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
        f"{_font_css(report.read_text(encoding='utf-8'))} body{{margin:0;background:#fff}}"
        f"</style></head><body>{cells}</body></html>",
        encoding="utf-8",
    )
    shot = _screenshot(exe, page, tmp_path / "glyphs.png", CELL * len(chars), CELL)
    crops = [shot.crop((i * CELL, 0, (i + 1) * CELL, CELL)) for i in range(len(chars))]
    ink = [sum(c.histogram()[:128]) for c in crops]
    assert all(n > 150 for n in ink[:-1]), ink  # every Chinese character left ink
    glyph_crops, tofu = crops[:-1], crops[-1]
    for i, a in enumerate(glyph_crops):
        assert ImageChops.difference(a, tofu).getbbox() is not None, SAMPLE[i]
        for j in range(i + 1, len(glyph_crops)):
            assert ImageChops.difference(a, glyph_crops[j]).getbbox() is not None, (i, j)


@pytest.mark.browser
def test_report_page_renders_with_text_and_charts(built: Built, tmp_path: Path) -> None:
    exe = _require_chromium()
    report = next(p for p in built.paths if p.suffix == ".html" and "departments" in p.parts)
    shot = _screenshot(exe, report, tmp_path / "report.png", 900, 1400)
    top = shot.crop((0, 0, 900, 120))  # the centred title
    dark = sum(top.histogram()[:128])
    assert dark > 1500, dark
    assert shot.getextrema()[0] < 50  # real text, not an empty white page
