"""Publishing on the PostgreSQL server: a schema swap (服务器上的发布：模式切换 / issue 17).

With ``JIXIAO_WAREHOUSE=postgres``, :func:`jixiao.pipeline.publish` first publishes the
validated marts into the published DuckDB file exactly as on DuckDB
(:func:`jixiao.publish.publisher.publish`: the marts gate's refusal rules, overrides recorded,
``marts._publish_info``), then :func:`publish_to_server` puts that same version on the server,
in schema :data:`PUBLISHED`, which BI tools connecting to PostgreSQL read:

1. **Source**: the published DuckDB file's ``marts`` schema, every table including the
   publisher's own ``_publish_info`` and ``_published_scores``. It must be the version of
   ``run_id`` (its ``_publish_info``) with the marts fingerprint the gate validated
   (:func:`jixiao.publish.publisher.marts_fingerprint_of`); anything else is refused.
2. **Write** :data:`NEXT` (``published_next``): each table with the server's exact column types
   (``create table ... (like marts.<table>)``; the publisher's own tables, which the server's
   ``marts`` lacks, get the exact PostgreSQL type of their DuckDB type), its rows by ``COPY ...
   FROM STDIN`` from DuckDB's CSV (decimals as their exact text), row counts checked, the file's
   table and column comments carried, and the version in the schema's comment
   (:func:`published_version`: run id, marts fingerprint, time, gate status).
3. **Swap**, in ONE transaction: lock every table of ``published`` (ACCESS EXCLUSIVE: waits
   until every reader transaction that read the old version has ended), rename ``published``
   to ``published_old``, ``published_next`` to ``published``, grant readers and put row-level
   security on it (:func:`jixiao.warehouse.postgres.apply_marts_security` with
   ``schema='published'``: the same policy rules as ever), drop ``published_old``, commit.

The lock is taken with a short ``lock_timeout`` and retried (:data:`LOCK_STEP`, until
``lock_wait_seconds``): the publisher never waits on one table while holding another, so a
reader that reads one table after another cannot deadlock with it. A reader therefore sees
the old version or the new one, never a mix: a transaction that has read from ``published``
keeps the old version until it ends (the swap waits for it); the next statement after the
swap (READ COMMITTED, BI tools' default) reads the new one. One caveat of PostgreSQL (its DDL
is not MVCC-safe): a REPEATABLE READ transaction whose snapshot was taken before the swap but
which had read nothing from ``published`` sees the new tables empty, so a consistent report
reads ``published`` in its first statement.

Any failure, before or inside the swap, leaves the previous ``published`` as it was (the swap
transaction is rolled back, ``published_next`` dropped) and raises :class:`ServerPublishError`
in Chinese and English. Two publishers on one server take turns (an advisory lock). The dbt
build schema ``marts`` is withheld from readers (:func:`jixiao.warehouse.postgres.secure_marts`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jixiao.config import Settings, duckdb_connect
from jixiao.errors import DataError
from jixiao.publish.publisher import (
    INFO_TABLE,
    PublishedTable,
    PublishError,
    marts_fingerprint_of,
    published_tables,
)
from jixiao.warehouse import postgres
from jixiao.warehouse.marts_copy import comment_statements

log = logging.getLogger(__name__)

PUBLISHED = "published"
"""The schema BI readers read on the server (已发布模式)."""
NEXT = "published_next"
OLD = "published_old"
LOCK_STEP = "200ms"
"""How long one attempt waits for a table of ``published`` before it lets go of all of them."""
LOCK_WAIT_SECONDS = 600.0
"""How long a publish keeps trying to lock ``published`` away from its readers."""
ADVISORY_LOCK = 7_117_017  # one publisher at a time per database (发布互斥)


class ServerPublishError(PublishError, DataError):
    """Publishing on the server failed; its ``published`` schema is unchanged (服务器发布失败)."""


@dataclass(frozen=True)
class ServerPublish:
    """What :func:`publish_to_server` put in place (服务器发布结果)."""

    run_id: str
    marts_fingerprint: str
    rows: dict[str, int]
    filtered: int
    shared: int
    withheld: int
    attempts: int
    seconds: float
    lock_wait_seconds: float
    replaced: dict[str, Any] | None = field(default=None)
    """The version the swap replaced (:func:`published_version` before), None on the first."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": PUBLISHED,
            "run_id": self.run_id,
            "marts_fingerprint": self.marts_fingerprint,
            "tables": len(self.rows),
            "rows": sum(self.rows.values()),
            "filtered": self.filtered,
            "shared": self.shared,
            "withheld": self.withheld,
            "attempts": self.attempts,
            "seconds": self.seconds,
            "lock_wait_seconds": self.lock_wait_seconds,
            "replaced_run_id": (self.replaced or {}).get("run_id"),
        }


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: DuckDB type -> the PostgreSQL type holding the same values exactly (the publisher's own
#: tables only; the marts tables take the server's own types with ``like``)
_PG_TYPES = {
    "VARCHAR": "varchar",
    "BOOLEAN": "boolean",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38, 0)",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DOUBLE": "double precision",
    "FLOAT": "real",
}


