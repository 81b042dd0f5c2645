"""Feedback to the submitting department (报送反馈表), one workbook and CSV per received file.

Like the error and warning files that USAspending's Data Broker gives agencies: for every
file received (loaded or quarantined) the department gets
``settings.feedback/<department>/<file stem>.反馈.xlsx`` and a ``.反馈.csv`` (UTF-8 with BOM,
so Excel opens it) with the same rows, one per error or warning: severity, file, sheet,
cell, the value seen, what was expected, the message in Chinese and English, and how to fix
it (``REASON_FIXES``). A quarantined file is one error row for the file; a file quarantined
before its department was read goes to :data:`UNKNOWN_DEPARTMENT`.

Sources, read-only from the working warehouse (each optional, columns checked first):
``raw.load_log`` (files and quarantines), ``raw.rejected_rows`` (row errors),
``raw.submissions`` / ``raw.projects`` (department of each file), ``load_log.sheets_ignored``
(sheets not read: warnings) and ``marts.mart_review_flags`` (review findings on the file's
current submissions: warnings, or errors where the flag type says so).

``settings.feedback/index.json`` lists every file with its paths relative to the home, so
the stewards' quality report can link to them. A file's feedback is rewritten only when its
content changed (a digest per file is kept in the index); files no longer produced are
removed. Every cell goes through the safe writers of :mod:`jixiao.reports.xlsx_common`:
clerks' text is hostile text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from jixiao import rules
from jixiao.config import Settings, duckdb_connect
from jixiao.ingest.errors import REASON_CODES, REASON_FIXES
from jixiao.reports.safety import clean_text, neutralise, safe_filename
from jixiao.reports.xlsx_common import (
    BOLD,
    CENTER,
    HEADER_FILL,
    LEFT,
    TITLE,
    header,
    merge,
    print_a4,
    put,
    save_workbook,
)
from jixiao.warehouse import db

FORMAT_VERSION = 1
"""Bumped when the layout changes, so every feedback file is rewritten once."""

UNKNOWN_DEPARTMENT = "未识别部门_unknown_department"
"""Folder for files quarantined before a department could be read (未识别部门)."""

SUFFIX_XLSX = ".反馈.xlsx"
SUFFIX_CSV = ".反馈.csv"
INDEX_NAME = "index.json"

SEVERITY_LABELS = {"error": "错误 · error", "warning": "警告 · warning"}
STATUS_LABELS = {"loaded": "已载入 · loaded", "quarantined": "已隔离 · quarantined"}
_SKIPPED_STATUSES = ("skipped_unchanged", "duplicate")

#: (key, Chinese header, English header, column width)
COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("severity", "严重程度", "Severity", 11),
    ("file", "文件", "File", 20),
    ("sheet", "工作表", "Sheet", 14),
    ("cell", "单元格", "Cell", 8),
    ("value", "所见值", "Value seen", 16),
    ("expected", "应为", "Expected", 18),
    ("message_zh", "说明（中文）", "Message (Chinese)", 34),
    ("message_en", "说明（英文）", "Message (English)", 34),
    ("fix_zh", "修改方法（中文）", "How to fix (Chinese)", 34),
    ("fix_en", "修改方法（英文）", "How to fix (English)", 34),
    ("reason_code", "原因代码", "Reason code", 16),
)
NCOLS = len(COLUMNS)
CSV_HEADER = [f"{zh} {en}" for _, zh, en, _ in COLUMNS]

ERROR_FILL = PatternFill("solid", fgColor="F8D7DA")
WARNING_FILL = PatternFill("solid", fgColor="FFF2A8")

GENERIC_FIX = (
    "请按说明核对所示单元格，改正后重新报送。",
    "Check the cell shown against the message, correct it and resubmit.",
)
SHEET_FIXES: dict[str, tuple[str, str]] = {
    "hidden": (
        "隐藏的工作表不会被读取。如其中有需要报送的数据，请取消隐藏后重新报送；否则无需处理。",
        "Hidden sheets are not read. If it holds data to submit, unhide it and resubmit; "
        "otherwise nothing to do.",
    ),
}
SHEET_FIXES["unknown_layout"] = (
    "该工作表的表格未被识别，其中的数据没有载入。如需报送，请按模板的表头整理后重新报送；否则无需处理。",
    "The table on this sheet was not recognised and its data was not loaded. If it is to be "
    "submitted, arrange it with the template's headers and resubmit; otherwise nothing to do.",
)
#: sheets a template is expected to carry (说明页、封面、空表): ignored without a warning
BENIGN_SHEETS = frozenset({"instructions", "cover", "empty"})
SHEET_FIX_OTHER = (
    "该工作表未被读取。如其中有需要报送的数据，请按模板整理成普通工作表后重新报送；否则无需处理。",
    "This sheet was not read. If it holds data to submit, arrange it as an ordinary worksheet "
    "as in the template and resubmit; otherwise nothing to do.",
)
#: review flag code -> how to fix (Chinese, English): seeds/review_flag_types.csv's fix_zh and
#: fix_en, beside the flag's title and severity (规则即数据)
FLAG_FIXES: dict[str, tuple[str, str]] = {
    r["flag_code"]: (r["fix_zh"], r["fix_en"])
    for r in rules.seed("review_flag_types")
    if r["fix_zh"] and r["fix_en"]
}
FLAG_FIX_OTHER = (
    "请核对该项目的相关数据；如有误请改正后重新报送，如无误可在偏差原因中说明。",
    "Check the project's figures; correct and resubmit if wrong, or explain in the deviation "
    "reason if right.",
)


@dataclass(frozen=True)
class FeedbackRow:
    """One error or warning a clerk can act on (反馈行)."""

    severity: str  # error | warning
    file: str
    sheet: str
    cell: str
    value: str
    expected: str
    message_zh: str
    message_en: str
    fix_zh: str
    fix_en: str
    reason_code: str

    def cells(self) -> list[str]:
        """The row as written to the workbook and the CSV (Chinese label first)."""
        values = asdict(self)
        values["severity"] = SEVERITY_LABELS[self.severity]
        return [_text(values[key]) for key, *_ in COLUMNS]


@dataclass
class FileFeedback:
    """Everything one received file's feedback holds (单个文件的反馈)."""

    file_name: str
    file_hash: str
    department: str | None
    received_at: datetime | None
    status: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows: list[FeedbackRow] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if r.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for r in self.rows if r.severity == "warning")

    def digest(self) -> str:
        """A stable hash of the content (no generation time): rewrite only when it changes."""
        payload = {
            "v": FORMAT_VERSION,
            "file": self.file_name,
            "sha256": self.file_hash,
            "department": self.department,
            "received_at": _when(self.received_at),
            "status": self.status,
            "counts": [self.rows_read, self.rows_loaded, self.rows_rejected],
            "rows": [r.cells() for r in self.rows],
        }
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(value: Any) -> str:
    """Cell text, cleaned and neutralised (clerks' text is hostile text)."""
    if value is None:
        return ""
    return str(neutralise(str(value)))


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    return str(value)


