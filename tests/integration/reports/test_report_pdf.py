"""The printed reports, looked at: PDF text layer, rendered pages, the 自评表 through LibreOffice.

One print per session (the ``built`` fixture prints every HTML page with headless Chromium);
the PDFs are read with ``pdftotext`` and rendered with ``pdftoppm``, and one 自评表 goes
through LibreOffice headless (xlsx -> PDF -> PNG) once per module. Everything here needs
Chromium, poppler-utils and LibreOffice: skipped without them, failed when ``CI=true``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from tests.integration.reports.report_helpers import Built
from tests.integration.reports.report_marts_fixture import JM_DEPT, XF_DEPT

from jixiao.reports.xlsx_common import text_width

pytestmark = pytest.mark.browser


def _need(tool: str, package: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {tool} is missing (apt-get install {package})")
        pytest.skip(f"{tool} not installed (apt-get install {package})")
    return found


def _text(pdf: Path) -> str:
    exe = _need("pdftotext", "poppler-utils")
    out = subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="session")
def pdfs(built: Built) -> dict[str, Path]:
    found = {p.stem: p for p in built.paths if p.suffix == ".pdf"}
    if not found:
        _need("chromium", "chromium")  # skips or fails: the build printed nothing
    return {
        "jm": built.one("departments", JM_DEPT, ".pdf"),
        "xf": built.one("departments", XF_DEPT, ".pdf"),
        "xf_region": built.one("regions", "新丰县", ".pdf"),
    }


def test_pdf_is_a4_with_embedded_fonts_header_and_page_numbers(pdfs: dict[str, Path]) -> None:
    exe = _need("pdfinfo", "poppler-utils")
    info = subprocess.run([exe, str(pdfs["jm"])], capture_output=True, check=True).stdout.decode()
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert size and (round(float(size[1])), round(float(size[2]))) == (595, 842)  # A4
    pages = int(re.search(r"Pages:\s+(\d+)", info)[1])  # type: ignore[index]
    fonts = subprocess.run(
        [_need("pdffonts", "poppler-utils"), str(pdfs["jm"])], capture_output=True, check=True
    ).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows and all(r.split()[-5] == "yes" for r in rows), fonts  # every font embedded
    text = _text(pdfs["jm"])
    for n in range(1, pages + 1):
        assert f"第 {n} 页 / 共 {pages} 页" in text or f"第{n}页/共{pages}页" in _flat(text)
    assert text.count(f"{JM_DEPT} · 2023年度预算绩效评价报告") == pages  # header on every page


def test_pdf_text_holds_the_source_documents_figures(pdfs: dict[str, Path]) -> None:
    jm = _flat(_text(pdfs["jm"]))
    # seed 002 (Jiangmen): 资金支出率 11.86 of 12, total 97.86 优 beside the self-score 98
    assert "自评得分98.00（优），复核得分97.86（优）" in jm
    assert "9,150.00" in jm and "9,044.14" in jm and "98.84%" in jm
    assert "11.86" in jm and "12.00" in jm
    # seed 001 (the third-party evaluation): 77.20 中 and its buckets 0/0/30/8/35 (+2)
    for label, n in (("100%", 0), ("90%-100%", 0), ("80%-90%", 30), ("60%-80%", 8)):
        assert f"“数字政府”建设专项资金2023{label}{n}" in jm
    xf = _flat(_text(pdfs["xf"]))
    assert "77.20" in xf and "58.37%" in xf
    assert "预算执行进度滞后于序时进度" in xf  # the 58.37% execution is flagged
    for forbidden in ("0.00%（—）", "marts", "集市", "budget_execution_rate", "warning"):
        assert forbidden not in jm + xf


def test_pdf_pages_render_with_ink_and_are_kept(pdfs: dict[str, Path], tmp_path: Path) -> None:
    exe = _need("pdftoppm", "poppler-utils")
    subprocess.run([exe, "-r", "50", "-png", str(pdfs["xf"]), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 3
    for page in pages:
        img = Image.open(page).convert("L")
        assert img.size[0] < img.size[1]  # portrait A4
        dark = sum(img.histogram()[:128])
        assert dark > 0.002 * img.size[0] * img.size[1], page.name  # text, not a blank page


@pytest.fixture(scope="module")
def selfeval_pdf(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI=true but LibreOffice is missing (apt-get install libreoffice-calc-nogui)"
            )
        pytest.skip("LibreOffice not installed (apt-get install libreoffice-calc-nogui)")
    out = tmp_path_factory.mktemp("lo")
    form = built.one("projects", "数字政府", ".xlsx")
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{out / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(form),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return next(out.glob("*.pdf"))


def test_selfeval_form_prints_every_figure_without_clipping(
    built: Built, selfeval_pdf: Path, tmp_path: Path
) -> None:
    text = _flat(_text(selfeval_pdf))
    for figure in ("9,150.00", "9,044.14", "11.86", "97.86", "98.00", "公共数据资源社会开放数据集"):
        assert figure in text, figure
    subprocess.run(
        [
            _need("pdftoppm", "poppler-utils"),
            "-r",
            "40",
            "-png",
            str(selfeval_pdf),
            str(tmp_path / "f"),
        ],
        check=True,
    )
    assert sorted(tmp_path.glob("f*.png"))


def test_selfeval_cells_fit_their_columns_and_rows(built: Built) -> None:
    """Measured text width against the column (and merged) width; wrapped text gets the row
    height its lines need, so no cell is clipped or overlaps the next row."""
    for form in (p for p in built.paths if p.parent.name == "projects"):
        ws = load_workbook(form).active
        assert ws is not None
        merged = {(r.min_row, r.min_col): r for r in ws.merged_cells.ranges}
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                if cell.value is None:
                    continue
                rng = merged.get((cell.row, cell.column))
                cols = range(rng.min_col, rng.max_col + 1) if rng else [cell.column]
                width = sum(ws.column_dimensions[chr(64 + c)].width or 8.43 for c in cols)
                shown = str(cell.value) if isinstance(cell.value, str) else f"{cell.value:,.2f}"
                need = text_width(shown)
                if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                    assert need <= width, (form.name, cell.coordinate, shown, width)
                    continue
                if rng and rng.max_row > rng.min_row:
                    continue  # 一级/二级指标 merged over several rows
                lines = -(-need // max(1, int(width - 1.5)))
                height = ws.row_dimensions[cell.row].height or 15
                assert height >= 14 * lines, (form.name, cell.coordinate, shown, height)
