"""Loading inbox workbooks into the DuckDB raw schema, exactly once (载入原始层，仅一次).

* A file is identified by the SHA-256 of its bytes. A hash already loaded (or quarantined)
  under the same name is ``skipped_unchanged``; under another name it is a ``duplicate``.
* A file's rows commit together with its ``raw.load_log`` row or not at all: every raw
  table, ``raw.submissions`` and ``raw.rejected_rows``. Consecutive loaded files share one
  transaction (a write group of at most :data:`WRITE_GROUP_FILES` files): a run that dies
  mid-group commits none of the group's files, and the next run loads them as new. A write
  that fails inside a group rolls the group back and writes its files again one transaction
  each, so only the failing file is quarantined.
* Rows go in as Arrow tables (columns in the table's order), one per raw table and write
  group (``raw.projects`` and the budget tables per file, as the next file's context reads
  them), never row by row and never with cell text in the SQL string; the one-row
  ``load_log`` entry is a parameterised insert.
* A rejected file is copied byte for byte to ``quarantine/<sha256>/<original name>`` with a
  ``reason.json``; the other files still load.
* Per-file fault isolation (单个文件的故障隔离): whatever one file does, it is quarantined with
  a reason and the run goes on. By default the per-file scan, read and parse run in a
  worker process (``forkserver``; :mod:`jixiao.ingest.prepare`) whose address space is capped
  (``Limits.max_worker_memory``) and which gets ``Limits.max_parse_seconds`` per file; a file
  that exhausts either is ``resource_limit`` and the worker is replaced, never re-parsed in
  this process. One worker per run (more with many new files and idle CPUs, or
  ``workers=N``); ``workers=0`` parses in this process (tests): the pre-parse checks and the
  catch-all (``parse_error``) still hold there. This process keeps the one DuckDB writer and
  writes the files in the same order, with the same rows, either way; a write that fails for
  one file (an Arrow/DuckDB data error) rolls back that file only and quarantines it.
* One snapshot per file (快照): each regular inbox file is copied once to
  ``settings.staging/<uuid>.<ext>``; the copy is hashed, parsed and quarantined, then
  removed. A file whose size or mtime changes across ``Limits.stable_seconds`` (or whose
  mtime is that recent) is ``skipped_unstable``: not loaded, not logged, taken next run.
* Symlinks and other non-regular inbox entries (FIFO, device) are never followed or opened:
  they are logged as ``symlink`` / ``unreadable_file`` quarantine entries without a copy, as
  are files that cannot be read (permissions). Names whose bytes are not UTF-8 load: the
  snapshot has a safe name, ``load_log`` gets a printable one (U+FFFD for the bad bytes)
  and the quarantine copy keeps the original bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import itertools
import json
import logging
import multiprocessing
import os
import re
import shutil
import stat as stat_mod
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from jixiao.config import Settings, duckdb_connect
from jixiao.errors import JixiaoError
from jixiao.ingest import worker
from jixiao.ingest.errors import Rejection
from jixiao.ingest.prepare import (
    Context,
    Prepared,
    fill_column,
    parse_error,
    prepare_file,
    resource_limit,
    to_arrow,
)
from jixiao.ingest.security import DEFAULT_LIMITS, Limits, assert_defusedxml
from jixiao.warehouse import db

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
# Not "__main__": a script without a main guard would run again in the server; only
# jixiao's own functions are submitted.
_PRELOAD = ["jixiao.ingest.worker"]
#: how long a new pool may take to start its first worker before the run parses in-process
_START_TIMEOUT = 120.0
POOL_MIN_FILES = 32  # fewer new files: one worker (more start-ups cost more than they save)
#: a project's budget per fiscal year in the files loaded so far (年初预算 / 调整后预算, the
#: total line or the funding block's total row): a new file whose 万元 budget for the project
#: is 10,000 times an earlier year's is read in the wrong unit (layouts.guards)
BUDGET_HISTORY_SQL = """
select project_key, fiscal_year, max(amount) as amount
from (
    select project_key, fiscal_year, amount_yuan as amount
    from raw.budget_lines
    where line_type in ('initial', 'final') and fund_source = 'total'
    union all
    select project_key, fiscal_year, greatest(initial_budget_yuan, final_budget_yuan)
    from raw.funding_reported
    where fund_source = 'total'
)
where amount > 0
group by project_key, fiscal_year
"""
#: the latest department and name per project code in the files loaded so far
PROJECT_NAMES_SQL = """
select project_key, arg_max(department_name, loaded_at), arg_max(project_name, loaded_at)
from raw.projects
group by project_key
"""
#: raw tables whose rows change the run context (besides raw.projects)
_CONTEXT_TABLES = frozenset({"budget_lines", "funding_reported"})
#: written as each file is staged (the next file's context reads them); the other tables of
#: a write group go in at its commit, one Arrow insert per table for the whole group
_STAGED_AT_ONCE = frozenset({"projects", *_CONTEXT_TABLES})
#: loaded files per transaction (写入组): one commit and one insert per raw table for the
#: group instead of per file; a group also ends at :data:`WRITE_GROUP_ROWS` buffered rows,
#: before any other load_log entry (quarantine, skip) and at the end of the run
WRITE_GROUP_FILES = 32
WRITE_GROUP_ROWS = 200_000
__all__ = ["DATA_TABLES", "FileResult", "IngestSummary", "discover", "ingest_files", "to_arrow"]


@dataclass
class FileResult:
    """Outcome for one inbox file (单个文件的结果)."""

    file: str
    sha256: str
    status: str  # loaded | skipped_unchanged | duplicate | quarantined | skipped_unstable
    layout: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    reason_code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None
    sheet: str | None = None
    cell: str | None = None
    expected: str | None = None
    #: the department read from the file before it was quarantined (else None)
    department: str | None = None
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
    def files_skipped_unstable(self) -> int:
        return self._count("skipped_unstable")

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
            "files_skipped_unstable": self.files_skipped_unstable,
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


def printable_name(name: str) -> str:
    """``name`` as printable text: bytes that are not UTF-8 (kept by :func:`os.fsdecode` as
    surrogates) become U+FFFD (可显示的文件名)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _identity_hash(kind: str, path: Path, st: os.stat_result | None) -> str:
    """A stand-in file_hash for an entry whose bytes are never read (symlink, FIFO, unreadable):
    the same entry gets the same value, so it is logged once, not every night."""
    h = hashlib.sha256(f"jixiao:{kind}\0".encode())
    h.update(os.fsencode(path.name))
    if st is not None:
        h.update(f"\0{st.st_size}\0{st.st_mtime_ns}".encode())
    if kind == "symlink":
        with contextlib.suppress(OSError):
            h.update(b"\0" + os.fsencode(os.readlink(path)))
    return h.hexdigest()


