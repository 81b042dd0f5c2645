"""The rows of given load attempts (载入批次的原始行): what a target of the raw layer lacks.

The raw layer is append-only (``src/jixiao/ingest/raw_schema.sql``): ingest never updates or
deletes a loaded row. Every load attempt is one ``raw.load_log`` row (``load_id``,
``file_hash``, ``loaded_at``), and every row it wrote carries that attempt's ``file_hash`` and
``loaded_at`` (:mod:`jixiao.ingest.loader` fills both into every table of a file, the same
``loaded_at`` as its log row; ``loaded_at`` is strictly increasing within a run, so no two
attempts share it). ``raw.rejected_rows`` also carries the ``load_id``. So a row belongs to
exactly one attempt: by ``load_id`` in the tables that have it (``load_log``,
``rejected_rows``), by ``(file_hash, loaded_at)`` in the others. An attempt without data rows
(``skipped_unchanged``, ``duplicate``, ``quarantined``) is its log row alone.

A copy of the raw layer elsewhere (the PostgreSQL server's raw schema,
:func:`jixiao.warehouse.postgres.sync_raw`; the Parquet folders of Spark,
:func:`jixiao.warehouse.spark.export_raw_incremental`) therefore needs only the attempts it
does not hold: :func:`plan` lists them in load order from the staging file (the DuckDB
warehouse ingest writes) given the load_ids the target holds, :func:`groups` cuts them into
groups of :data:`jixiao.ingest.loader.WRITE_GROUP_FILES` attempts (a target writes one group
at a time, its load_log rows with it: they are the target's watermark), and :func:`selects`
gives, per raw base table, the SELECT of exactly one group's rows. This module is the one
place that rule lives; both engines use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jixiao.warehouse import db

LOG_TABLE = "load_log"
ATTEMPT_KEY = "load_id"
"""A table with this column is matched by it; the others by :data:`ROW_KEY`."""
ROW_KEY = ("file_hash", "loaded_at")


@dataclass(frozen=True)
class Attempt:
    """One load attempt, one ``raw.load_log`` row (载入批次)."""

    load_id: str
    file_hash: str
    loaded_at: datetime


@dataclass(frozen=True)
class RawDelta:
    """What the staging file holds that a target lacks (原始层增量)."""

    new: tuple[Attempt, ...]
    """The attempts the target lacks, in load order (``loaded_at``, then ``load_id``)."""
    staged: int
    """Attempts in the staging file."""
    known: int
    """Attempts the target holds."""
    foreign: int
    """Attempts the target holds that the staging file does not (another staging file, a
    reset one): a target in this state cannot be brought up to date by appending."""

    @property
    def up_to_date(self) -> bool:
        return not self.new and not self.foreign


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _register(duck: Any, name: str, load_ids: Iterable[str]) -> None:
    import pyarrow as pa

    duck.register(name, pa.table({ATTEMPT_KEY: pa.array(list(load_ids), pa.string())}))


def plan(duck: Any, known: Iterable[str]) -> RawDelta:
    """The attempts of the staging file (an open DuckDB connection, read-only is enough)
    that are not in ``known`` (the load_ids a target holds), in load order (增量计划)."""
    name = f"_raw_delta_known_{uuid.uuid4().hex}"
    _register(duck, name, known)
    try:
        rows = duck.execute(
            f"select l.load_id, l.file_hash, l.loaded_at from raw.{LOG_TABLE} as l"
            f" where not exists (select 1 from {name} as k where k.load_id = l.load_id)"
            " order by l.loaded_at, l.load_id"
        ).fetchall()
        counts = duck.execute(
            f"select (select count(*) from raw.{LOG_TABLE}), (select count(*) from {name}),"
            f" (select count(*) from {name} as k where not exists"
            f"   (select 1 from raw.{LOG_TABLE} as l where l.load_id = k.load_id))"
        ).fetchall()
    finally:
        duck.unregister(name)
    staged, held, foreign = (int(v) for v in counts[0])
    return RawDelta(
        new=tuple(Attempt(str(a), str(h), t) for a, h, t in rows),
        staged=staged,
        known=held,
        foreign=foreign,
    )


def groups(attempts: Iterable[Attempt], size: int | None = None) -> list[tuple[Attempt, ...]]:
    """``attempts`` in consecutive groups of at most ``size`` (写入组; default
    :data:`jixiao.ingest.loader.WRITE_GROUP_FILES`, as ingest commits them), in their order."""
    if size is None:
        from jixiao.ingest.loader import WRITE_GROUP_FILES  # the loader is heavy to import

        size = WRITE_GROUP_FILES
    if size < 1:
        raise ValueError(f"组大小须为正数 / the group size must be positive, got {size}")
    items = list(attempts)
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def base_tables(duck: Any) -> dict[str, list[str]]:
    """The staging file's raw base tables (no views) and their columns in table order,
    ``load_log`` last (原始层基表): a target that writes the log last has it as its watermark."""
    names = db.columns(duck, "raw", base_tables_only=True)
    ordered = db.typed_columns(duck, "raw")
    tables = {t: [c for c, _ in ordered[t]] for t in sorted(names)}
    if LOG_TABLE in tables:
        tables[LOG_TABLE] = tables.pop(LOG_TABLE)
    return tables


def _timestamp(value: datetime) -> str:
    return f"timestamp '{value.isoformat(sep=' ')}'"


@contextmanager
def selects(
    duck: Any, group: tuple[Attempt, ...], tables: dict[str, list[str]] | None = None
) -> Iterator[dict[str, str]]:
    """Per raw base table, the SELECT of exactly ``group``'s rows (一组批次的行), valid on
    ``duck`` while the context is open (the group is registered on the connection).

    ``tables`` (table -> columns, in the order wanted, e.g. a target's) defaults to the
    staging file's own (:func:`base_tables`); the keys' order is kept. Rows are matched by
    ``load_id`` where the table has it, else by ``(file_hash, loaded_at)``; the ``loaded_at``
    range of the group bounds the scan (rows are stored in load order, so DuckDB skips the
    row groups outside it).
    """
    import pyarrow as pa

    if not group:
        raise ValueError("空的批次组 / an empty group of attempts")
    wanted = tables if tables is not None else base_tables(duck)
    have = db.columns(duck, "raw", base_tables_only=True)
    name = f"_raw_delta_group_{uuid.uuid4().hex}"
    duck.register(
        name,
        pa.table(
            {
                ATTEMPT_KEY: pa.array([a.load_id for a in group], pa.string()),
                "file_hash": pa.array([a.file_hash for a in group], pa.string()),
                "loaded_at": pa.array([a.loaded_at for a in group], pa.timestamp("us")),
            }
        ),
    )
    low = _timestamp(min(a.loaded_at for a in group))
    high = _timestamp(max(a.loaded_at for a in group))
    try:
        out: dict[str, str] = {}
        for table, cols in wanted.items():
            column_list = ", ".join(f"t.{_quoted(c)}" for c in cols)
            source = f"raw.{_quoted(table)} as t"
            if ATTEMPT_KEY in have.get(table, set()):
                match = f"g.{ATTEMPT_KEY} = t.{ATTEMPT_KEY}"
            else:
                match = " and ".join(f"g.{k} = t.{k}" for k in ROW_KEY)
            out[table] = (
                f"select {column_list} from {source}"
                f" where t.loaded_at between {low} and {high}"
                f" and exists (select 1 from {name} as g where {match})"
            )
        yield out
    finally:
        duck.unregister(name)