# -- reading the warehouse -------------------------------------------------------------------


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return db.columns(con, schema).get(table, set())


def _select(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    wanted: Iterable[str],
    where: str = "",
    order: str = "",
) -> list[dict[str, Any]]:
    """Rows of ``schema.table`` as dicts; a missing column reads as None, a missing table as []."""
    have = _columns(con, schema, table)
    if not have:
        return []
    wanted = list(wanted)
    exprs = [f'"{c}"' if c in have else f'null as "{c}"' for c in wanted]
    sql = f'select {", ".join(exprs)} from "{schema}"."{table}" {where} {order}'
    cur = con.execute(sql)
    return [dict(zip(wanted, row, strict=True)) for row in cur.fetchall()]


def _col_index(cell: str | None) -> int | None:
    """0-based column of an Excel reference: 'G19' -> 6 (列号)."""
    if not cell:
        return None
    letters = "".join(ch for ch in cell.upper() if "A" <= ch <= "Z")
    if not letters or len(letters) > 3:
        return None
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _value_seen(raw_values: str | None, cell: str | None) -> str:
    """The cell's text as the clerk typed it, from the row's recorded values (所见值)."""
    if not raw_values:
        return ""
    try:
        values = json.loads(raw_values)
    except (TypeError, ValueError):
        return ""
    if not isinstance(values, list):
        return ""
    col = _col_index(cell)
    if col is not None:
        return str(values[col]) if col < len(values) and values[col] is not None else ""
    text = " | ".join(str(v) for v in values if v not in (None, ""))
    return text if len(text) <= 200 else text[:199] + "…"


