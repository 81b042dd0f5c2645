"""Loading inbox workbooks into the DuckDB raw schema, exactly once (载入原始层，仅一次).

* A file is identified by the SHA-256 of its bytes. A hash already loaded (or quarantined)
  under the same name is ``skipped_unchanged``; under another name it is a ``duplicate``.
* Each file is one transaction: every raw table, ``raw.submissions``, ``raw.rejected_rows``
  and its ``raw.load_log`` row commit together or not at all.
* Rows go in as one Arrow table per raw table and file (columns in the table's order), never
  row by row and never with cell text in the SQL string; the one-row ``load_log`` entry is a
  parameterised insert.
* A rejected file is copied byte for byte to ``quarantine/<sha256>/<original name>`` with a
  ``reason.json``; the other files still load.
* With enough new files and idle CPUs (or ``workers=N``) the per-file scan, read and parse
  run in a process pool (``forkserver``; :mod:`jixiao.ingest.prepare`); this process keeps the
  one DuckDB writer and writes the files in the same order, with the same rows, as the
  sequential path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from jixiao.config import Settings
from jixiao.ingest.errors import Rejection
from jixiao.ingest.prepare import Context, Prepared, fill_column, prepare_file, to_arrow
from jixiao.ingest.security import DEFAULT_LIMITS, Limits, assert_defusedxml

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
    "reported_totals",
)
_IGNORED_NAMES = (".", "~$")
# forkserver: workers fork from a fresh server process, never from this one (which holds the
# DuckDB connection); the server imports the readers once (jixiao.ingest.worker) for all.
_START_METHOD = "forkserver"
_PRELOAD = ["__main__", "jixiao.ingest.worker"]
POOL_MIN_FILES = 32  # fewer new files: worker start-up (~1-1.5 s) costs more than it saves
__all__ = ["DATA_TABLES", "FileResult", "IngestSummary", "discover", "ingest_files", "to_arrow"]


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
    layout_evidence: list[dict[str, Any]] = field(default_factory=list)
    #: what put this file after the one before it in the run (arrival | modified | copy | name)
    order_signal: str | None = None


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
    return in_arrival_order(
        [
            p
            for p in settings.inbox.iterdir()
            if p.is_file() and not p.name.startswith(_IGNORED_NAMES)
        ]
    )


#: names that say "this is a copy of another file" (Windows, WPS, macOS, browsers' downloads)
_COPY_MARKERS = re.compile(
    r"(?:[-_\s]*副本(?:\s*\(\d+\))?|\s*-\s*copy(?:\s*\(\d+\))?|\s+copy(?:\s+\d+)?|\s*\(\d+\)|的副本)$",
    re.IGNORECASE,
)
ORDER_SIGNALS = ("arrival", "modified", "copy", "name")


def order_key(path: Path) -> tuple[int, int, int, str]:
    """When a file came: (arrival second, modification ns, is-a-copy, name) (到达顺序).

    Arrival is the inode change time: the moment the file was created in or moved into the
    inbox (a copy, an upload, an SFTP put or a rename all set it), to the second, so files
    dropped together tie. Then the modification time (Excel's save; a copy keeps it), then
    whether the name marks a copy ("…- 副本", "… - Copy", "…(1)"): an original comes before
    its copies; then the name.
    """
    st = path.stat()
    stem = unicodedata.normalize("NFKC", path.name.rsplit(".", 1)[0])
    return (int(st.st_ctime), st.st_mtime_ns, 1 if _COPY_MARKERS.search(stem) else 0, path.name)


def in_arrival_order(paths: list[Path]) -> list[Path]:
    """``paths`` sorted by :func:`order_key`: originals before copies, older before newer."""
    return sorted(paths, key=order_key)


def order_signals(paths: list[Path]) -> list[str | None]:
    """For each file (in arrival order) the part of :func:`order_key` that placed it after the
    previous file: ``arrival``, ``modified``, ``copy`` or ``name`` (None for the first)."""
    if not paths:
        return []
    keys = [order_key(p) for p in paths]
    out: list[str | None] = [None]
    for prev, cur in itertools.pairwise(keys):
        out.append(
            next((s for s, a, b in zip(ORDER_SIGNALS, prev, cur, strict=True) if a != b), "name")
        )
    return out


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
    settings: Settings,
    paths: list[Path] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = None,
) -> IngestSummary:
    """Load ``paths`` (default: every inbox file) into ``settings.warehouse`` (载入文件).

    ``workers``: processes that scan, read and parse files in parallel. ``None`` (auto) uses
    one per CPU only for at least :data:`POOL_MIN_FILES` new files on a machine with idle
    CPUs (load average at least 1.5 below the CPU count), else stays in this process; 0 or 1
    always stays in this process. The rows written are the same either way.
    """
    assert_defusedxml()
    settings.ensure()
    files = (
        in_arrival_order([Path(p) for p in paths]) if paths is not None else _inbox_files(settings)
    )
    summary = IngestSummary()
    with duckdb.connect(str(settings.warehouse)) as con:
        ensure_raw_schema(con)
        loader = _Loader(settings, con, limits)
        plan = loader.plan(files)
        todo = sum(1 for item in plan if item.skip is None)
        n = _worker_count(workers, todo)
        summary.files.extend(loader.run_pooled(plan, n) if n > 1 else loader.run(plan))
    return summary


def _worker_count(workers: int | None, todo: int) -> int:
    """Pool size for ``todo`` new files: 0 means stay in this process."""
    if workers is None:
        cpus = len(os.sched_getaffinity(0))
        idle = cpus - os.getloadavg()[0]
        if todo < POOL_MIN_FILES or idle < 1.5:
            return 0  # a busy machine gains nothing from more processes (docs/benchmarks.md)
        workers = min(cpus, 8)
    if workers <= 1 or todo < 2:
        return 0
    return min(workers, todo)


@dataclass
class _Planned:
    """One file of the run: its identity and, if it needs no parsing, why (计划)."""

    path: Path
    meta: dict[str, Any]
    skip: str | None  # skipped_unchanged | duplicate | None (to be loaded)


class _Loader:
    """State for one run: seen hashes, project context, monotonic load times."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection, limits: Limits):
        self.settings = settings
        self.con = con
        self.limits = limits
        self.seen = _seen(con)
        self.last_at: dt.datetime | None = None
        self.columns = _table_columns(con)
        self._ctx: Context | None = None
        self._pool_broken = False

    def _now(self) -> dt.datetime:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if self.last_at is not None and now <= self.last_at:
            now = self.last_at + dt.timedelta(microseconds=1)
        self.last_at = now
        return now

    def plan(self, files: list[Path]) -> list[_Planned]:
        """Hash every file and decide, in order, which are new (exactly once, 仅一次).

        A hash seen before (in the warehouse or earlier in this batch) under the same name
        is ``skipped_unchanged``, under another name a ``duplicate``.
        """
        seen = {h: set(names) for h, names in self.seen.items()}
        out = []
        for path, signal in zip(files, order_signals(files), strict=True):
            digest = sha256_file(path)
            stat = path.stat()
            meta = {
                "file_hash": digest,
                "file_name": path.name,
                "file_size_bytes": stat.st_size,
                "received_at": dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(
                    tzinfo=None
                ),
                "arrived_at": dt.datetime.fromtimestamp(stat.st_ctime, dt.UTC).replace(tzinfo=None),
                "order_signal": signal,
            }
            skip = None
            if digest in seen:
                skip = "skipped_unchanged" if path.name in seen[digest] else "duplicate"
            seen.setdefault(digest, set()).add(path.name)
            out.append(_Planned(path, meta, skip))
        return out

    def run(self, plan: list[_Planned]) -> Iterator[FileResult]:
        """Every planned file in order, parsed in this process (顺序载入)."""
        for item in plan:
            if item.skip is not None:
                yield self._skip(item)
            else:
                yield self._write(item.path, self._prepare_here(item))

    def run_pooled(self, plan: list[_Planned], workers: int) -> Iterator[FileResult]:
        """Like :meth:`run`, with scan/read/parse in ``workers`` processes (并行解析).

        At most ``2 x workers`` files are in flight; results are written in plan order.
        """
        new = [item for item in plan if item.skip is None]
        log.info("ingest: parsing %d files in a pool of %d workers", len(new), workers)
        todo = iter(new)
        pending: dict[int, Future[Prepared]] = {}
        mp = multiprocessing.get_context(_START_METHOD)
        mp.set_forkserver_preload(_PRELOAD)
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp) as pool:
            try:
                for item in plan:
                    if item.skip is not None:
                        yield self._skip(item)
                        continue
                    self._top_up(pool, todo, pending, 2 * workers)
                    future = pending.pop(id(item), None)
                    yield self._write(item.path, self._collect(item, future))
            finally:
                for f in pending.values():
                    f.cancel()

    def _top_up(
        self,
        pool: ProcessPoolExecutor,
        todo: Iterator[_Planned],
        pending: dict[int, Future[Prepared]],
        limit: int,
    ) -> None:
        while not self._pool_broken and len(pending) < limit:
            item = next(todo, None)
            if item is None:
                return
            try:
                pending[id(item)] = pool.submit(
                    prepare_file, item.path, item.meta, self.limits, self._context(), self.columns
                )
            except BrokenProcessPool:
                self._pool_broken = True

    def _collect(self, item: _Planned, future: Future[Prepared] | None) -> Prepared:
        """The worker's result, or a parse here if the pool broke or the context changed."""
        if future is None:
            return self._prepare_here(item)
        try:
            prepared = future.result()
        except BrokenProcessPool:
            log.warning("ingest worker pool broke; parsing %s in-process", item.path.name)
            self._pool_broken = True
            return self._prepare_here(item)
        if prepared.rejection is None and not prepared.context_still_valid(self._context()):
            log.info("re-parsing %s: project context changed in this batch", item.path.name)
            return self._prepare_here(item)
        return prepared

    def _prepare_here(self, item: _Planned) -> Prepared:
        return prepare_file(item.path, item.meta, self.limits, self._context(), self.columns)

    def _context(self) -> Context:
        """Department and name per project code from raw.projects (cached until it changes)."""
        if self._ctx is None:
            rows = self.con.execute(
                "select project_key, arg_max(department_name, loaded_at), "
                "arg_max(project_name, loaded_at) from raw.projects group by project_key"
            ).fetchall()
            self._ctx = {
                "departments": {k: d for k, d, _n in rows},
                "names": {k: n for k, _d, n in rows},
            }
        return self._ctx

    def _skip(self, item: _Planned) -> FileResult:
        assert item.skip is not None
        result = FileResult(file=item.path.name, sha256=item.meta["file_hash"], status=item.skip)
        self._write_log(item.meta, result, self._now())
        return result

    def _write(self, path: Path, prepared: Prepared) -> FileResult:
        if prepared.rejection is not None:
            return self._quarantine(path, prepared.meta, prepared.rejection)
        result = self._load(prepared)
        self.seen.setdefault(prepared.meta["file_hash"], set()).add(path.name)
        if prepared.has_projects:
            self._ctx = None
        return result

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

    def _load(self, prepared: Prepared) -> FileResult:
        """One transaction: data tables, submissions, rejected rows and the load log (单事务)."""
        meta = prepared.meta
        loaded_at = self._now()
        load_id = str(uuid.uuid4())
        result = FileResult(
            file=meta["file_name"],
            sha256=meta["file_hash"],
            status="loaded",
            layout=prepared.layout,
            rows_loaded=prepared.rows_loaded,
            rows_rejected=prepared.rows_rejected,
            rows_read=prepared.rows_loaded + prepared.rows_rejected,
            sheets_ignored=prepared.sheets_ignored,
            layout_evidence=prepared.detections,
            order_signal=meta.get("order_signal"),
        )
        self.con.begin()
        try:
            for table, arrow in prepared.tables.items():
                arrow = fill_column(arrow, "loaded_at", loaded_at)
                if table == "rejected_rows":
                    arrow = fill_column(arrow, "load_id", load_id)
                self._insert_arrow(table, arrow)
            self._write_log(meta, result, loaded_at, load_id)
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        return result

    def _write_log(
        self, meta: dict[str, Any], result: FileResult, at: dt.datetime, load_id: str | None = None
    ) -> None:
        row = {
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
            "layout_evidence": json.dumps(result.layout_evidence, ensure_ascii=False)
            if result.layout_evidence
            else None,
        }
        names = [c for c, _t in self.columns["load_log"]]
        marks = ", ".join("?" * len(names))
        # one row: a parameterised insert is cheaper than an Arrow scan (column names come
        # from information_schema, every value is a parameter)
        self.con.execute(
            f"insert into raw.load_log ({', '.join(names)}) values ({marks})",
            [row.get(n) for n in names],
        )

    def _insert_arrow(self, table: str, arrow: pa.Table) -> None:
        """Insert one Arrow table typed from the DuckDB columns (批量写入).

        Positional: :func:`to_arrow` builds the columns in the table's own order.
        """
        self.con.from_arrow(arrow).insert_into(f"raw.{table}")


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
