"""The HTML reports printed to A4 PDF by headless Chromium (打印 PDF).

The page carries its own print layout (``@page`` with A4, a running header naming the
department or region and year, and page numbers in the bottom margin box), and its CJK font
is embedded in the HTML, so Chromium's print-to-PDF embeds that font in the PDF: the PDF reads
correctly on a machine without Chinese fonts.

Chromium is optional. Without it the run still writes every HTML and xlsx report and says, in
Chinese and English, that no PDF was produced and how to get one (:data:`MISSING_MESSAGE`).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

BROWSERS: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "chrome")
TIMEOUT_S = 120
MISSING_MESSAGE = (
    "未生成 PDF：找不到无头浏览器 Chromium。HTML 和 xlsx 报告已正常生成；"
    "安装 Chromium（Debian/Ubuntu：apt-get install chromium）或设置环境变量 "
    "JIXIAO_CHROMIUM 为浏览器路径后重新运行 jixiao report 即可生成 PDF。"
    " / No PDF was produced: headless Chromium was not found. The HTML and xlsx reports were"
    " written; install Chromium (Debian/Ubuntu: apt-get install chromium) or set"
    " JIXIAO_CHROMIUM to the browser's path, then run jixiao report again to get the PDFs."
)
NOTICE_NAME = "PDF未生成_README.txt"
"""Written into the year's report folder when no PDF could be made (说明文件)."""


def find_browser() -> str | None:
    """Path of a headless-capable Chromium (浏览器路径): $JIXIAO_CHROMIUM, else the PATH."""
    configured = os.environ.get("JIXIAO_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() or shutil.which(configured) else None
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    return None


class PdfFailed(RuntimeError):
    """Chromium ran but produced no PDF (PDF 打印失败)."""


def print_pdf(html: Path, pdf: Path, browser: str) -> Path:
    """Print ``html`` to ``pdf`` (A4, the page's own margins, header and page numbers).

    Written to a temporary file beside ``pdf`` and moved into place, so a failed print never
    leaves half a PDF; the file gets the process umask's permissions like any other report.
    """
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jixiao-chromium-") as profile:
        tmp = pdf.with_name(f".{pdf.stem}.tmp.pdf")
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-extensions",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}",
            html.resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            tmp.unlink(missing_ok=True)
            raise PdfFailed(f"Chromium 打印 {html.name} 失败 / failed to print: {exc}") from exc
        if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tmp.unlink(missing_ok=True)
            err = proc.stderr.decode("utf-8", "replace")[-400:]
            raise PdfFailed(
                f"Chromium 未能打印 {html.name}（退出码 {proc.returncode}）"
                f" / Chromium could not print {html.name} (exit {proc.returncode}): {err}"
            )
        os.replace(tmp, pdf)
    return pdf


def write_pdfs(pages: list[Path], folder: Path) -> tuple[list[Path], str | None]:
    """Print every HTML page to a PDF beside it; return the PDFs and a warning, if any.

    Without Chromium nothing is printed, :data:`MISSING_MESSAGE` is logged and also written to
    ``folder / NOTICE_NAME`` so whoever opens the folder sees why there is no PDF.
    """
    notice = folder / NOTICE_NAME
    browser = find_browser()
    if browser is None:
        log.warning(MISSING_MESSAGE)
        folder.mkdir(parents=True, exist_ok=True)
        notice.write_text(MISSING_MESSAGE + "\n", encoding="utf-8")
        return [], MISSING_MESSAGE
    out: list[Path] = []
    failures: list[str] = []
    for page in pages:
        try:
            out.append(print_pdf(page, page.with_suffix(".pdf"), browser))
        except PdfFailed as exc:
            log.warning(str(exc))
            failures.append(str(exc))
    if failures:
        folder.mkdir(parents=True, exist_ok=True)
        notice.write_text("\n".join(failures) + "\n", encoding="utf-8")
        return out, failures[0]
    notice.unlink(missing_ok=True)
    return out, None