def _pg_type(table: str, column: str, kind: str) -> str:
    if kind.startswith("DECIMAL(") and kind.endswith(")"):
        return "numeric" + kind[len("DECIMAL") :]
    mapped = _PG_TYPES.get(kind)
    if mapped is None:
        raise ServerPublishError(
            f"发布库列 {table}.{column} 的类型 {kind} 在 PostgreSQL 中没有精确对应，服务器上的"
            f"已发布版本未改变 / published column {table}.{column} of DuckDB type {kind} has no "
            "exact PostgreSQL type; the server's published schema is unchanged"
        )
    return mapped


@dataclass(frozen=True)
class _Export:
    table: PublishedTable
    csv: Path
    rows: int


def _export(
    settings: Settings, source: Path, run_id: str, fingerprint: str, tmp: Path
) -> list[_Export]:
    """Check that ``source`` is the published version ``run_id`` with the gate's
    ``fingerprint``, then write each of its marts tables as CSV (导出已发布版本)."""
    if not source.exists():
        raise ServerPublishError(
            f"找不到发布库 {source}，服务器上的已发布版本未改变；请先运行 jixiao publish / the "
            f"published file {source} does not exist; the server's published schema is "
            "unchanged: run jixiao publish first"
        )
    duck = duckdb_connect(settings, source, read_only=True)
    try:
        row = duck.execute("select current_database()").fetchone()
        catalog = str(row[0]) if row else source.stem
        run_ids = [
            str(r[0])
            for r in duck.execute(f"select distinct run_id from marts.{INFO_TABLE}").fetchall()
        ]
        have = marts_fingerprint_of(duck, catalog)
        if run_ids != [run_id] or have != fingerprint:
            raise ServerPublishError(
                f"发布库 {source} 不是要发布到服务器的版本（批次 {run_ids}，指纹 {have}；应为 "
                f"{run_id}，{fingerprint}），可能另一次发布已替换它；服务器上的已发布版本未改变，"
                "请重新运行 jixiao publish / the published file "
                f"{source} is not the version to publish on the server (run {run_ids}, "
                f"fingerprint {have}; expected {run_id}, {fingerprint}): another publish may "
                "have replaced it. The server's published schema is unchanged; run jixiao "
                "publish again"
            )
        exports = []
        for i, table in enumerate(published_tables(duck, catalog)):
            path = tmp / f"{i}.csv"
            cols = ", ".join(_q(c) for c, _, _ in table.columns)
            duck.execute(
                f"copy (select {cols} from marts.{_q(table.name)}) to {_literal(str(path))}"
                " (format csv, header false)"
            )
            counted = duck.execute(f"select count(*) from marts.{_q(table.name)}").fetchone()
            exports.append(_Export(table, path, int(counted[0]) if counted else 0))
        return exports
    finally:
        duck.close()