def _inbox_files(settings: Settings) -> list[Path]:
    """Every inbox entry (symlinks and FIFOs too: they are logged, never followed)."""
    if not settings.inbox.exists():
        return []
    return in_arrival_order(
        [p for p in settings.inbox.iterdir() if not p.name.startswith(_IGNORED_NAMES)]
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
    stem = unicodedata.normalize("NFKC", path.name.rsplit(".", 1)[0])
    copy = 1 if _COPY_MARKERS.search(stem) else 0
    try:
        st = path.lstat()  # a symlink's own times: its target is never looked at
    except OSError:
        return (0, 0, copy, path.name)
    return (int(st.st_ctime), st.st_mtime_ns, copy, path.name)


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
    """Inbox files whose SHA-256 has not been loaded or quarantined yet (发现新文件).

    Never raises for one entry: a symlink, FIFO or a file that cannot be read is returned
    (the load logs it once as a quarantine entry) unless that entry was logged before.
    """
    files = _inbox_files(settings)
    if not settings.warehouse.exists():
        return files
    with duckdb_connect(settings, settings.warehouse, read_only=True) as con:
        seen = _seen(con) if db.table_exists(con, "raw", "load_log") else {}
    out, batch = [], set()
    for p in files:
        h = _discover_hash(p)
        if h is None or (h not in seen and h not in batch):
            out.append(p)
            if h is not None:
                batch.add(h)
    return out


def _discover_hash(path: Path) -> str | None:
    """The hash :meth:`_Loader.plan` will give ``path`` (None: vanished, let the load say)."""
    try:
        st = path.lstat()
    except OSError:
        return None
    if stat_mod.S_ISLNK(st.st_mode):
        return _identity_hash("symlink", path, st)
    if not stat_mod.S_ISREG(st.st_mode):
        return _identity_hash("special", path, st)
    h = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        return _identity_hash("unreadable", path, st)
    return h.hexdigest()


def ingest_files(
    settings: Settings,
    paths: list[Path] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    workers: int | None = None,
) -> IngestSummary:
    """Load ``paths`` (default: every inbox file) into ``settings.warehouse`` (载入文件).

    ``workers``: parse worker processes. ``None`` (default, the nightly and ``jixiao
    ingest``): isolated workers with the per-file memory and time budget of ``limits``, one
    per run, or one per CPU for at least :data:`POOL_MIN_FILES` new files on a machine with
    idle CPUs (load average at least 1.5 below the CPU count). ``N`` >= 1: at most N isolated
    workers. 0: parse in this process (no memory/time budget; the pre-parse checks and the
    catch-all still apply). The rows written are the same either way.
    """
    assert_defusedxml()
    settings.ensure()
    files = (
        in_arrival_order([Path(p) for p in paths]) if paths is not None else _inbox_files(settings)
    )
    summary = IngestSummary()
    pool: _Pool | None = None
    with duckdb_connect(settings, settings.warehouse) as con:
        ensure_raw_schema(con)
        loader = _Loader(settings, con, limits)
        try:
            if workers != 0 and files:
                pool = _Pool(1, limits)  # starts its worker while the files are snapshotted
            plan = loader.plan(files)
            todo = sum(1 for item in plan if item.parse)
            n = _worker_count(workers, todo)
            if pool is not None and n > 1:
                pool.close()
                pool = _Pool(n, limits)
            if pool is not None and (n == 0 or not _usable(pool)):
                pool.close()
                pool = None
            summary.files.extend(loader.run_pooled(plan, pool) if pool else loader.run(plan))
        finally:
            if pool is not None:
                pool.close()
            loader.drop_snapshots()
    return summary


class WorkersUnavailable(JixiaoError):
    """Parse workers die before any file reaches them: the run fails (解析进程无法启动)."""


def _usable(pool: _Pool) -> bool:
    """True when ``pool`` starts; else say so loudly (the run parses in this process)."""
    if pool.started():
        return True
    log.error(
        "ingest: isolated parse workers could not start; parsing in this process without the "
        "per-file memory and time budget (the pre-parse checks still apply)"
    )
    return False


def _worker_count(workers: int | None, todo: int) -> int:
    """Isolated parse workers for ``todo`` new files: 0 means parse in this process."""
    if todo < 1 or workers == 0:
        return 0
    if workers is None:
        cpus = len(os.sched_getaffinity(0))
        idle = cpus - os.getloadavg()[0]
        if todo < POOL_MIN_FILES or idle < 1.5:
            return 1  # a busy machine gains nothing from more processes (docs/benchmarks.md)
        workers = min(cpus, 8)
    return max(1, min(workers, todo))


class _Pool:
    """Isolated parse workers (``forkserver``), each with the memory cap of ``limits``.

    :meth:`replace` kills the workers and starts new ones: after a worker died (the pool is
    broken) or a file ran out of time (its worker is still busy).
    """

    def __init__(self, size: int, limits: Limits) -> None:
        self.size = size
        self.limits = limits
        self.replaced = 0
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        mp = multiprocessing.get_context(_START_METHOD)
        mp.set_forkserver_preload(_PRELOAD)
        ex = ProcessPoolExecutor(
            max_workers=self.size,
            mp_context=mp,
            initializer=worker.init_worker,
            initargs=(self.limits.max_worker_memory,),
        )
        # start a worker now (it overlaps the snapshot copies); its result says it started
        self.warm: Future[int] = ex.submit(worker.ready)
        return ex

    def started(self, timeout: float = _START_TIMEOUT) -> bool:
        """Whether the current workers start at all (False: this machine cannot isolate)."""
        try:
            self.warm.result(timeout=timeout)
        except Exception:
            return False
        return True

    def submit(self, item: _Planned, context: Context, columns: Any) -> Future[Prepared]:
        assert item.snapshot is not None
        return self.executor.submit(
            prepare_file, item.snapshot, item.meta, self.limits, context, columns
        )

    def replace(self) -> None:
        self._kill()
        self.executor = self._start()
        self.replaced += 1

    def _kill(self) -> None:
        # a worker still busy past its time would make shutdown() wait for it: kill first
        # (ProcessPoolExecutor has no public kill; _processes is its pid -> Process map)
        for proc in list((getattr(self.executor, "_processes", None) or {}).values()):
            if proc.is_alive():
                proc.kill()
        self.executor.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._kill()


@dataclass
class _Planned:
    """One inbox entry of the run: its identity and what to do with it (计划).

    ``skip``: ``skipped_unchanged`` | ``duplicate`` | ``skipped_unstable`` (no parsing);
    ``problem``: a quarantine entry without a copy (symlink, FIFO, unreadable file);
    otherwise ``snapshot`` is the copy to parse (``parse`` is True).
    """

    path: Path
    meta: dict[str, Any]
    skip: str | None = None
    snapshot: Path | None = None
    problem: Rejection | None = None

    @property
    def parse(self) -> bool:
        return self.skip is None and self.problem is None

    @property
    def name(self) -> str:
        return str(self.meta["file_name"])


_SAFE_EXT = re.compile(r"\.[A-Za-z0-9]{1,8}")
_SNAPSHOT_NAME = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{1,8}")
_COPY_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


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
        self._snapshots: list[Path] = []
        #: the open write group: (file, its parse, its outcome) per staged file
        self._group: list[tuple[_Planned, Prepared, FileResult | None]] = []
        self._deferred: dict[str, list[pa.Table]] = {}
        self._group_rows = 0
        #: how a file of a rolled-back group is parsed again when its context changed
        self._reparse: Callable[[_Planned], Prepared] = self._prepare_here
        self._drop_stale_snapshots()

    def _now(self) -> dt.datetime:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if self.last_at is not None and now <= self.last_at:
            now = self.last_at + dt.timedelta(microseconds=1)
        self.last_at = now
        return now

    # ------------------------------------------------------------------ plan
    def plan(self, files: list[Path]) -> list[_Planned]:
        """Snapshot and hash every file, then decide in order which are new (仅一次).

        A hash seen before (in the warehouse or earlier in this batch) under the same name
        is ``skipped_unchanged``, under another name a ``duplicate``. A regular file is
        copied once to the staging folder (hashed while copying); it must keep its size and
        mtime across ``limits.stable_seconds`` (one wait per run, overlapping the copies)
        or it is ``skipped_unstable``. Symlinks, FIFOs, devices and unreadable files become
        quarantine entries without a copy; none of them raises.
        """
        items = [
            self._snapshot(path, signal)
            for path, signal in zip(files, order_signals(files), strict=True)
        ]
        self._wait_until_stable(items)
        seen = {h: set(names) for h, names in self.seen.items()}
        for item in items:
            if item.skip is not None:
                continue
            digest, name = item.meta["file_hash"], item.name
            if digest in seen:  # also a symlink or unreadable entry logged on an earlier run
                item.skip = "skipped_unchanged" if name in seen[digest] else "duplicate"
                item.problem = None
                self._drop(item)
            seen.setdefault(digest, set()).add(name)
        return items

    def _snapshot(self, path: Path, signal: str | None) -> _Planned:
        name = printable_name(path.name)
        first_at = time.monotonic()
        try:
            st = path.lstat()
        except FileNotFoundError:  # gone since it was listed: nothing to do this run
            return _Planned(path, {"file_name": name, "file_hash": ""}, skip="skipped_unstable")
        except OSError as exc:
            return self._problem(path, name, None, "unreadable", exc)
        meta = _meta(name, st, signal)
        if stat_mod.S_ISLNK(st.st_mode):
            return self._problem(path, name, st, "symlink", None, meta)
        if not stat_mod.S_ISREG(st.st_mode):
            return self._problem(path, name, st, "special", None, meta)
        ext = path.suffix.lower() if _SAFE_EXT.fullmatch(path.suffix) else ".bin"
        target = self.settings.staging / f"{uuid.uuid4().hex}{ext}"
        h = hashlib.sha256()
        try:
            fd = os.open(path, _COPY_FLAGS)  # never a symlink swapped in, never a FIFO's wait
            with os.fdopen(fd, "rb") as src:
                if not stat_mod.S_ISREG(os.fstat(src.fileno()).st_mode):
                    return self._problem(path, name, st, "special", None, meta)
                self._snapshots.append(target)
                with target.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        h.update(chunk)
                        dst.write(chunk)
        except (PermissionError, IsADirectoryError) as exc:
            return self._problem(path, name, st, "unreadable", exc, meta)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise  # the staging disk is full: the run fails, the file is not at fault
            return self._problem(path, name, st, "unreadable", exc, meta)
        meta["file_hash"] = h.hexdigest()
        item = _Planned(path, meta, snapshot=target)
        item.meta["_stat"] = (st.st_size, st.st_mtime_ns, target.stat().st_size, first_at)
        return item

    def _wait_until_stable(self, items: list[_Planned]) -> None:
        """Second stat at least ``stable_seconds`` after each file's first (one wait for the
        run); a file that changed (or whose mtime is that recent, or whose copy has another
        size) is ``skipped_unstable``. Files whose hash was loaded before need no wait."""
        stats = {id(i): i.meta.pop("_stat") for i in items if "_stat" in i.meta}
        candidates = [
            i for i in items if id(i) in stats and i.parse and i.meta["file_hash"] not in self.seen
        ]
        interval = self.limits.stable_seconds
        if not candidates or interval <= 0:
            return
        last_first = max(stats[id(i)][3] for i in candidates)
        remaining = interval - (time.monotonic() - last_first)
        if remaining > 0:
            time.sleep(remaining)
        now_ns = time.time_ns()
        for item in candidates:
            size, mtime_ns, copied, _at = stats[id(item)]
            try:
                st = item.path.lstat()
                second = (st.st_size, st.st_mtime_ns)
            except OSError:
                second = None
            if second != (size, mtime_ns) or copied != size or now_ns - mtime_ns < interval * 1e9:
                log.warning("ingest: %s is still being written; left for the next run", item.name)
                item.skip = "skipped_unstable"
                self._drop(item)

    def _problem(
        self,
        path: Path,
        name: str,
        st: os.stat_result | None,
        kind: str,
        exc: BaseException | None,
        meta: dict[str, Any] | None = None,
    ) -> _Planned:
        meta = dict(meta or _meta(name, st, None))
        meta["file_hash"] = _identity_hash(kind, path, st)
        return _Planned(path, meta, problem=_entry_rejection(kind, name, path, exc))

    def _drop(self, item: _Planned) -> None:
        if item.snapshot is not None:
            item.snapshot.unlink(missing_ok=True)
            item.snapshot = None

    def drop_snapshots(self) -> None:
        """Remove every snapshot this run made (at the end, whatever happened)."""
        for p in self._snapshots:
            p.unlink(missing_ok=True)
        self._snapshots.clear()

    def _drop_stale_snapshots(self) -> None:
        """Snapshots left by a run that was killed (only one ingest writes at a time)."""
        if self.settings.staging.exists():
            for p in self.settings.staging.iterdir():
                if _SNAPSHOT_NAME.fullmatch(p.name) and p.is_file():
                    p.unlink(missing_ok=True)

    # ------------------------------------------------------------------ run
    def run(self, plan: list[_Planned]) -> Iterator[FileResult]:
        """Every planned file in order, parsed in this process (顺序载入)."""
        self._reparse = self._prepare_here
        for item in plan:
            if not item.parse:
                yield from self._flush()
                yield self._no_parse(item)
            else:
                yield from self._write(item, self._prepare_here(item))
        yield from self._flush()

    def run_pooled(self, plan: list[_Planned], pool: _Pool) -> Iterator[FileResult]:
        """Like :meth:`run`, with scan/read/parse in isolated workers (隔离进程解析).

        At most ``2 x workers`` files are in flight; results are written in plan order. A
        worker that dies or a file over its time makes the pool be replaced; the file is
        quarantined as ``resource_limit`` (after a dead worker, once the file alone killed a
        fresh worker: the others in flight were innocent and are parsed again in a worker).
        """
        todo: deque[_Planned] = deque(item for item in plan if item.parse)
        log.info("ingest: parsing %d files in %d isolated worker(s)", len(todo), pool.size)
        pending: dict[int, tuple[_Planned, Future[Prepared]]] = {}
        # never parsed in this process, a rolled-back group's files neither
        self._reparse = lambda item: self._solo(pool, item, todo, pending)
        try:
            for item in plan:
                if not item.parse:
                    yield from self._flush()
                    yield self._no_parse(item)
                    continue
                self._top_up(pool, todo, pending, 2 * pool.size)
                yield from self._write(item, self._collect(pool, item, todo, pending))
            yield from self._flush()
        finally:
            for _item, f in pending.values():
                f.cancel()

    def _top_up(
        self,
        pool: _Pool,
        todo: deque[_Planned],
        pending: dict[int, tuple[_Planned, Future[Prepared]]],
        limit: int,
    ) -> None:
        while todo and len(pending) < limit:
            item = todo.popleft()
            try:
                pending[id(item)] = (item, pool.submit(item, self._context(), self.columns))
            except BrokenProcessPool:
                todo.appendleft(item)
                self._restart(pool, todo, pending)
                return

    def _restart(
        self,
        pool: _Pool,
        todo: deque[_Planned],
        pending: dict[int, tuple[_Planned, Future[Prepared]]],
    ) -> None:
        """Replace the pool; the files in flight go back to the front of ``todo``."""
        pool.replace()
        todo.extendleft(reversed([item for item, _f in pending.values()]))
        pending.clear()

    def _collect(
        self,
        pool: _Pool,
        item: _Planned,
        todo: deque[_Planned],
        pending: dict[int, tuple[_Planned, Future[Prepared]]],
    ) -> Prepared:
        """The worker's result for ``item``; never parsed in this process."""
        entry = pending.pop(id(item), None)
        if entry is None:  # the pool was replaced: it went back to todo
            todo.remove(item)
            return self._solo(pool, item, todo, pending)
        try:
            prepared = entry[1].result(timeout=self.limits.max_parse_seconds)
        except TimeoutError:
            log.warning("ingest: %s over its time budget; worker replaced", item.name)
            self._restart(pool, todo, pending)
            return Prepared(
                meta=item.meta, rejection=resource_limit(item.name, self.limits, "time")
            )
        except BrokenProcessPool:
            log.warning("ingest worker died while %s was in flight; retrying it alone", item.name)
            self._restart(pool, todo, pending)
            return self._solo(pool, item, todo, pending)
        if prepared.rejection is None and not prepared.context_still_valid(self._context()):
            log.info("re-parsing %s: project context changed in this batch", item.name)
            return self._solo(pool, item, todo, pending)
        return prepared

    def _solo(
        self,
        pool: _Pool,
        item: _Planned,
        todo: deque[_Planned],
        pending: dict[int, tuple[_Planned, Future[Prepared]]],
    ) -> Prepared:
        """Parse ``item`` in a worker with nothing else submitted after it: a worker that
        dies now died of this file (``resource_limit``)."""
        if pending:  # earlier submissions may still run; a death is then ambiguous: wait
            for _i, f in pending.values():
                try:
                    f.result(timeout=self.limits.max_parse_seconds)
                except Exception:
                    self._restart(pool, todo, pending)
                    break
        try:
            future = pool.submit(item, self._context(), self.columns)
            return future.result(timeout=self.limits.max_parse_seconds)
        except TimeoutError:
            self._restart(pool, todo, pending)
            return Prepared(
                meta=item.meta, rejection=resource_limit(item.name, self.limits, "time")
            )
        except BrokenProcessPool:
            if not pool.started(0):  # the fresh worker died before this file: not its fault
                raise WorkersUnavailable(
                    "解析进程无法启动，本次载入中止 / parse workers cannot start; ingest stopped"
                ) from None
            self._restart(pool, todo, pending)
            return Prepared(
                meta=item.meta, rejection=resource_limit(item.name, self.limits, "died")
            )

    def _prepare_here(self, item: _Planned) -> Prepared:
        assert item.snapshot is not None
        return prepare_file(item.snapshot, item.meta, self.limits, self._context(), self.columns)

    def _context(self) -> Context:
        """What earlier loads say per project code: the department and name from
        raw.projects (:data:`PROJECT_NAMES_SQL`), and the budget per fiscal year that the unit
        guard compares a new file's amounts with (:data:`BUDGET_HISTORY_SQL`). Read whole once
        per run; after a file that wrote projects or budgets, :meth:`_refresh_context` reads
        the same queries again for that file's project codes only."""
        if self._ctx is None:
            self._ctx = {"departments": {}, "names": {}, "budgets": {}}
            self._fill_context(None)
        return self._ctx

    def _refresh_context(self, prepared: Prepared) -> None:
        """Re-read the context of the project codes ``prepared`` wrote (本文件涉及的项目).

        Both queries group by project code, so rows added for some codes change only those
        codes' entries: the others stay as read. O(rows of these codes) per file instead of
        the whole warehouse per file (the run's first context read stays whole)."""
        if self._ctx is None:
            return  # not read yet: the first _context() reads everything
        keys: set[str] = set()
        for table in ("projects", *_CONTEXT_TABLES):
            arrow = prepared.tables.get(table)
            if arrow is not None and "project_key" in arrow.column_names:
                keys.update(k for k in arrow.column("project_key").to_pylist() if k is not None)
        if keys:
            self._fill_context(sorted(keys))

    def _fill_context(self, keys: list[str] | None) -> None:
        """Set the context entries of ``keys`` (None: every code) from the two queries."""
        assert self._ctx is not None
        params: list[Any] = [] if keys is None else [keys]
        where = "" if keys is None else " where list_contains(?, project_key)"
        rows = self.con.execute(f"select * from ({PROJECT_NAMES_SQL}){where}", params).fetchall()
        budgets: dict[str, dict[int, Decimal]] = {k: {} for k in keys or ()}
        for key, year, amount in self.con.execute(
            f"select * from ({BUDGET_HISTORY_SQL}){where}", params
        ).fetchall():
            budgets.setdefault(key, {})[int(year)] = amount
        # new dicts, not changed in place: a pool worker's call may not be pickled yet
        ctx = {part: dict(entries) for part, entries in self._ctx.items()}
        self._ctx = ctx
        for key, department, name in rows:
            ctx["departments"][key] = department
            ctx["names"][key] = name
        for key, years in budgets.items():
            if years:
                ctx["budgets"][key] = years
            else:
                ctx["budgets"].pop(key, None)

    # ------------------------------------------------------------------ write
    def _no_parse(self, item: _Planned) -> FileResult:
        if item.problem is not None:
            return self._quarantine(item, item.problem)
        assert item.skip is not None
        result = FileResult(file=item.name, sha256=item.meta["file_hash"], status=item.skip)
        if item.skip != "skipped_unstable":  # not logged: the next run takes it as new
            self._write_log(item.meta, result, self._now())
        return result

    def _write(self, item: _Planned, prepared: Prepared) -> list[FileResult]:
        """Stage ``item`` in the write group (or quarantine it); the outcomes that are final
        now, in plan order: a group's files are final when the group commits."""
        if prepared.rejection is not None:
            done = self._flush()
            try:
                done.append(self._quarantine(item, prepared.rejection))
            finally:
                self._drop(item)
            return done
        if not self._group:
            self.con.begin()
        try:
            result = self._stage(prepared)
        except (duckdb.IOException, OSError, MemoryError):
            raise  # the disk or the machine, not this file: the run fails
        except Exception:  # an Arrow/DuckDB data error: the group is written again file by file
            log.warning(
                "ingest: staging %s failed; its write group is written file by file", item.name
            )
            return self._replay([*self._group, (item, prepared, None)])
        self._group.append((item, prepared, result))
        self._group_rows += sum(t.num_rows for t in prepared.tables.values())
        self._after_write(item, prepared)
        if len(self._group) >= WRITE_GROUP_FILES or self._group_rows >= WRITE_GROUP_ROWS:
            return self._flush()
        return []

    def _after_write(self, item: _Planned, prepared: Prepared) -> None:
        self.seen.setdefault(prepared.meta["file_hash"], set()).add(item.name)
        if prepared.has_projects or _CONTEXT_TABLES & prepared.tables.keys():
            self._refresh_context(prepared)

    def _stage(self, prepared: Prepared) -> FileResult:
        """Write ``prepared``'s projects and budget tables and its load_log row in the open
        transaction; buffer its other tables for the group's commit (暂存)."""
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
        later: dict[str, pa.Table] = {}
        for table, arrow in prepared.tables.items():
            arrow = fill_column(arrow, "loaded_at", loaded_at)
            if table == "rejected_rows":
                arrow = fill_column(arrow, "load_id", load_id)
            if table in _STAGED_AT_ONCE:
                self._insert_arrow(table, arrow)
            else:
                later[table] = arrow
        self._write_log(meta, result, loaded_at, load_id)
        for table, arrow in later.items():  # only once every statement of the file succeeded
            self._deferred.setdefault(table, []).append(arrow)
        return result

    def _flush(self) -> list[FileResult]:
        """Commit the write group: the buffered tables, one insert each (提交写入组)."""
        if not self._group:
            return []
        group = self._group
        try:
            for table, arrows in self._deferred.items():
                self._insert_arrow(table, pa.concat_tables(arrows))
            self.con.commit()
        except (duckdb.IOException, OSError, MemoryError):
            raise
        except Exception:
            log.warning(
                "ingest: committing a write group of %d files failed; writing them file by file",
                len(group),
            )
            return self._replay(group)
        self._reset_group()
        for item, _p, _r in group:
            self._drop(item)
        return [r for _i, _p, r in group if r is not None]

    def _reset_group(self) -> None:
        self._group, self._deferred, self._group_rows = [], {}, 0

    def _replay(
        self, group: list[tuple[_Planned, Prepared, FileResult | None]]
    ) -> list[FileResult]:
        """Roll the group back and write its files one transaction each (逐个重写): the file
        whose rows the warehouse refuses is quarantined (``parse_error``, stage write), the
        others load. A file parsed with context from a file that is now quarantined is
        parsed again."""
        self.con.rollback()
        self._reset_group()
        self._ctx = None
        self.seen = _seen(self.con)
        done: list[FileResult] = []
        for item, prepared, _r in group:
            try:
                if not prepared.context_still_valid(self._context()):
                    log.info("re-parsing %s: project context changed in this batch", item.name)
                    prepared = self._reparse(item)
                    if prepared.rejection is not None:
                        done.append(self._quarantine(item, prepared.rejection))
                        continue
                self.con.begin()
                try:
                    result = self._stage(prepared)
                    for table, arrows in self._deferred.items():
                        self._insert_arrow(table, pa.concat_tables(arrows))
                    self.con.commit()
                except Exception:
                    self.con.rollback()
                    raise
                finally:
                    self._reset_group()
            except (duckdb.IOException, OSError, MemoryError):
                raise
            except Exception as exc:  # an Arrow/DuckDB data error: this file only
                log.exception("ingest: writing %s failed; quarantined", item.name)
                done.append(self._quarantine(item, parse_error(item.name, exc, stage="write")))
                continue
            done.append(result)
            self._after_write(item, prepared)
        for item, _p, _r in group:
            self._drop(item)
        return done

    def _quarantine(self, item: _Planned, rej: Rejection) -> FileResult:
        """Copy the snapshot byte for byte under the original name, with reason.json; log it
        (隔离). An entry that cannot be copied (symlink, FIFO, unreadable) is only logged."""
        meta = item.meta
        loaded_at = self._now()
        target: Path | None = None
        if item.snapshot is not None:
            folder = self.settings.quarantine / meta["file_hash"]
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / item.path.name  # the original bytes of the name
            shutil.copyfile(item.snapshot, target)
            reason = {
                **rej.to_dict(),
                "file": item.name,
                "sha256": meta["file_hash"],
                "quarantined_at": loaded_at.isoformat() + "Z",
            }
            (folder / "reason.json").write_text(
                json.dumps(reason, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        result = FileResult(
            file=item.name,
            sha256=meta["file_hash"],
            status="quarantined",
            reason_code=rej.reason_code,
            message_zh=rej.message_zh,
            message_en=rej.message_en,
            sheet=rej.sheet,
            cell=rej.cell,
            expected=rej.expected,
            department=rej.department,
            quarantine_path=printable_name(str(target)) if target is not None else None,
            order_signal=meta.get("order_signal"),
        )
        self.con.begin()
        try:
            self._write_log(meta, result, loaded_at)
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        self.seen.setdefault(meta["file_hash"], set()).add(item.name)
        log.warning("quarantined %s: %s", item.name, rej.message_en)
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
            "sheet_name": result.sheet,
            "cell_ref": result.cell,
            "expected": result.expected,
            "department_name": result.department,
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


def _meta(name: str, st: os.stat_result | None, signal: str | None) -> dict[str, Any]:
    """The load_log identity of one entry (hash filled in by the caller)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def at(ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, dt.UTC).replace(tzinfo=None)

    return {
        "file_hash": "",
        "file_name": name,
        "file_size_bytes": st.st_size if st is not None else 0,
        "received_at": at(st.st_mtime) if st is not None else now,
        "arrived_at": at(st.st_ctime) if st is not None else now,
        "order_signal": signal,
    }


def _entry_rejection(kind: str, name: str, path: Path, exc: BaseException | None) -> Rejection:
    """Why an inbox entry was not even copied: a symlink, a FIFO/device, an unreadable file."""
    if kind == "symlink":
        try:
            target = printable_name(os.readlink(path))
        except OSError:
            target = "?"
        return Rejection(
            "symlink",
            f"收件箱中的「{name}」是符号链接（快捷方式），不会跟随打开，也没有复制到隔离区；"
            "请把工作簿文件本身（不是链接）放入收件箱",
            f"'{name}' in the inbox is a symbolic link (to {target}); it is never followed or "
            "opened and nothing was copied to quarantine; put the workbook file itself, not a "
            "link, in the inbox",
            file=name,
            expected="普通的 .xlsx 文件 / a regular .xlsx file",
        )
    if kind == "special":
        return Rejection(
            "unreadable_file",
            f"收件箱中的「{name}」不是普通文件（命名管道、设备或其他特殊文件），未打开，也没有复制"
            "到隔离区；请放入普通的 .xlsx 工作簿文件",
            f"'{name}' in the inbox is not a regular file (a FIFO, device or other special "
            "file); it was not opened and nothing was copied to quarantine; put a regular .xlsx "
            "workbook file in the inbox",
            file=name,
            expected="普通的 .xlsx 文件 / a regular .xlsx file",
        )
    why = f"{type(exc).__name__}: {exc}" if exc is not None else "?"
    return Rejection(
        "unreadable_file",
        f"文件「{name}」无法读取（权限不足或磁盘错误），因此也无法复制到隔离区；请让管理员检查"
        "这个文件的读取权限（载入程序须可读），或重新上传该文件",
        f"the file '{name}' cannot be read ({why}), so no copy could be put in quarantine; "
        "have an administrator check its permissions (the loader must be able to read it) "
        "or upload the file again",
        file=name,
        expected="载入程序可读的文件 / a file the loader can read",
    )


def _table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """raw table -> [(column, duckdb type)] in table order (schema from raw_schema.sql)."""
    return db.typed_columns(con, "raw")
