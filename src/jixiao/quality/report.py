"""The data stewards' quality report (数据质量报告): a static HTML page per night.

``build_quality_report(settings)`` writes ``<JIXIAO_HOME>/quality/index.html`` from the raw
load log, rejected rows, the latest gate results (``quality/gates/*.json``), the marts'
review flags and the run history. It needs no network (CSS inline, chart as inline SVG, no
scripts) and works before dbt has run (raw only) and on an empty warehouse.

The top of the page is the run it reports on (``quality/runs/<run id>.json``, see
:mod:`jixiao.runs`): every stage with its own status and times, and "not run" for a stage the
run never reached. Gate results from another run are labelled as earlier results, never as
this run's. It also shows the last publish with any gate override, and links the
departments' feedback workbooks listed in ``feedback/index.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jixiao import runs
from jixiao.config import Settings, duckdb_connect
from jixiao.quality import context as gxctx
from jixiao.quality.gates import history_path
from jixiao.warehouse import db

TEMPLATE = Path(__file__).with_name("templates") / "quality_report.html.j2"
TREND_NIGHTS = 14
ROW_LIMIT = 500
UNKNOWN_DEPT = "（未识别部门 / unknown department）"


@dataclass
class DeptYear:
    """Workbook counts for one department and year (部门年度报送统计)."""

    department: str
    year: int | None
    received: int = 0
    loaded: int = 0
    skipped: int = 0
    duplicate: int = 0
    superseded: int = 0
    quarantined: int = 0
    rejected_rows: int = 0


@dataclass
class ReportData:
    """Everything the template shows (报告数据)."""

    generated_at: str
    warehouse_found: bool
    marts_found: bool
    totals: dict[str, int]
    dept_years: list[DeptYear]
    quarantined: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    rejected_total: int
    gates: list[dict[str, Any]]
    data_docs: str | None
    flags: list[dict[str, Any]]
    flags_total: int
    trend: list[dict[str, Any]]
    trend_svg: str
    notes: list[str] = field(default_factory=list)
    run: dict[str, Any] | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    publishes: list[dict[str, Any]] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)


def build_quality_report(settings: Settings, run_id: str | None = None) -> Path:
    """Write ``quality/index.html`` for run ``run_id`` (default: the latest recorded run) and
    return its path (生成数据质量报告)."""
    settings.quality.mkdir(parents=True, exist_ok=True)
    report = collect(settings, run_id)
    html = render(report)
    out = settings.quality / "index.html"
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


def collect(settings: Settings, run_id: str | None = None) -> ReportData:
    """Gather the report's figures from the warehouse, the gate results and the run record."""
    rel = _Relations(settings)
    try:
        dept_years, quarantined, totals = _workbooks(rel, settings)
        rejected, rejected_total = _rejected(rel, dept_years)
        flags, flags_total = _flags(rel)
        night_files = rel.query(
            "select cast(loaded_at as date) as night, count(*) from raw.load_log group by 1",
            needs=("raw.load_log",),
        )
        night_rejects = rel.query(
            "select cast(loaded_at as date) as night, count(*) from raw.rejected_rows group by 1",
            needs=("raw.rejected_rows",),
        )
    finally:
        rel.close()
    totals["rejected_rows"] = rejected_total
    run = runs.load_run(settings, run_id) if run_id else runs.latest_run(settings)
    if run is None and run_id:
        run = {"run_id": run_id, "started_at": None, "stages": {}}
    gates = _gates(settings, run)
    # the summary counts this run's gate results only (an earlier run's are labelled below)
    counted = [g for g in gates if g["current"]] if run and run.get("stages") else gates
    totals["critical_failures"] = sum(g["critical_failure_count"] for g in counted)
    totals["warnings"] = sum(g["warning_count"] for g in counted)
    totals["review_flags"] = flags_total
    trend = _trend(night_files, night_rejects, _history(settings))
    docs = gxctx.data_docs_index(settings)
    return ReportData(
        generated_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        warehouse_found=rel.found,
        marts_found=rel.has("marts.mart_review_flags"),
        totals=totals,
        dept_years=sorted(dept_years.values(), key=lambda d: (d.department, d.year or 0)),
        quarantined=quarantined,
        rejected=rejected,
        rejected_total=rejected_total,
        gates=gates,
        data_docs=os.path.relpath(docs, settings.quality) if docs.is_file() else None,
        flags=flags,
        flags_total=flags_total,
        trend=trend,
        trend_svg=trend_svg(trend),
        run=run,
        stages=runs.stage_rows(run),
        publishes=(publishes := _publishes(settings)),
        overrides=[p for p in publishes if p.get("override")],
        feedback=_feedback(settings),
    )