def _write_next(cur: Any, exports: list[_Export], version: dict[str, Any]) -> dict[str, int]:
    """Build :data:`NEXT` from the exported tables, in the caller's transaction (写入待切换模式)."""
    cur.execute(f"drop schema if exists {NEXT} cascade")
    cur.execute(f"create schema {NEXT}")
    cur.execute(f"revoke all on schema {NEXT} from public")
    on_server = postgres.schema_tables(cur, postgres.BUILD_SCHEMA)
    rows: dict[str, int] = {}
    for e in exports:
        t = e.table
        target = f"{NEXT}.{_q(t.name)}"
        names = [c for c, _, _ in t.columns]
        if t.name in on_server:
            cur.execute(f"create table {target} (like {postgres.BUILD_SCHEMA}.{_q(t.name)})")
            created = postgres.schema_tables(cur, NEXT).get(t.name, [])
            if created != names:
                raise ServerPublishError(
                    f"服务器上 marts.{t.name} 的列（{', '.join(created)}）与闸门校验过的发布版本"
                    f"（{', '.join(names)}）不同：服务器的集市在闸门之后已改变；服务器上的已发布"
                    "版本未改变，请重新运行当晚流水线 / the server's marts."
                    f"{t.name} has columns ({', '.join(created)}), the version the gate "
                    f"validated ({', '.join(names)}): the server's marts changed after the "
                    "gate. The server's published schema is unchanged; run the night again"
                )
        else:
            cols = ", ".join(f"{_q(c)} {_pg_type(t.name, c, k)}" for c, k, _ in t.columns)
            cur.execute(f"create table {target} ({cols})")
        with e.csv.open("r", encoding="utf-8") as fh:
            cur.copy_expert(
                f"copy {target} ({', '.join(_q(c) for c in names)}) from stdin"
                " with (format csv, header false)",
                fh,
            )
        if int(cur.rowcount) != e.rows:
            raise ServerPublishError(
                f"复制 {t.name} 到服务器行数不符：发布库 {e.rows}，服务器 {cur.rowcount}；服务器上"
                f"的已发布版本未改变 / copying {t.name} to the server: {e.rows} rows in the "
                f"published file, {cur.rowcount} on the server; the published schema is unchanged"
            )
        for statement in comment_statements(target, t.comment, t.columns):
            cur.execute(statement)
        rows[t.name] = e.rows
    cur.execute(f"comment on schema {NEXT} is {_literal(json.dumps(version, ensure_ascii=False))}")
    for table in rows:
        cur.execute(f"analyze {NEXT}.{_q(table)}")
    return rows


def published_version(con: Any, schema: str = PUBLISHED) -> dict[str, Any] | None:
    """Which version the server's ``published`` schema holds (服务器上的已发布版本): run id,
    marts fingerprint, time and gate status, from the schema's comment (anyone connected may
    read it); None when nothing is published there."""
    with con.cursor() as cur:
        cur.execute(
            "select pg_catalog.obj_description(oid, 'pg_namespace')"
            " from pg_catalog.pg_namespace where nspname = %s",
            [schema],
        )
        row = cur.fetchone()
    if not row or not row[0]:
        return None
    try:
        value = json.loads(row[0])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _swap(
    con: Any,
    before_commit: Callable[[Any], None] | None,
    lock_wait_seconds: float,
) -> tuple[postgres.MartsAccess, int, float]:
    """The one transaction that swaps :data:`NEXT` in (模式切换), retried while readers hold
    ``published``; returns the readers' access, the attempts and the seconds waited."""
    import psycopg2.errors

    started = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        try:
            with con, con.cursor() as cur:
                cur.execute(f"set local lock_timeout = '{LOCK_STEP}'")
                current = postgres.schema_tables(cur, PUBLISHED)
                cur.execute("select 1 from pg_catalog.pg_namespace where nspname = %s", [PUBLISHED])
                exists = cur.fetchone() is not None
                if current:
                    tables = ", ".join(f"{PUBLISHED}.{_q(t)}" for t in current)
                    cur.execute(f"lock table {tables} in access exclusive mode")
                cur.execute(f"drop schema if exists {OLD} cascade")
                if exists:
                    cur.execute(f"alter schema {PUBLISHED} rename to {OLD}")
                cur.execute(f"alter schema {NEXT} rename to {PUBLISHED}")
                access = postgres.apply_marts_security(cur, PUBLISHED)
                if before_commit is not None:
                    before_commit(cur)
                if exists:
                    cur.execute(f"drop schema {OLD} cascade")
            return access, attempts, round(time.monotonic() - started, 3)
        except psycopg2.errors.LockNotAvailable:
            waited = time.monotonic() - started
            if waited > lock_wait_seconds:
                raise ServerPublishError(
                    f"读者连续 {waited:.0f} 秒占用服务器上的 {PUBLISHED} 模式，无法切换；已发布版本"
                    f"未改变。请结束长时间运行的读者事务后重新运行 jixiao publish / readers held "
                    f"the server's {PUBLISHED} schema for {waited:.0f} s, so it could not be "
                    "swapped; the published schema is unchanged. End long-running reader "
                    "transactions and run jixiao publish again"
                ) from None
            time.sleep(0.1)


