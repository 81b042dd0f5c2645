"""Per-file work that needs no database: scan, read, parse, Arrow (单个文件的解析，无需数据库).

:func:`prepare_file` is everything the loader does to one file before it writes: the
zip/XML safety scan, the calamine read, layout detection and value parsing, and the Arrow
tables for every raw table. It touches no DuckDB connection, so it runs either in the loading
process or in a worker process of a pool (``spawn``/``forkserver`` only; a process holding a
DuckDB connection is never forked). The single writer then only adds ``loaded_at`` and
``load_id`` and inserts the tables in one transaction per file.

The run context (department and name per project code, from ``raw.projects``) can change
while a batch loads, when a file carries a project register. Each :class:`Prepared` therefore
records the context values it actually read (``lookups``); the writer compares them with the
context at write time and parses the file again if any differ, so pooled and sequential
loads give the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from jixiao.ingest.errors import FileRejected, Rejection, RowRejection
from jixiao.ingest.layouts import extract
from jixiao.ingest.layouts.common import Extracted
from jixiao.ingest.security import Limits, check_file
from jixiao.ingest.versions import load_log_signals
from jixiao.ingest.workbook import read_workbook

Columns = dict[str, list[tuple[str, str]]]
#: what earlier loads say per project code: "departments" and "names" (code -> text) and
#: "budgets" (code -> {fiscal year: budget in yuan})
Context = dict[str, dict[str, Any]]
_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass
class Prepared:
    """One file scanned, read and parsed, ready for the writer (已解析、待写入的文件).

    Either ``rejection`` is set (the file is quarantined) or ``tables`` holds one Arrow table
    per raw table with rows, ``loaded_at`` (and ``load_id`` in ``rejected_rows``) still null.
    ``lookups`` maps each project code the parser looked up in the run context to the
    (department, name, budgets per year) it found there.
    """

    meta: dict[str, Any]
    rejection: Rejection | None = None
    tables: dict[str, pa.Table] = field(default_factory=dict)
    layout: str | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    sheets_ignored: list[dict[str, str]] = field(default_factory=list)
    detections: list[dict[str, Any]] = field(default_factory=list)
    lookups: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    @property
    def has_projects(self) -> bool:
        """True when this file writes ``raw.projects`` (it changes the run context)."""
        return "projects" in self.tables

    def context_still_valid(self, context: Context) -> bool:
        """Whether ``context`` answers every lookup this parse made the same way."""
        return all(_looked_up(context, k) == v for k, v in self.lookups.items())


def prepare_file(
    path: Path, meta: dict[str, Any], limits: Limits, context: Context, columns: Columns
) -> Prepared:
    """Scan, read and parse ``path`` into Arrow tables (扫描、读取、解析单个文件).

    ``path`` may be a snapshot with a made-up name: messages name ``meta["file_name"]``.
    A :class:`FileRejected` becomes ``Prepared.rejection``; so does any other exception
    (``parse_error``: the file, not the run, fails) and running out of memory
    (``resource_limit``, the worker's address-space limit). Never raises for a file's content.
    """
    name = str(meta.get("file_name") or path.name)
    seen: set[str] = set()
    try:
        report = check_file(path, limits)
        workbook = read_workbook(path, display_name=name, report=report)
        meta.update(load_log_signals(path, workbook.sheets))  # the document's own dates
        extracted = extract(workbook, context, lookups=seen)
        prepared = _to_prepared(meta, extracted, columns)
    except FileRejected as exc:
        return Prepared(meta=meta, rejection=exc.with_file(name).rejection)
    except MemoryError:
        return Prepared(meta=meta, rejection=resource_limit(name, limits, "memory"))
    except Exception as exc:  # any reader bug or library error: this file only (隔离)
        return Prepared(meta=meta, rejection=parse_error(name, exc))
    prepared.lookups = {k: _looked_up(context, k) for k in seen}
    return prepared


def _looked_up(context: Context, key: str) -> tuple[Any, ...]:
    """What ``context`` says about project code ``key`` (department, name, budgets)."""
    return tuple(context.get(part, {}).get(key) for part in ("departments", "names", "budgets"))


def parse_error(file: str, exc: BaseException, stage: str = "parse") -> Rejection:
    """The ``parse_error`` rejection for an unexpected exception (意外错误，仅隔离此文件).

    The exception's class and text go in the English message only; the Chinese one says
    what happened and what to do.
    """
    what_zh = "解析" if stage == "parse" else "写入数据仓库"
    what_en = "parsing" if stage == "parse" else "writing to the warehouse"
    detail = str(exc).replace("\n", " ")[:300]
    return Rejection(
        "parse_error",
        f"文件「{file}」在{what_zh}时发生意外错误，已隔离，其他文件照常载入；请把这个文件发给数据"
        "组排查（不必修改后重报，除非数据组要求）",
        f"an unexpected error ({type(exc).__name__}: {detail}) occurred while {what_en} the "
        f"file '{file}'; it was quarantined and the other files loaded. Send the file to the "
        "data team",
        file=file,
        expected="可正常解析的工作簿 / a workbook the reader can parse",
    )


def resource_limit(file: str, limits: Limits, what: str) -> Rejection:
    """The ``resource_limit`` rejection: memory (``what="memory"``), time or a dead worker."""
    mib = limits.max_worker_memory // (1 << 20)
    secs = f"{limits.max_parse_seconds:g}"
    zh, en = {
        "memory": (f"内存上限 {mib} MiB", f"the memory budget of {mib} MiB"),
        "time": (f"时间上限 {secs} 秒", f"the time budget of {secs} s"),
        "died": (
            f"资源上限（内存 {mib} MiB / 时间 {secs} 秒），解析进程被终止",
            f"the resource budget ({mib} MiB / {secs} s): the parsing process died",
        ),
    }[what]
    return Rejection(
        "resource_limit",
        f"解析文件「{file}」超出单个文件的{zh}，已隔离；请检查是否有大片合并单元格、整列/整行格式"
        "或大量空白行列，删除多余部分后另存为 .xlsx 再报送；如仍不行请发给数据组",
        f"parsing the file '{file}' exceeded {en} for one file; it was quarantined. Remove "
        "large merged areas, whole-column formatting or masses of empty rows/columns, save as "
        ".xlsx and resubmit; if that does not help, send the file to the data team",
        file=file,
        expected=f"<= {mib} MiB, <= {secs} s",
    )


def _to_prepared(meta: dict[str, Any], ex: Extracted, columns: Columns) -> Prepared:
    """Arrow tables for the data tables, submissions and rejected rows of one file."""
    digest, name = meta["file_hash"], meta["file_name"]
    lineage = {"file_hash": digest, "file_name": name}
    sub_ids = [
        f"{digest}:{s['sheet_name']}:{s['project_key']}:{s['fiscal_year']}" for s in ex.submissions
    ]
    tables: dict[str, pa.Table] = {}
    for table, rows in ex.tables.items():
        rows[:] = _in_range(table, rows, columns[table], ex.rejections)
        for r in rows:
            idx = r.pop("_submission", None)
            r["submission_id"] = sub_ids[idx] if idx is not None else None
            r.update(lineage)
        _put(tables, table, rows, columns)
    subs = [{**s, **lineage, "submission_id": sub_ids[i]} for i, s in enumerate(ex.submissions)]
    _put(tables, "submissions", subs, columns)
    _put(tables, "rejected_rows", [_rejected_row(meta, r) for r in ex.rejections], columns)
    loaded = {(r["sheet_name"], r["row_number"]) for t in ex.tables.values() for r in t}
    # a row can load and still carry a finding (a 得分率 that disagrees, kept with a
    # reported_mismatch): it counts once, as loaded, so rows_read = loaded + rejected holds
    rejected = {(r.sheet, r.row_number) for r in ex.rejections} - loaded
    return Prepared(
        meta=meta,
        tables=tables,
        layout="+".join(sorted(ex.layouts)),
        rows_loaded=len(loaded),
        rows_rejected=len(rejected),
        sheets_ignored=ex.ignored,
        detections=ex.detections,
    )


def decimal_bounds(duck_type: str) -> tuple[int, int] | None:
    """(precision, scale) of a DECIMAL(p,s) column type, else None."""
    t = duck_type.upper()
    if not t.startswith("DECIMAL"):
        return None
    p, s = (int(x) for x in t[t.index("(") + 1 : -1].split(","))
    return p, s


def decimal_fits(value: Any, precision: int, scale: int) -> bool:
    """True when ``value`` (None, int, float or Decimal) is finite and, rounded half-even to
    ``scale`` places as :func:`to_arrow` stores it, fits DECIMAL(precision, scale)."""
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return False
    try:
        d = value if isinstance(value, Decimal) else Decimal(repr(value))
        if not d.is_finite():
            return False
        q = d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_EVEN)
    except ArithmeticError:  # decimal.InvalidOperation: too many digits to quantize
        return False
    return abs(q) < Decimal(10) ** (precision - scale)


def _in_range(
    table: str,
    rows: list[dict[str, Any]],
    columns: list[tuple[str, str]],
    rejections: list[RowRejection],
) -> list[dict[str, Any]]:
    """``rows`` without those holding a decimal that is not finite or does not fit its column;
    each dropped row becomes a ``value_out_of_range`` rejection (数值范围检查，Arrow 之前).

    The last line before Arrow: pyarrow raises ArrowInvalid for NaN, Infinity or a number
    wider than DECIMAL(p,s), which would fail the whole file (or the run).
    """
    bounds = {c: b for c, t in columns if (b := decimal_bounds(t)) is not None}
    if not bounds:
        return rows
    kept = []
    for r in rows:
        bad = next(
            (
                (c, r[c], b)
                for c, b in bounds.items()
                if c in r and not decimal_fits(r[c], b[0], b[1])
            ),
            None,
        )
        if bad is None:
            kept.append(r)
            continue
        col, value, (p, sc) = bad
        sheet, row = str(r.get("sheet_name") or ""), int(r.get("row_number") or 0)
        cell = r.get("cell_ref") if isinstance(r.get("cell_ref"), str) else None
        where_zh = f"工作表「{sheet}」第 {row} 行" + (f"（单元格 {cell}）" if cell else "")
        where_en = f"sheet '{sheet}' row {row}" + (f" (cell {cell})" if cell else "")
        limit = f"10^{p - sc}"
        text = str(r.get("original_text") or value)
        rejections.append(
            RowRejection(
                sheet=sheet,
                row_number=row,
                cell=cell,
                reason_code="value_out_of_range",
                expected=f"|{col}| < {limit}（DECIMAL({p},{sc})），有限数 / finite",
                message_zh=f"{where_zh} 的 {col} 值 {text} 不是有限数或超出该列允许范围（绝对值"
                f"须小于 {limit}，最多 {sc} 位小数）；请检查该单元格的数字和金额单位后重新报送",
                message_en=f"{where_en}: {col} value {text} is not finite or out of the "
                f"column's range (absolute value below {limit}, {sc} decimal places); check "
                "the number and the amount unit in that cell and resubmit",
                raw_values=[str(value)],
            )
        )
    return kept


def _rejected_row(meta: dict[str, Any], r: Any) -> dict[str, Any]:
    return {
        "file_hash": meta["file_hash"],
        "file_name": meta["file_name"],
        "sheet_name": r.sheet,
        "row_number": r.row_number,
        "cell_ref": r.cell,
        "reason_code": r.reason_code,
        "expected": r.expected,
        "message_zh": r.message_zh,
        "message_en": r.message_en,
        "raw_values": json.dumps(r.raw_values, ensure_ascii=False),
    }


def _put(
    tables: dict[str, pa.Table], table: str, rows: list[dict[str, Any]], cols: Columns
) -> None:
    if rows:
        names = {name for name, _t in cols[table]}
        unknown = {k for r in rows for k in r} - names
        if unknown:
            # a reader bug, never a data problem: a silent NULL would lose the value
            raise KeyError(f"raw.{table} has no column(s) {sorted(unknown)}")
        tables[table] = to_arrow(rows, cols[table])


def arrow_type(duck_type: str) -> pa.DataType:
    """The Arrow type that holds a DuckDB column type exactly (DuckDB 类型 -> Arrow 类型)."""
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        p, s = (int(x) for x in t[t.index("(") + 1 : -1].split(","))
        return pa.decimal128(p, s)
    return {
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
        "BOOLEAN": pa.bool_(),
        "DOUBLE": pa.float64(),
    }[t]


def to_arrow(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> pa.Table:
    """Rows (dicts) -> an Arrow table with the exact DuckDB column types (Decimal stays exact)."""
    arrays, names = [], []
    for name, duck_type in columns:
        typ = arrow_type(duck_type)
        values = [r.get(name) for r in rows]
        arrays.append(_array(values, typ))
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def _array(values: list[Any], typ: pa.DataType) -> pa.Array:
    """One Arrow column; Decimals finer than the column's scale are rounded half-even.

    pyarrow refuses (ArrowInvalid) a Decimal it cannot hold exactly, so the rounding pass only
    runs for columns that need it; values that fit are stored unchanged either way.
    """
    if pa.types.is_timestamp(typ):
        # via integer microseconds: pyarrow's datetime conversion imports pandas (~0.4 s)
        micros = [None if v is None else (v - _EPOCH) // _MICROSECOND for v in values]
        return pa.array(micros, type=pa.int64()).cast(typ)
    if not pa.types.is_decimal(typ):
        return pa.array(values, type=typ)
    try:
        return pa.array(values, type=typ)
    except pa.ArrowInvalid:
        q = Decimal(1).scaleb(-typ.scale)
        return pa.array(
            [
                v.quantize(q, rounding=ROUND_HALF_EVEN) if isinstance(v, Decimal) else v
                for v in values
            ],
            type=typ,
        )


def fill_column(table: pa.Table, name: str, value: Any) -> pa.Table:
    """``table`` with column ``name`` set to ``value`` on every row (整列赋值)."""
    idx = table.schema.get_field_index(name)
    typ = table.schema.field(idx).type
    if pa.types.is_timestamp(typ):
        micros = (value - _EPOCH) // _MICROSECOND
        column = pa.repeat(pa.scalar(micros, pa.int64()), table.num_rows).cast(typ)
    else:
        column = pa.repeat(pa.scalar(value, typ), table.num_rows)
    return table.set_column(idx, name, column)
