"""Yearly performance reports (年度绩效报告): entry point for the DAG and the CLI.

``build_reports`` reads one fiscal year from the marts (only) and writes, under
``settings.reports / <year>``::

    projects/自评表_<项目>_<hash>.xlsx          one 项目支出绩效自评表 per project
    departments/<部门>_<hash>.xlsx | .html | .pdf one evaluation report per department
    regions/<地区>_<hash>.xlsx | .html | .pdf     one evaluation report per region

Amounts are in 万元 by default (``unit="yuan"`` for 元). The PDFs are the HTML pages printed
by headless Chromium; without Chromium the run still writes HTML and xlsx and says why there
is no PDF (``PDF未生成_README.txt`` in the year's folder, and a logged warning).

The gate check (the year's mart gate must have passed) is the caller's job:
``jixiao.pipeline.yearly_report`` runs ``check_year_gate`` first. Cell values depend only
on the marts; the generation time is written to document metadata only.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from jixiao.config import Settings
from jixiao.reports.content import Scope, build_report, department_scopes, region_scopes
from jixiao.reports.marts import ReportDataError, YearData, default_source, load_year
from jixiao.reports.model import Unit
from jixiao.reports.pdf import NOTICE_NAME, write_pdfs
from jixiao.reports.report_html import write_report_html
from jixiao.reports.report_xlsx import write_report_xlsx
from jixiao.reports.selfeval import selfeval_filename, write_selfeval

SUBDIRS = ("projects", "departments", "regions")


UNITS: tuple[str, ...] = ("wan", "yuan")
UNIT_ENV = "JIXIAO_REPORT_UNIT"
"""Environment variable for the money unit when the caller gives none (wan or yuan)."""


def _write_scope(
    scope: Scope, data: YearData, folder: Path, now: datetime, unit: Unit
) -> list[Path]:
    report = build_report(scope, data, unit)
    return [
        write_report_xlsx(report, folder / f"{report.file_stem}.xlsx", now),
        write_report_html(report, folder / f"{report.file_stem}.html", now),
    ]


def _remove_stale(out: Path, keep: set[Path]) -> None:
    """After a full build, drop report files that the marts no longer produce (过期报告)."""
    for sub in SUBDIRS:
        for f in sorted((out / sub).glob("*")):
            if f.is_file() and f.suffix in {".xlsx", ".html", ".pdf"} and f not in keep:
                f.unlink()


def build_reports(
    settings: Settings,
    year: int,
    department: str | None = None,
    source: Path | str | None = None,
    unit: Unit | None = None,
    pdf: bool = True,
) -> list[Path]:
    """Build the year's reports from the marts and return the written files (生成年度报告).

    ``department`` limits the run to that department's report and its projects' forms (no
    region reports). ``source`` defaults to the published marts (with
    ``JIXIAO_WAREHOUSE=postgres`` the server's ``published`` schema), else the working
    warehouse.
    ``pdf=False`` skips printing (tests of figures that need no browser).
    ``unit`` is the money unit of the department/region reports (万元 ``wan`` or 元 ``yuan``);
    without one, ``$JIXIAO_REPORT_UNIT``, else 万元.
    Raises ``ReportDataError`` when the marts lack the year, the department or a table.
    """
    if unit is None:
        unit = os.environ.get(UNIT_ENV) or "wan"  # type: ignore[assignment]
    if unit not in UNITS:
        raise ReportDataError(
            f"金额单位只能是 wan（万元）或 yuan（元），收到 {unit!r}。"
            f" / The money unit must be 'wan' or 'yuan', got {unit!r}."
        )
    data = load_year(source or default_source(settings), year, settings)
    now = datetime.now(UTC).replace(microsecond=0)
    out = settings.reports / str(year)
    scopes = department_scopes(data, department)
    if department is not None and not scopes:
        known = "、".join(d["department_name"] for d in data.departments)
        raise ReportDataError(
            f"{year} 年度集市中找不到部门“{department}”（已有：{known}）。"
            f" / Department {department!r} not found in the {year} marts."
        )
    written: list[Path] = []
    projects = (
        [p for s in scopes for p in (*s.projects, *s.subprojects)] if department else data.projects
    )
    for p in projects:
        path = out / "projects" / selfeval_filename(p)
        written.append(write_selfeval(data, p["project_key"], path, now))
    for scope in scopes:
        written += _write_scope(scope, data, out / "departments", now, unit)
    if department is None:
        for scope in region_scopes(data):
            written += _write_scope(scope, data, out / "regions", now, unit)
    if pdf:
        pdfs, _warning = write_pdfs([p for p in written if p.suffix == ".html"], out)
        written += pdfs
    if department is None:
        keep = set(written)
        if not pdf:  # a run without printing keeps the PDFs of pages it wrote again
            keep |= {p.with_suffix(".pdf") for p in written if p.suffix == ".html"}
        _remove_stale(out, keep)
    return written


def pdf_notice(settings: Settings, year: int) -> str | None:
    """The year's "no PDF" notice, if the last run could not print (PDF 未生成说明)."""
    notice = settings.reports / str(year) / NOTICE_NAME
    return notice.read_text(encoding="utf-8").strip() if notice.exists() else None