def _fix(code: str | None) -> tuple[str, str]:
    return REASON_FIXES.get(code or "", GENERIC_FIX)


def _received_files(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The latest attempt of every received file (one per SHA-256), skips left out."""
    wanted = [
        "load_id",
        "file_hash",
        "file_name",
        "received_at",
        "loaded_at",
        "status",
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "reason_code",
        "message_zh",
        "message_en",
        "sheets_ignored",
        "sheet_name",
        "cell_ref",
        "expected",
        "department_name",
    ]
    rows = _select(con, "raw", "load_log", wanted, order="order by loaded_at, file_name")
    latest: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["status"] in _SKIPPED_STATUSES:
            continue
        latest[r["file_hash"]] = r  # ordered by loaded_at: the last attempt wins
    return list(latest.values())


def _departments(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """file_hash -> the department its rows name (most rows win; ties: first by name)."""
    counts: dict[str, Counter[str]] = {}
    for table in ("submissions", "projects"):
        if not {"file_hash", "department_name"} <= _columns(con, "raw", table):
            continue
        rows = con.execute(
            f"select file_hash, department_name, count(*) from raw.{table}"
            " where department_name is not null group by all"
        ).fetchall()
        for file_hash, department, n in rows:
            counts.setdefault(file_hash, Counter())[department] += n
    return {h: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for h, c in counts.items()}


def _rejected(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[dict[str, Any]]]:
    wanted = [
        "load_id",
        "file_hash",
        "sheet_name",
        "row_number",
        "cell_ref",
        "reason_code",
        "expected",
        "message_zh",
        "message_en",
        "raw_values",
    ]
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in _select(con, "raw", "rejected_rows", wanted, order="order by rowid"):
        out.setdefault((r["file_hash"], r["load_id"]), []).append(r)
    return out


def _flags(
    con: duckdb.DuckDBPyConnection, loaded: set[str]
) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """file_hash -> (review flag, sheet) for flags on the file's current submissions."""
    flags = _select(
        con,
        "marts",
        "mart_review_flags",
        [
            "flag_code",
            "severity",
            "project_key",
            "fiscal_year",
            "message_zh",
            "message_en",
            "detail",
        ],
        where="where severity in ('warning', 'error')",
        order="order by project_key, fiscal_year, flag_code, detail",
    )
    if not flags:
        return {}
    subs = _select(
        con,
        "raw",
        "submissions",
        ["file_hash", "sheet_name", "project_key", "fiscal_year", "loaded_at"],
        order="order by loaded_at, file_hash, sheet_name",
    )
    # the current version of each (project, year): raw._submission_versions, the one definition
    # dbt and the gates read (by the document's own dates); a warehouse without the view
    # (never ingested since it was added) falls back to the latest load
    versions = _select(
        con,
        "raw",
        "_submission_versions",
        ["file_hash", "project_key", "fiscal_year", "is_current"],
        where="where is_current",
    )
    current_file = {(v["project_key"], v["fiscal_year"]): v["file_hash"] for v in versions}
    current: dict[tuple[str, int], dict[str, Any]] = {}
    for s in subs:
        key = (s["project_key"], s["fiscal_year"])
        if s["file_hash"] in loaded and current_file.get(key, s["file_hash"]) == s["file_hash"]:
            current[key] = s  # among the current file's sheets, the last one
    out: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for f in flags:
        targets: list[dict[str, Any] | None]
        if f["fiscal_year"] is not None:
            targets = [current.get((f["project_key"], f["fiscal_year"]))]
        else:
            targets = [sub for (key, _), sub in current.items() if key == f["project_key"]]
        seen: set[str] = set()
        for sub in targets:
            if sub is not None and sub["file_hash"] not in seen:
                seen.add(sub["file_hash"])
                out.setdefault(sub["file_hash"], []).append((f, sub["sheet_name"] or ""))
    return out


def _file_rows(
    f: dict[str, Any],
    rejected: list[dict[str, Any]],
    flags: list[tuple[dict[str, Any], str]],
) -> list[FeedbackRow]:
    name = f["file_name"]
    rows: list[FeedbackRow] = []
    if f["status"] == "quarantined":
        code = f["reason_code"] or "unreadable"
        zh, en = REASON_CODES.get(code, ("文件被隔离", "file quarantined"))
        rows.append(
            FeedbackRow(
                "error",
                name,
                f["sheet_name"] or "",
                f["cell_ref"] or "",
                "",
                f["expected"] or "",
                f["message_zh"] or zh,
                f["message_en"] or en,
                *_fix(code),
                code,
            )
        )
    for r in rejected:
        rows.append(
            FeedbackRow(
                "error",
                name,
                r["sheet_name"] or "",
                r["cell_ref"] or (str(r["row_number"]) if r["row_number"] is not None else ""),
                _value_seen(r["raw_values"], r["cell_ref"]),
                r["expected"] or "",
                r["message_zh"] or "",
                r["message_en"] or "",
                *_fix(r["reason_code"]),
                r["reason_code"] or "",
            )
        )
    for ignored in _ignored_sheets(f["sheets_ignored"]):
        why = str(ignored.get("why") or "")
        if why in BENIGN_SHEETS:
            continue
        rows.append(
            FeedbackRow(
                "warning",
                name,
                str(ignored.get("sheet") or ""),
                "",
                "",
                "",
                str(ignored.get("message_zh") or "工作表未读取"),
                str(ignored.get("message_en") or "sheet not read"),
                *SHEET_FIXES.get(why, SHEET_FIX_OTHER),
                f"sheet_{why}" if why else "sheet_ignored",
            )
        )
    for flag, sheet in flags:
        code = flag["flag_code"] or ""
        rows.append(
            FeedbackRow(
                "error" if flag["severity"] == "error" else "warning",
                name,
                sheet,
                "",
                str(flag["detail"] or ""),
                "",
                flag["message_zh"] or "",
                flag["message_en"] or "",
                *FLAG_FIXES.get(code, FLAG_FIX_OTHER),
                code,
            )
        )
    return rows


def _ignored_sheets(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    try:
        items = json.loads(text)
    except (TypeError, ValueError):
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def collect_feedback(settings: Settings) -> list[FileFeedback]:
    """Read the feedback of every received file from the warehouse (read-only) (收集反馈)."""
    warehouse = settings.warehouse
    if not warehouse.exists():
        return []
    with duckdb_connect(settings, warehouse, read_only=True) as con:
        files = _received_files(con)
        departments = _departments(con)
        rejected = _rejected(con)
        flags = _flags(con, {f["file_hash"] for f in files if f["status"] != "quarantined"})
    out: list[FileFeedback] = []
    for f in files:
        h = f["file_hash"]
        out.append(
            FileFeedback(
                file_name=f["file_name"],
                file_hash=h,
                department=departments.get(h) or f["department_name"] or None,
                received_at=f["received_at"],
                status=f["status"],
                rows_read=int(f["rows_read"] or 0),
                rows_loaded=int(f["rows_loaded"] or 0),
                rows_rejected=int(f["rows_rejected"] or 0),
                rows=_file_rows(f, rejected.get((h, f["load_id"]), []), flags.get(h, [])),
            )
        )
    return out


# -- names -----------------------------------------------------------------------------------


def department_folder(department: str | None) -> str:
    """A safe folder name for ``department`` (部门目录名); Chinese kept, hash if altered."""
    if not department or not clean_text(department).strip():
        return UNKNOWN_DEPARTMENT
    name = safe_filename(department, max_len=80)
    if name != unicodedata.normalize("NFC", department):
        name = safe_filename(department, key=department, max_len=80)
    return name


def _stems(items: list[FileFeedback]) -> dict[str, str]:
    """file_hash -> file stem in its folder; the newest file of a name keeps the plain stem."""
    groups: dict[tuple[str, str], list[FileFeedback]] = {}
    for fb in items:
        stem = safe_filename(Path(clean_text(fb.file_name)).stem or fb.file_name, max_len=80)
        groups.setdefault((department_folder(fb.department), stem), []).append(fb)
    out: dict[str, str] = {}
    for (_, stem), group in groups.items():
        group.sort(key=lambda fb: (_when(fb.received_at), fb.file_hash), reverse=True)
        for i, fb in enumerate(group):
            out[fb.file_hash] = stem if i == 0 else f"{stem}_{fb.file_hash[:8]}"
    return out


# -- writing ---------------------------------------------------------------------------------


def _display_width(text: str) -> float:
    """Width in column units: a CJK character about two, a Latin one a little under one."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 0.85 for ch in text)


def _row_height(values: list[str], widths: list[int]) -> float:
    """Enough height for the wrapped text of the tallest cell (行高, 13.5 points a line).

    Excel does not grow rows for wrapped text written by a library, so the writer
    estimates it (checked by rendering with LibreOffice: no cut-off text, little slack).
    """
    lines = 1
    for text, width in zip(values, widths, strict=True):
        chars = max(width - 1, 1)
        n = sum(max(1, math.ceil(_display_width(part) / chars)) for part in text.split("\n"))
        lines = max(lines, n)
    return 13.5 * min(lines, 20) + 4


def _summary(ws: Worksheet, fb: FileFeedback) -> int:
    """The block above the table: file, department, received at, status, counts (概要)."""
    department = (
        fb.department or "未识别（读出部门之前已被隔离）· unknown (quarantined before it was read)"
    )
    items: list[tuple[str, Any, str]] = [
        ("文件 · File", fb.file_name, "text"),
        ("报送部门 · Department", department, "text"),
        ("接收时间 · Received at", _when(fb.received_at), "text"),
        ("状态 · Status", STATUS_LABELS.get(fb.status, fb.status), "text"),
        ("读取行数 · Rows read", fb.rows_read, "int"),
        ("载入行数 · Rows loaded", fb.rows_loaded, "int"),
        ("拒绝行数 · Rows rejected", fb.rows_rejected, "int"),
        ("错误 · Errors", fb.errors, "int"),
        ("警告 · Warnings", fb.warnings, "int"),
        ("SHA-256", fb.file_hash, "text"),
    ]
    row = 3
    for label, value, kind in items:
        put(ws, row, 1, label, bold=True, fill=HEADER_FILL)
        merge(ws, row, 1, row, 2)
        put(ws, row, 3, value, kind, align=LEFT)  # type: ignore[arg-type]
        merge(ws, row, 3, row, 6)
        row += 1
    note = (
        "下表每行是一处错误或警告。错误：该行（或整个文件）未载入，请按“修改方法”改正原工作簿后重新报送；"
        "警告：已载入，请核对。 / Each row below is one error or warning. Error: the row (or the "
        "whole file) was not loaded; correct the original workbook as the fix says and resubmit. "
        "Warning: loaded, please check."
    )
    row += 1
    put(ws, row, 1, note, border=False)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=NCOLS)
    ws.row_dimensions[row].height = 33
    return row + 2


def _workbook(fb: FileFeedback) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "反馈 Feedback"
    cell = put(ws, 1, 1, f"数据报送反馈表 · Submission feedback：{fb.file_name}", border=False)
    cell.font = TITLE
    cell.alignment = CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=NCOLS)
    ws.row_dimensions[1].height = 30
    top = _summary(ws, fb)
    for c, (_, zh, en, _w) in enumerate(COLUMNS, start=1):
        header(ws, top, c, f"{zh}\n{en}")
    ws.row_dimensions[top].height = 33
    widths = [w for *_, w in COLUMNS]
    row = top
    for item in fb.rows:
        row += 1
        values = item.cells()
        fill = ERROR_FILL if item.severity == "error" else WARNING_FILL
        for c, value in enumerate(values, start=1):
            put(ws, row, c, value, fill=fill if c == 1 else None, bold=c == 1)
        ws.row_dimensions[row].height = _row_height(values, widths)
    last = row
    ref = f"{quote_sheetname(ws.title)}!$A${top}:${get_column_letter(NCOLS)}${last}"
    wb.defined_names["t_feedback"] = DefinedName("t_feedback", attr_text=ref)
    if fb.rows:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(NCOLS)}{last}"
    else:
        put(ws, top + 1, 1, "未发现错误或警告。 / No errors or warnings.", bold=True, border=False)
        ws.merge_cells(start_row=top + 1, start_column=1, end_row=top + 1, end_column=NCOLS)
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    print_a4(ws, landscape=True, title_rows=f"{top}:{top}")
    ws.cell(row=3, column=1).font = BOLD
    return wb


def csv_text(fb: FileFeedback) -> str:
    """The CSV rows (header + one per error or warning), the same texts as the workbook."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for item in fb.rows:
        writer.writerow(item.cells())
    return buf.getvalue()


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read_index(path: Path) -> dict[str, dict[str, Any]]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(items, list):
        return {}
    return {str(i.get("xlsx")): i for i in items if isinstance(i, dict)}


def _remove_stale(root: Path, keep: set[Path]) -> None:
    """Drop feedback files that no received file produces any more (过期反馈)."""
    for suffix in (SUFFIX_XLSX, SUFFIX_CSV):
        for f in sorted(root.rglob(f"*{suffix}")):
            if f.is_file() and not f.is_symlink() and f not in keep:
                f.unlink()
    for d in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        if not any(d.iterdir()):
            d.rmdir()


def write_feedback(settings: Settings) -> list[Path]:
    """Write every received file's feedback workbook and CSV, and ``index.json`` (写出反馈).

    Returns the current feedback files (xlsx, csv per file) followed by the index. A file's
    feedback is rewritten only when its content changed since the last run.
    """
    root = settings.feedback
    root.mkdir(parents=True, exist_ok=True)
    index_path = root / INDEX_NAME
    previous = _read_index(index_path)
    items = collect_feedback(settings)
    stems = _stems(items)
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    entries: list[dict[str, Any]] = []
    paths: list[Path] = []
    items.sort(key=lambda fb: (department_folder(fb.department), stems[fb.file_hash]))
    for fb in items:
        folder = root / department_folder(fb.department)
        xlsx = folder / f"{stems[fb.file_hash]}{SUFFIX_XLSX}"
        csv_path = folder / f"{stems[fb.file_hash]}{SUFFIX_CSV}"
        rel_xlsx = xlsx.relative_to(settings.home).as_posix()
        digest = fb.digest()
        old = previous.get(rel_xlsx)
        if not (old and old.get("digest") == digest and xlsx.is_file() and csv_path.is_file()):
            save_workbook(_workbook(fb), xlsx, f"{fb.file_name} 报送反馈 · feedback", now)
            _write_bytes(csv_path, csv_text(fb).encode("utf-8-sig"))
        entries.append(
            {
                "file": clean_text(fb.file_name),  # shown by the quality report: no bidi
                "sha256": fb.file_hash,
                "department": clean_text(fb.department) if fb.department else None,
                "status": fb.status,
                "received_at": _when(fb.received_at),
                "xlsx": rel_xlsx,
                "csv": csv_path.relative_to(settings.home).as_posix(),
                "errors": fb.errors,
                "warnings": fb.warnings,
                "digest": digest,
            }
        )
        paths += [xlsx, csv_path]
    _remove_stale(root, set(paths))
    text = json.dumps(entries, ensure_ascii=False, indent=2) + "\n"
    if not index_path.is_file() or index_path.read_text(encoding="utf-8") != text:
        _write_bytes(index_path, text.encode("utf-8"))
    return [*paths, index_path]
