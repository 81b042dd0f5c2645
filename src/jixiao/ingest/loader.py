"""Loading inbox workbooks into the DuckDB raw schema, exactly once (载入原始层，仅一次).

* A file is identified by the SHA-256 of its bytes. A hash already loaded (or quarantined)
  under the same name is ``skipped_unchanged``; under another name it is a ``duplicate``.
* Each file is one transaction: every raw table, ``raw.submissions``, ``raw.rejected_rows``
  and its ``raw.load_log`` row commit together or not at all.
* Rows go in as Arrow tables (``insert ... by name select * from <arrow>``), never row by row
  and never with cell text in the SQL string.
* A rejected file is copied byte for byte to ``quarantine/<sha256>/<original name>`` with a
  ``reason.json``; the other files still load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from jixiao.config import Settings
from jixiao.ingest.errors import FileRejected, Rejection
from jixiao.ingest.layouts import extract
from jixiao.ingest.layouts.common import Extracted
from jixiao.ingest.security import DEFAULT_LIMITS, Limits, assert_defusedxml, check_file
from jixiao.ingest.workbook import read_workbook

log = logging.getLogger(__name__)

RAW_SCHEMA_SQL = Path(__file__).with_name("raw_schema.sql")
DATA_TABLES = (
    "projects",
    "budget_lines",
    "payments",
    "indicators",
    "funding_reported",
    "evaluations",
    "milestones",
    "project_goals",
)
_IGNORED_NAMES = (".", "~$")
_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass
class FileResult:
    """Outcome for one inbox file (单个文件的结果)."""

    file: str
    sha256: str
    status: str  # loaded | skipped_unchanged | duplicate | quarantined
    layout: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason_code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None
    sheet: str | None = None
    cell: str | None = None
    quarantine_path: str | None = None
    sheets_ignored: list[dict[str, str]] = field(default_factory=list)


@dataclass
class IngestSummary:
    """Counts for one ingest run (一次载入的汇总)."""

    files: list[FileResult] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def files_loaded(self) -> int:
        return self._count("loaded")

    @property
    def files_skipped_unchanged(self) -> int:
        return self._count("skipped_unchanged")

    @property
    def files_duplicate(self) -> int:
        return self._count("duplicate")

    @property
    def files_quarantined(self) -> int:
        return self._count("quarantined")

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files_loaded": self.files_loaded,
            "files_skipped_unchanged": self.files_skipped_unchanged,
            "files_duplicate": self.files_duplicate,
            "files_quarantined": self.files_quarantined,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "files": [asdict(f) for f in self.files],
        }


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and its tables from raw_schema.sql (建立原始层)."""
    con.execute(RAW_SCHEMA_SQL.read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _inbox_files(settings: Settings) -> list[Path]:
    if not settings.inbox.exists():
        return []
    return sorted(
        p for p in settings.inbox.iterdir() if p.is_file() and not p.name.startswith(_IGNORED_NAMES)
    )


def _seen(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Hash -> names under which it was loaded or quarantined before."""
    rows = con.execute(
        "select file_hash, file_name from raw.load_log where status in ('loaded', 'quarantined')"
    ).fetchall()
    seen: dict[str, set[str]] = {}
    for h, name in rows:
        seen.setdefault(h, set()).add(name)
    return seen


def discover(settings: Settings) -> list[Path]:
    """Inbox files whose SHA-256 has not been loaded or quarantined yet (发现新文件)."""
    files = _inbox_files(settings)
    if not settings.warehouse.exists():
        return files
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'load_log'"
        ).fetchone()
        seen = _seen(con) if exists and exists[0] else {}
    out, batch = [], set()
    for p in files:
        h = sha256_file(p)
        if h not in seen and h not in batch:
            out.append(p)
            batch.add(h)
    return out


def ingest_files(
    settings: Settings, paths: list[Path] | None = None, limits: Limits = DEFAULT_LIMITS
) -> IngestSummary:
    """Load ``paths`` (default: every inbox file) into ``settings.warehouse`` (载入文件)."""
    assert_defusedxml()
    settings.ensure()
    files = [Path(p) for p in paths] if paths is not None else _inbox_files(settings)
    summary = IngestSummary()
    with duckdb.connect(str(settings.warehouse)) as con:
        ensure_raw_schema(con)
        loader = _Loader(settings, con, limits)
        for path in files:
            summary.files.append(loader.ingest_one(path))
    return summary


class _Loader:
    """State for one run: seen hashes, project context, monotonic load times."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection, limits: Limits):
        self.settings = settings
        self.con = con
        self.limits = limits
        self.seen = _seen(con)
        self.last_at: dt.datetime | None = None
        self.columns = _table_columns(con)

    def _now(self) -> dt.datetime:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if self.last_at is not None and now <= self.last_at:
            now = self.last_at + dt.timedelta(microseconds=1)
        self.last_at = now
        return now

    def ingest_one(self, path: Path) -> FileResult:
        digest = sha256_file(path)
        stat = path.stat()
        meta = {
            "file_hash": digest,
            "file_name": path.name,
            "file_size_bytes": stat.st_size,
            "received_at": dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None),
        }
        if digest in self.seen:
            status = "skipped_unchanged" if path.name in self.seen[digest] else "duplicate"
            result = FileResult(file=path.name, sha256=digest, status=status)
            self._write_log(meta, result, self._now())
            return result
        try:
            check_file(path, self.limits)
            workbook = read_workbook(path)
            extracted = extract(workbook, self._context())
        except FileRejected as exc:
            return self._quarantine(path, meta, exc.with_file(path.name).rejection)
        result = self._load(meta, extracted)
        self.seen.setdefault(digest, set()).add(path.name)
        return result

    def _context(self) -> dict[str, Any]:
        rows = self.con.execute(
            "select project_key, arg_max(department_name, loaded_at), "
            "arg_max(project_name, loaded_at) from raw.projects group by project_key"
        ).fetchall()
        return {"departments": {k: d for k, d, _n in rows}, "names": {k: n for k, _d, n in rows}}

    def _quarantine(self, path: Path, meta: dict[str, Any], rej: Rejection) -> FileResult:
        """Copy the file byte for byte with reason.json; log it (隔离)."""
        folder = self.settings.quarantine / meta["file_hash"]
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        shutil.copyfile(path, target)
        loaded_at = self._now()
        reason = {
            **rej.to_dict(),
            "file": path.name,
            "sha256": meta["file_hash"],
            "quarantined_at": loaded_at.isoformat() + "Z",
        }
        (folder / "reason.json").write_text(
            json.dumps(reason, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        result = FileResult(
            file=path.name,
            sha256=meta["file_hash"],
            status="quarantined",
            reason_code=rej.reason_code,
            message_zh=rej.message_zh,
            message_en=rej.message_en,
            sheet=rej.sheet,
            cell=rej.cell,
            quarantine_path=str(target),
        )
        self.con.begin()
        try:
            self._write_log(meta, result, loaded_at)
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        self.seen.setdefault(meta["file_hash"], set()).add(path.name)
        log.warning("quarantined %s: %s", path.name, rej.message_en)
        return result

    def _load(self, meta: dict[str, Any], ex: Extracted) -> FileResult:
        """One transaction: data tables, submissions, rejected rows and the load log (单事务)."""
        loaded_at = self._now()
        load_id = str(uuid.uuid4())
        lineage = {
            "file_hash": meta["file_hash"],
            "file_name": meta["file_name"],
            "loaded_at": loaded_at,
        }
        sub_ids = [
            f"{meta['file_hash']}:{s['sheet_name']}:{s['project_key']}:{s['fiscal_year']}"
            for s in ex.submissions
        ]
        loaded_rows = {(r["sheet_name"], r["row_number"]) for t in ex.tables.values() for r in t}
        rejected_rows = {(r.sheet, r.row_number) for r in ex.rejections}
        result = FileResult(
            file=meta["file_name"],
            sha256=meta["file_hash"],
            status="loaded",
            layout="+".join(sorted(ex.layouts)),
            rows_loaded=len(loaded_rows),
            rows_rejected=len(rejected_rows),
            rows_read=len(loaded_rows) + len(rejected_rows),
            sheets_ignored=ex.ignored,
        )
        self.con.begin()
        try:
            for table, rows in ex.tables.items():
                for r in rows:
                    idx = r.pop("_submission", None)
                    r["submission_id"] = sub_ids[idx] if idx is not None else None
                    r.update(lineage)
                self._insert(table, rows)
            self._insert(
                "submissions",
                [
                    {**s, **lineage, "submission_id": sub_ids[i]}
                    for i, s in enumerate(ex.submissions)
                ],
            )
            self._insert(
                "rejected_rows",
                [
                    {
                        "load_id": load_id,
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
                        "loaded_at": loaded_at,
                    }
                    for r in ex.rejections
                ],
            )
            self._write_log(meta, result, loaded_at, load_id)
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        return result

    def _write_log(
        self, meta: dict[str, Any], result: FileResult, at: dt.datetime, load_id: str | None = None
    ) -> None:
        self._insert(
            "load_log",
            [
                {
                    **meta,
                    "load_id": load_id or str(uuid.uuid4()),
                    "loaded_at": at,
                    "status": result.status,
                    "layout": result.layout,
                    "rows_read": result.rows_read,
                    "rows_loaded": result.rows_loaded,
                    "rows_rejected": result.rows_rejected,
                    "reason_code": result.reason_code,
                    "message_zh": result.message_zh,
                    "message_en": result.message_en,
                    "quarantine_path": result.quarantine_path,
                    "sheets_ignored": json.dumps(result.sheets_ignored, ensure_ascii=False)
                    if result.sheets_ignored
                    else None,
                }
            ],
        )

    def _insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` as one Arrow table typed from the DuckDB columns (批量写入)."""
        if not rows:
            return
        arrow = to_arrow(rows, self.columns[table])
        self.con.register("_jixiao_ingest_batch", arrow)
        try:
            self.con.execute(f"insert into raw.{table} by name select * from _jixiao_ingest_batch")
        finally:
            self.con.unregister("_jixiao_ingest_batch")


def _table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """raw table -> [(column, duckdb type)] in table order (schema from raw_schema.sql)."""
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' order by table_name, ordinal_position"
    ).fetchall()
    cols: dict[str, list[tuple[str, str]]] = {}
    for t, c, ty in rows:
        cols.setdefault(t, []).append((c, ty))
    return cols


def _arrow_type(duck_type: str) -> pa.DataType:
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
        typ = _arrow_type(duck_type)
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