def publish_to_server(
    settings: Settings,
    *,
    run_id: str,
    marts_fingerprint: str,
    source: Path | None = None,
    before_commit: Callable[[Any], None] | None = None,
    lock_wait_seconds: float = LOCK_WAIT_SECONDS,
    address: postgres.PostgresAddress | None = None,
    gate_status: str = "",
) -> ServerPublish:
    """Publish the published DuckDB file's version ``run_id`` (default source
    ``settings.published``) to the server's ``published`` schema by a schema swap (发布到服务器).

    ``marts_fingerprint`` is the one the publisher checked against the marts gate; a source
    with another fingerprint or run id is refused. ``before_commit`` is called with the swap
    transaction's cursor just before the old schema is dropped (tests use it to make the swap
    fail). Raises :class:`ServerPublishError`, bilingual, with the server's ``published``
    unchanged, on any failure.
    """
    import psycopg2

    started = time.monotonic()
    version = {
        "run_id": run_id,
        "marts_fingerprint": marts_fingerprint,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gate_status": gate_status,
    }
    with tempfile.TemporaryDirectory(prefix="jixiao-publish-pg-") as tmp:
        exports = _export(
            settings, source or settings.published, run_id, marts_fingerprint, Path(tmp)
        )
        with postgres.connect(address) as con:
            with con.cursor() as cur:
                cur.execute("select pg_advisory_lock(%s)", [ADVISORY_LOCK])
            con.commit()
            replaced = published_version(con)
            con.rollback()
            try:
                with con, con.cursor() as cur:
                    rows = _write_next(cur, exports, version)
                access, attempts, waited = _swap(con, before_commit, lock_wait_seconds)
            except BaseException as exc:
                try:
                    con.rollback()
                    with con, con.cursor() as cur:
                        cur.execute(f"drop schema if exists {NEXT} cascade")
                except psycopg2.Error:
                    log.exception("could not drop %s after a failed publish", NEXT)
                if isinstance(exc, psycopg2.Error):
                    raise ServerPublishError(
                        f"发布 {run_id} 到服务器失败，服务器上的 {PUBLISHED} 模式未改变（数据库报错"
                        "原文见英文部分）。请检查服务器与集市后重新运行 jixiao publish / "
                        f"publishing {run_id} on the server failed; its {PUBLISHED} schema is "
                        f"unchanged. Check the server and its marts, then run jixiao publish "
                        f"again: {exc}"
                    ) from exc
                raise
            finally:
                # closing the connection releases it too; a broken connection is not a failure
                with contextlib.suppress(psycopg2.Error), con.cursor() as cur:
                    cur.execute("select pg_advisory_unlock(%s)", [ADVISORY_LOCK])
                    con.commit()
    return ServerPublish(
        run_id=run_id,
        marts_fingerprint=marts_fingerprint,
        rows=rows,
        filtered=len(access.filtered),
        shared=len(access.shared),
        withheld=len(access.withheld),
        attempts=attempts,
        seconds=round(time.monotonic() - started, 3),
        lock_wait_seconds=waited,
        replaced=replaced,
    )
