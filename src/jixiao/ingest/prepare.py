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

from jixiao.ingest.errors import FileRejected, Rejection
from jixiao.ingest.layouts import extract
from jixiao.ingest.layouts.common import Extracted
from jixiao.ingest.security import Limits, check_file
from jixiao.ingest.workbook import read_workbook

Columns = dict[str, list[tuple[str, str]]]
Context = dict[str, dict[str, str | None]]
_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass
class Prepared:
    """One file scanned, read and parsed, ready for the writer (已解析、待写入的文件).

    Either ``rejection`` is set (the file is quarantined) or ``tables`` holds one Arrow table
    per raw table with rows, ``loaded_at`` (and ``load_id`` in ``rejected_rows``) still null.
    ``lookups`` maps each project code the parser looked up in the run context to the
    (department, name) it found there.
    """

    meta: dict[str, Any]
    rejection: Rejection | None = None
    tables: dict[str, pa.Table] = field(default_factory=dict)
    layout: str | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    sheets_ignored: list[dict[str, str]] = field(default_factory=list)
    detections: list[dict[str, Any]] = field(default_factory=list)
    lookups: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def has_projects(self) -> bool:
        """True when this file writes ``raw.projects`` (it changes the run context)."""
        return "projects" in self.tables

    def context_still_valid(self, context: Context) -> bool:
        """Whether ``context`` answers every lookup this parse made the same way."""
        deps, names = context.get("departments", {}), context.get("names", {})
        return all((deps.get(k), names.get(k)) == v for k, v in self.lookups.items())


def prepare_file(
    path: Path, meta: dict[str, Any], limits: Limits, context: Context, columns: Columns
) -> Prepared:
    """Scan, read and parse ``path`` into Arrow tables (扫描、读取、解析单个文件).

    A :class:`FileRejected` becomes ``Prepared.rejection``; any other exception propagates.
    """
    seen: set[str] = set()
    try:
        report = check_file(path, limits)
        workbook = read_workbook(path, report=report)
        extracted = extract(workbook, context, lookups=seen)
    except FileRejected as exc:
        return Prepared(meta=meta, rejection=exc.with_file(path.name).rejection)
    deps, names = context.get("departments", {}), context.get("names", {})
    prepared = _to_prepared(meta, extracted, columns)
    prepared.lookups = {k: (deps.get(k), names.get(k)) for k in seen}
    return prepared


def _to_prepared(meta: dict[str, Any], ex: Extracted, columns: Columns) -> Prepared:
    """Arrow tables for the data tables, submissions and rejected rows of one file."""
    digest, name = meta["file_hash"], meta["file_name"]
    lineage = {"file_hash": digest, "file_name": name}
    sub_ids = [
        f"{digest}:{s['sheet_name']}:{s['project_key']}:{s['fiscal_year']}" for s in ex.submissions
    ]
    tables: dict[str, pa.Table] = {}
    for table, rows in ex.tables.items():
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