class _Relations:
    """A read-only warehouse connection that tolerates missing tables (缺表容错)."""

    def __init__(self, settings: Settings) -> None:
        self.con: Any = None
        self.existing: set[str] = set()
        self.found = settings.warehouse.is_file()
        if self.found:
            self.con = duckdb_connect(settings, settings.warehouse, read_only=True)
            self.existing = db.relations(self.con)

    def has(self, *names: str) -> bool:
        return all(n in self.existing for n in names)

    def query(self, sql: str, needs: tuple[str, ...]) -> list[tuple[Any, ...]]:
        if self.con is None or not self.has(*needs):
            return []
        return list(self.con.execute(sql).fetchall())

    def records(self, sql: str, needs: tuple[str, ...]) -> list[dict[str, Any]]:
        if self.con is None or not self.has(*needs):
            return []
        cur = self.con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        if self.con is not None:
            self.con.close()


def _workbooks(
    rel: _Relations, settings: Settings
) -> tuple[dict[tuple[str, int | None], DeptYear], list[dict[str, Any]], dict[str, int]]:
    """Per department and year: files received / loaded / skipped / superseded / quarantined."""
    files = rel.records(
        """
        select l.file_hash, l.file_name, l.status, l.loaded_at, l.reason_code, l.message_zh,
               l.message_en, l.quarantine_path, s.department_name, s.fiscal_year
        from raw.load_log as l
        left join (select distinct file_hash, department_name, fiscal_year
                   from raw.submissions) as s
            on s.file_hash = l.file_hash
        order by l.loaded_at
        """,
        needs=("raw.load_log", "raw.submissions"),
    )
    superseded = rel.records(
        """
        select department_name, fiscal_year, count(distinct file_hash) as n
        from raw._submission_versions
        where not is_current
        group by 1, 2
        """,
        needs=("raw._submission_versions",),
    )
    stats: dict[tuple[str, int | None], DeptYear] = {}
    field_of = {
        "loaded": "loaded",
        "skipped_unchanged": "skipped",
        "duplicate": "duplicate",
        "quarantined": "quarantined",
    }
    totals: dict[str, int] = defaultdict(int)
    quarantined: list[dict[str, Any]] = []
    counted: set[tuple[Any, ...]] = set()  # a file spanning several years counts once in totals
    for f in files:
        key = (f["department_name"] or UNKNOWN_DEPT, f["fiscal_year"])
        d = stats.setdefault(key, DeptYear(*key))
        d.received += 1
        name = field_of.get(f["status"])
        if name:
            setattr(d, name, getattr(d, name) + 1)
        attempt = (f["file_hash"], f["status"], f["loaded_at"])
        if attempt in counted:
            continue
        counted.add(attempt)
        if name:
            totals[name] += 1
        totals["received"] += 1
        if f["status"] == "quarantined":
            quarantined.append({**f, "link": _link(settings, f["quarantine_path"])})
    for s in superseded:
        key = (s["department_name"], s["fiscal_year"])
        stats.setdefault(key, DeptYear(*key)).superseded += int(s["n"])
        totals["superseded"] += int(s["n"])
    for k in ("received", "loaded", "skipped", "duplicate", "superseded", "quarantined"):
        totals.setdefault(k, 0)
    return stats, quarantined, dict(totals)


def _link(settings: Settings, path: str | None) -> str | None:
    """A relative link from the report to a kept (quarantined) file (隔离文件链接)."""
    if not path:
        return None
    p = Path(path)
    if not p.is_absolute():
        p = settings.home / p
    return Path(os.path.relpath(p, settings.quality)).as_posix()


def _rejected(
    rel: _Relations, stats: dict[tuple[str, int | None], DeptYear]
) -> tuple[list[dict[str, Any]], int]:
    rows = rel.records(
        f"""
        select r.file_name, r.sheet_name, r.row_number, r.cell_ref, r.reason_code,
               r.expected, r.message_zh, r.message_en, r.loaded_at,
               s.department_name, s.fiscal_year
        from raw.rejected_rows as r
        left join (select distinct file_hash, department_name, fiscal_year
                   from raw.submissions) as s
            on s.file_hash = r.file_hash
        order by r.loaded_at desc, r.file_name, r.sheet_name, r.row_number
        limit {ROW_LIMIT}
        """,
        needs=("raw.rejected_rows", "raw.submissions"),
    )
    counts = rel.query(
        """
        select s.department_name, s.fiscal_year, count(*)
        from raw.rejected_rows as r
        left join (select distinct file_hash, department_name, fiscal_year
                   from raw.submissions) as s
            on s.file_hash = r.file_hash
        group by 1, 2
        """,
        needs=("raw.rejected_rows", "raw.submissions"),
    )
    total = 0
    for dept, year, n in counts:
        key = (dept or UNKNOWN_DEPT, year)
        stats.setdefault(key, DeptYear(*key)).rejected_rows += int(n)
        total += int(n)
    return rows, total


def _flags(rel: _Relations) -> tuple[list[dict[str, Any]], int]:
    needs = ("marts.mart_review_flags",)
    flags = rel.records(
        f"""
        select f.*, p.project_name, p.department_name
        from marts.mart_review_flags as f
        left join marts.dim_project as p on p.project_key = f.project_key
        order by f.fiscal_year desc, f.severity, f.flag_code, f.project_key
        limit {ROW_LIMIT}
        """
        if rel.has("marts.dim_project")
        else f"""
        select f.*, null as project_name, null as department_name
        from marts.mart_review_flags as f
        order by f.fiscal_year desc, f.severity, f.flag_code, f.project_key
        limit {ROW_LIMIT}
        """,
        needs=needs,
    )
    total = rel.query("select count(*) from marts.mart_review_flags", needs=needs)
    return flags, int(total[0][0]) if total else 0


def _gates(settings: Settings, run: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Latest result of every gate (``quality/gates/*.json``), newest first; ``current`` says
    whether it belongs to the run the report is about (本次运行的结果与较早的结果)."""
    run_id = (run or {}).get("run_id")
    out = []
    for path in sorted((settings.quality / "gates").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["file"] = path.name
        data.setdefault("run_id", None)
        data["current"] = run_id is not None and data["run_id"] == run_id
        out.append(data)
    return sorted(out, key=lambda g: g["run_at"], reverse=True)


PUBLISH_ROWS = 10


def _publishes(settings: Settings) -> list[dict[str, Any]]:
    """The last publishes, newest first, with any gate override (最近的发布与人工越过)."""
    from jixiao.publish.publisher import publish_history_path

    path = publish_history_path(settings)
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    return list(reversed(entries))[:PUBLISH_ROWS]


def _feedback(settings: Settings) -> list[dict[str, Any]]:
    """Feedback workbooks per department from ``feedback/index.json`` (部门反馈文件).

    Each entry of the index has ``file, sha256, department, xlsx, csv, errors, warnings``;
    paths are relative to the home. Returns ``[{"department", "files": [...]}]`` by name.
    """
    index = settings.feedback / "index.json"
    if not index.is_file():
        return []
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [{"department": UNKNOWN_DEPT, "files": [], "unreadable": str(index)}]
    by_dept: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in entries if isinstance(entries, list) else []:
        if not isinstance(e, dict):
            continue
        by_dept[str(e.get("department") or UNKNOWN_DEPT)].append(
            {
                "file": str(e.get("file") or ""),
                "sha256": str(e.get("sha256") or ""),
                "errors": e.get("errors") or 0,
                "warnings": e.get("warnings") or 0,
                "xlsx": _link(settings, e.get("xlsx")),
                "csv": _link(settings, e.get("csv")),
            }
        )
    return [{"department": d, "files": by_dept[d], "unreadable": None} for d in sorted(by_dept)]


def _history(settings: Settings) -> list[dict[str, Any]]:
    path = history_path(settings)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _trend(
    night_files: list[tuple[Any, ...]],
    night_rejects: list[tuple[Any, ...]],
    history: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Files, rejected rows and failed expectations per night, last ``TREND_NIGHTS`` nights."""
    nights: dict[str, dict[str, Any]] = {}

    def night(day: str) -> dict[str, Any]:
        return nights.setdefault(day, {"night": day, "files": 0, "rejects": 0, "failures": 0})

    for day, n in night_files:
        night(str(day))["files"] += int(n)
    for day, n in night_rejects:
        night(str(day))["rejects"] += int(n)
    for run in history:
        day = str(run["run_at"])[:10]
        night(day)["failures"] += int(run["critical_failures"]) + int(run["warnings"])
    return [nights[k] for k in sorted(nights)][-TREND_NIGHTS:]


SERIES = (
    ("files", "文件 files", "#2563eb"),
    ("rejects", "拒绝行 rejects", "#d97706"),
    ("failures", "未通过校验 failures", "#dc2626"),
)


def trend_svg(trend: list[dict[str, Any]], width: int = 720, height: int = 220) -> str:
    """A grouped bar chart as inline SVG (趋势图), no scripts, no external resources."""
    if not trend:
        return (
            f'<svg role="img" aria-label="no runs yet" width="{width}" height="60" '
            f'xmlns="http://www.w3.org/2000/svg"><text x="10" y="35" fill="#666">'
            "暂无运行记录 / no runs yet</text></svg>"
        )
    left, bottom, top = 40, 40, 16
    plot_h = height - bottom - top
    peak = max(max(t[k] for k, _, _ in SERIES) for t in trend) or 1
    slot = (width - left - 10) / len(trend)
    bar = max(2.0, min(18.0, slot / 4))
    parts = [
        f'<svg role="img" aria-label="trend" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 5}" y2="{top + plot_h}" '
        'stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for i, t in enumerate(trend):
        x0 = left + i * slot + (slot - 3 * bar) / 2
        for j, (key, label, colour) in enumerate(SERIES):
            h = plot_h * t[key] / peak
            parts.append(
                f'<rect class="bar-{key}" x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar - 1:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{t['night']} {label}: {t[key]}</title></rect>"
            )
        parts.append(
            f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle" font-size="10">{t["night"][5:]}</text>'
        )
    for j, (_, label, colour) in enumerate(SERIES):
        x = left + j * 170
        parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 5}" font-size="11">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(report: ReportData) -> str:
    """Render the template with autoescaping (HTML 渲染)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE.parent)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    # readable Chinese in sample rows: tojson keeps non-ASCII text (still escapes <, >, &, ')
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    return env.get_template(TEMPLATE.name).render(r=report)
