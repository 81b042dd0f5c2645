"""Write-audit-publish of the marts for BI readers (集市发布：写入、审核、原子切换).

1. **Write**: copy every table and view of the working warehouse's ``marts`` schema, as
   tables, into a new DuckDB file ``published/.jixiao.<pid>.staging.duckdb`` created with a
   storage version that older DuckDB builds read (see :mod:`jixiao.publish.storage`), add
   ``marts._publish_info`` and export Parquet into a new version folder.
2. **Audit**: CHECKPOINT, close, reopen read-only and check the header's storage number,
   the row counts and a content fingerprint of every table against the source; then run the
   caller's ``audit`` (e.g. a Great Expectations gate on the staged file).
3. **Publish**: hard-link the current file to ``jixiao.previous.duckdb`` and ``os.replace``
   the staged file onto ``jixiao.duckdb``; then swap the ``parquet`` symlink.

**The gate is enforced here**, not by the caller's task order: ``publish`` refuses
(:class:`PublishRefused`) unless the last marts quality gate (``quality/gates/marts.json``)
passed and recorded the content fingerprint of exactly the marts being published (the same
:func:`marts_fingerprint_of` the copy is checked with). ``override_gate=True`` with a
non-empty ``override_reason`` publishes anyway and records who, when, why and the fingerprint
in ``marts._publish_info`` and ``quality/history/publish.jsonl``.

A WAL left beside the published file by a BI client that opened it read-write and crashed is
moved aside before the swap (it belongs to the old file and would make every reader of the
new one fail); a client that still holds the file open read-write makes the publish refuse.
The published file is made read-only on disk (mode 0444).

Any exception before step 3 removes the staged file and folder and leaves the published
version untouched. Readers open the published file read-only; the publisher never opens it
for writing, so no reader can block it or see a partial state. ``rollback`` swaps the
previous version back (a second rollback rolls forward again).
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jixiao.config import Settings, duckdb_connect
from jixiao.errors import DataError, JixiaoError
from jixiao.publish import parquet
from jixiao.publish.readers import (  # re-exported: the public reader API lives here too
    READONLY_CONNECT_ARGS,
    connect_readonly,
    create_readonly_engine,
    sqlalchemy_url,
)
from jixiao.publish.storage import (
    STORAGE_VERSION_NUMBERS,
    configured_storage_version,
    read_storage_number,
)
from jixiao.warehouse import db

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

__all__ = [
    "INFO_TABLE",
    "READONLY_CONNECT_ARGS",
    "SCORES_TABLE",
    "NothingToPublish",
    "PublishAuditFailed",
    "PublishError",
    "PublishRefused",
    "PublishResult",
    "PublishedTable",
    "RollbackUnavailable",
    "connect_readonly",
    "create_readonly_engine",
    "current",
    "marts_fingerprint_of",
    "previous_path",
    "publish",
    "publish_history_path",
    "published_tables",
    "rollback",
    "sqlalchemy_url",
    "warehouse_marts_fingerprint",
]

INFO_TABLE = "_publish_info"
#: Scores as published (已发布得分): every publish appends a snapshot of each project-year's
#: scores and grades from ``marts.mart_project_year`` with its run id and time, after the rows
#: of every earlier publish (read from the current Parquet export), so a report can name the
#: published version it used and an analyst can see what a correction changed.
SCORES_TABLE = "_published_scores"
#: (column, type) of the snapshot, as ``mart_project_year`` names them; a column the mart
#: lacks is null.
SCORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("project_key", "varchar"),
    ("fiscal_year", "integer"),
    ("project_name", "varchar"),
    ("department_name", "varchar"),
    ("reported_score", "decimal(20,2)"),
    ("recomputed_score", "decimal(20,2)"),
    ("evaluator_type", "varchar"),
    ("evaluator_score", "decimal(20,2)"),
    ("grade", "varchar"),
    ("grade_basis", "varchar"),
    ("reported_grade", "varchar"),
    ("evaluator_grade", "varchar"),
    ("output_completion_grade", "varchar"),
    ("execution_rate", "decimal(12,6)"),
    ("flag_count", "integer"),
)
#: Column comments of ``marts._publish_info`` (发布信息表的列说明), bilingual like the dbt yml.
INFO_COLUMN_COMMENTS: dict[str, str] = {
    "run_id": "发布批次号，夜间运行为 Airflow 的 run id (publish run id; Airflow's run id)",
    "published_at": "发布时间 (UTC) (time of the publish, UTC)",
    "table_name": "发布的表名 (published table)",
    "row_count": "该表行数 (rows in the table)",
    "table_fingerprint": "该表内容指纹 (content fingerprint of the table)",
    "marts_fingerprint": "全部集市的内容指纹，与集市闸门记录的一致 (content fingerprint of all "
    "marts, as the marts gate recorded it)",
    "source_warehouse": "来源工作库路径 (working warehouse the copy was made from)",
    "source_modified_at": "来源工作库修改时间 (UTC) (warehouse file modified at, UTC)",
    "storage_version": "发布库存储版本，如 v1.4.0 (storage version of the published file)",
    "writer_duckdb_version": "写入发布库的 DuckDB 版本 (DuckDB version that wrote the file)",
    "gate_status": "集市质量闸门状态 passed / overridden (…) (marts gate status)",
    "gate_run_at": "集市闸门运行时间 (when the marts gate ran)",
    "gate_fingerprint": "集市闸门校验的指纹 (fingerprint the marts gate validated)",
    "override_by": "人工越过闸门者 (who overrode the gate)",
    "override_at": "越过闸门时间 (UTC) (when the gate was overridden, UTC)",
    "override_reason": "越过闸门的原因 (why the gate was overridden)",
}
#: Comments of the snapshot's own columns; the others take ``mart_project_year``'s comment.
SCORES_COLUMN_COMMENTS: dict[str, str] = {
    "publish_run_id": "发布批次号 (publish run id)",
    "published_at": "发布时间 (UTC) (time of the publish, UTC)",
    "marts_fingerprint": "该次发布的集市内容指纹 (content fingerprint of that publish's marts)",
}
LOCK_TIMEOUT_SECONDS = 600.0
PUBLISHED_MODE = 0o444  # the published file is read-only on disk (发布库只读)
STALE_WAL_DIR = "stale-wal"  # where stale WAL files of the published file are kept
_PUB = "jixiao_publish_staging"  # catalog alias of the staged file while it is written
_CURRENT = "jixiao_publish_current"  # catalog alias of the version being replaced


class PublishError(JixiaoError):
    """Publishing failed; the published version is unchanged (发布失败，已发布版本未变)."""


class NothingToPublish(PublishError, DataError):
    """The warehouse has no marts to publish (没有可发布的集市表)."""


class PublishAuditFailed(PublishError, DataError):
    """The staged copy does not match the warehouse (发布审核未通过)."""


class PublishRefused(PublishError, DataError):
    """Publishing was refused by the marts gate check (闸门拒绝发布); nothing changed."""


class RollbackUnavailable(PublishError, DataError):
    """There is no previous version to roll back to (没有可回滚的上一版本)."""


@dataclass(frozen=True)
class PublishResult:
    """What a publish or rollback left in place (发布结果)."""

    action: str  # "publish" or "rollback"
    run_id: str
    published_at: datetime
    path: Path
    previous_path: Path | None
    row_counts: dict[str, int]
    marts_fingerprint: str
    storage_version: str
    storage_number: int
    parquet_dir: Path
    parquet_version: str | None
    source_warehouse: str = ""
    gate_status: str = ""
    override: dict[str, str] | None = None
    #: fiscal years whose mart_project_year rows differ from the version this publish
    #: replaced (变化的年度): the yearly report DAG regenerates those years
    years_changed: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (Airflow XCom)."""
        return {
            "action": self.action,
            "run_id": self.run_id,
            "published_at": self.published_at.isoformat(),
            "path": str(self.path),
            "previous_path": str(self.previous_path) if self.previous_path else None,
            "row_counts": dict(self.row_counts),
            "marts_fingerprint": self.marts_fingerprint,
            "storage_version": self.storage_version,
            "storage_number": self.storage_number,
            "parquet_dir": str(self.parquet_dir),
            "parquet_version": self.parquet_version,
            "source_warehouse": self.source_warehouse,
            "gate_status": self.gate_status,
            "override": dict(self.override) if self.override else None,
            "years_changed": list(self.years_changed),
        }


@dataclass(frozen=True)
class _TableCopy:
    name: str
    row_count: int
    fingerprint: str


# --------------------------------------------------------------------------- helpers


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _s(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def previous_path(settings: Settings) -> Path:
    """``published/jixiao.previous.duckdb``: the version kept for rollback (上一版本)."""
    p = settings.published
    return p.with_name(f"{p.stem}.previous{p.suffix}")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80]


@contextlib.contextmanager
def _publish_lock(settings: Settings, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """One publish or rollback at a time per installation (发布互斥锁)."""
    lock_path = settings.published_dir / ".publish.lock"
    with open(lock_path, "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PublishError(
                        f"另一个发布任务仍在运行（锁文件 {lock_path}，已等待 {timeout:.0f} 秒）/ "
                        f"another publish is still running (lock {lock_path}, "
                        f"waited {timeout:.0f} s)"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link_or_copy(src: Path, dst: Path) -> None:
    """Second name for ``src`` (hard link; copy where links are not supported)."""
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _remove_staged(staged: Path) -> None:
    for p in (staged, staged.with_name(staged.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _clean_leftovers(settings: Settings) -> None:
    """Remove files of a publish that crashed before it could clean up (清理残留)."""
    for p in settings.published_dir.glob(".jixiao.*.duckdb*"):
        p.unlink(missing_ok=True)
    versions = settings.published_dir / parquet.VERSIONS_DIR
    if versions.is_dir():
        for p in versions.glob(".tmp-*"):
            shutil.rmtree(p, ignore_errors=True)


# --------------------------------------------------------------------------- write


def _require_warehouse(warehouse: Path) -> None:
    if not warehouse.exists():
        raise NothingToPublish(
            f"工作库 {warehouse} 不存在：请先运行 dbt 构建 / the working warehouse {warehouse} "
            "does not exist: run the dbt build first"
        )


def _attach_source(con: duckdb.DuckDBPyConnection, warehouse: Path) -> str:
    """Attach the warehouse read-only under its own name, so dbt's views resolve."""
    _require_warehouse(warehouse)
    con.execute(f"attach {_s(str(warehouse))} (read_only)")
    alias = warehouse.stem
    row = con.execute(
        "select count(*) from duckdb_databases() where database_name = ?", [alias]
    ).fetchone()
    if not row or row[0] != 1:
        raise PublishError(f"无法挂载工作库 {warehouse} / could not attach {warehouse}")
    return alias


def _list_marts(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str | None]]:
    """Tables and views of ``catalog.marts`` with their comments, by name (集市对象)."""
    rows = con.execute(
        "select table_name, comment from duckdb_tables() "
        "where database_name = ? and schema_name = 'marts' and not temporary "
        "union all "
        "select view_name, comment from duckdb_views() "
        "where database_name = ? and schema_name = 'marts' and not temporary "
        "order by 1",
        [catalog, catalog],
    ).fetchall()
    return [(str(n), c) for n, c in rows if not str(n).startswith("_")]


@dataclass(frozen=True)
class PublishedTable:
    """One table of a published file's ``marts`` schema as it is (发布库中的一张表)."""

    name: str
    comment: str | None
    columns: tuple[tuple[str, str, str | None], ...]
    """(name, DuckDB type, comment) in table order."""


def published_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[PublishedTable]:
    """Every table of ``catalog.marts`` in a published file, the publisher's own
    (``_publish_info``, ``_published_scores``) included, with its columns, types and comments
    (发布库的表、列与说明): what :mod:`jixiao.publish.postgres` copies to the server."""
    comments = dict(
        con.execute(
            "select table_name, comment from duckdb_tables() "
            "where database_name = ? and schema_name = 'marts' and not temporary",
            [catalog],
        ).fetchall()
    )
    columns: dict[str, list[tuple[str, str, str | None]]] = {}
    for table, column, kind, comment in con.execute(
        "select table_name, column_name, data_type, comment from duckdb_columns() "
        "where database_name = ? and schema_name = 'marts' and table_name in "
        "(select table_name from duckdb_tables() where database_name = ? "
        "and schema_name = 'marts' and not temporary) "
        "order by table_name, column_index",
        [catalog, catalog],
    ).fetchall():
        columns.setdefault(str(table), []).append((str(column), str(kind), comment))
    return [
        PublishedTable(name, comments.get(name), tuple(cols))
        for name, cols in sorted(columns.items())
    ]


def _fingerprint(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> tuple[int, str]:
    """Row count and an order-independent content digest of one table (内容指纹)."""
    cols = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = 'marts' and table_name = ? "
        "order by column_index",
        [catalog, table],
    ).fetchall()
    row = con.execute(
        f"select count(*), coalesce(sum(hash(__jx_row)::hugeint), 0)::varchar "
        f"from {_q(catalog)}.marts.{_q(table)} as __jx_row"
    ).fetchone()
    count, digest = (int(row[0]), str(row[1])) if row else (0, "0")
    signature = repr((cols, count, digest)).encode()
    return count, hashlib.sha256(signature).hexdigest()[:32]


def _copy_comments(
    con: duckdb.DuckDBPyConnection, src: str, name: str, comment: str | None
) -> None:
    target = f"{_PUB}.marts.{_q(name)}"
    if comment:
        con.execute(f"comment on table {target} is {_s(comment)}")
    for column, col_comment in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = ? "
        "and schema_name = 'marts' and table_name = ? and comment is not null",
        [src, name],
    ).fetchall():
        con.execute(f"comment on column {target}.{_q(column)} is {_s(str(col_comment))}")


def _comment_columns(con: duckdb.DuckDBPyConnection, table: str, comments: dict[str, str]) -> None:
    """Comment the columns of a table the publisher writes itself (发布器自建表的列说明)."""
    for column, text in comments.items():
        con.execute(f"comment on column {_PUB}.marts.{_q(table)}.{_q(column)} is {_s(text)}")


def _copy_marts(con: duckdb.DuckDBPyConnection, src: str, warehouse: Path) -> list[_TableCopy]:
    """Materialise every mart of the source as a table in the staged file (复制集市)."""
    objects = _list_marts(con, src)
    if not objects:
        raise NothingToPublish(
            f"工作库 {warehouse} 的 marts 模式中没有表或视图，拒绝发布空库 / schema marts in "
            f"{warehouse} has no tables or views; refusing to publish an empty database"
        )
    con.execute(f"create schema {_PUB}.marts")
    copies = []
    for name, comment in objects:
        con.execute(
            f"create table {_PUB}.marts.{_q(name)} as select * from {_q(src)}.marts.{_q(name)}"
        )
        _copy_comments(con, src, name, comment)
        src_count, src_fp = _fingerprint(con, src, name)
        pub_count, pub_fp = _fingerprint(con, _PUB, name)
        if (src_count, src_fp) != (pub_count, pub_fp):
            raise PublishAuditFailed(
                f"marts.{name} 复制后内容不一致（源 {src_count} 行，副本 {pub_count} 行）/ "
                f"marts.{name} differs after copying (source {src_count} rows, "
                f"copy {pub_count} rows)"
            )
        copies.append(_TableCopy(name, pub_count, pub_fp))
    return copies


def _marts_fingerprint(copies: list[_TableCopy]) -> str:
    joined = "|".join(f"{c.name}:{c.fingerprint}" for c in copies)
    return hashlib.sha256(joined.encode()).hexdigest()[:32]


def marts_fingerprint_of(con: duckdb.DuckDBPyConnection, catalog: str) -> str:
    """Content fingerprint of every mart in ``catalog`` (集市内容指纹).

    The same definition the publisher checks its copy with: the marts gate records it for the
    state it validated, and :func:`publish` refuses a state whose fingerprint differs.
    """
    copies = [
        _TableCopy(name, *_fingerprint(con, catalog, name)) for name, _ in _list_marts(con, catalog)
    ]
    return _marts_fingerprint(copies)


def warehouse_marts_fingerprint(settings: Settings) -> str:
    """:func:`marts_fingerprint_of` the working warehouse, opened read-only (工作库集市指纹)."""
    con = duckdb_connect(settings)
    try:
        return marts_fingerprint_of(con, _attach_source(con, settings.warehouse))
    finally:
        con.close()


# --------------------------------------------------------------------------- gate check


@dataclass(frozen=True)
class _GateCheck:
    """What the last marts gate result says (上次集市闸门结果)."""

    state: str  # "passed" | "failed" | "missing" | "unfingerprinted"
    path: Path
    run_at: str = ""
    run_id: str = ""
    fingerprint: str = ""
    critical_failures: int = 0

    def status_for(self, fingerprint: str) -> str:
        """``passed`` only for a pass on exactly ``fingerprint``; else why not (闸门状态)."""
        if self.state == "passed" and self.fingerprint != fingerprint:
            return "stale"
        return self.state


@dataclass(frozen=True)
class _Override:
    by: str
    at: datetime
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"by": self.by, "at": self.at.isoformat(timespec="seconds"), "reason": self.reason}


def _gate_result_path(settings: Settings) -> Path:
    return settings.quality / "gates" / "marts.json"


def publish_history_path(settings: Settings) -> Path:
    """``quality/history/publish.jsonl``: one line per publish, with any override (发布历史)."""
    return settings.quality / "history" / "publish.jsonl"


def _read_gate(settings: Settings) -> _GateCheck:
    path = _gate_result_path(settings)
    if not path.is_file():
        return _GateCheck("missing", path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _GateCheck("missing", path)
    fingerprint = str(data.get("marts_fingerprint") or "")
    success = bool(data.get("success"))
    state = "failed" if not success else ("passed" if fingerprint else "unfingerprinted")
    return _GateCheck(
        state,
        path,
        run_at=str(data.get("run_at") or ""),
        run_id=str(data.get("run_id") or ""),
        fingerprint=fingerprint,
        critical_failures=int(data.get("critical_failure_count") or 0),
    )


_RERUN_ZH = "请修正数据、重新构建（jixiao build），运行 `jixiao validate --gate marts` 通过后再发布"
_RERUN_EN = (
    "fix the data, rebuild (jixiao build), run `jixiao validate --gate marts` and publish "
    "after it passes"
)


def _refusal(gate: _GateCheck, state: str, fingerprint: str, warehouse: Path) -> PublishRefused:
    """The bilingual refusal for a gate ``state`` other than ``passed`` (拒绝发布的说明)."""
    tail_zh = (
        f"已发布版本未改变。{_RERUN_ZH}；确需越过闸门时用 "
        '`jixiao publish --override-gate --reason "原因"`。'
    )
    tail_en = (
        f"The published version is unchanged. To fix: {_RERUN_EN}; to publish anyway use "
        '`jixiao publish --override-gate --reason "why"`.'
    )
    if state == "missing":
        zh = f"集市质量闸门尚未运行（找不到结果文件 {gate.path}），拒绝发布工作库 {warehouse}。"
        en = (
            f"the marts quality gate has not run (no result file {gate.path}); refusing to "
            f"publish {warehouse}."
        )
    elif state == "failed":
        zh = (
            f"最近一次集市质量闸门（{gate.run_at}，批次 {gate.run_id or '未知'}，结果文件 "
            f"{gate.path}）未通过：{gate.critical_failures} 项关键校验失败，应为 0，拒绝发布。"
        )
        en = (
            f"the last marts quality gate ({gate.run_at}, run {gate.run_id or 'unknown'}, result "
            f"file {gate.path}) failed: {gate.critical_failures} critical expectation(s) failed, "
            "expected 0; refusing to publish."
        )
    elif state == "unfingerprinted":
        zh = (
            f"最近一次集市质量闸门（{gate.run_at}，结果文件 {gate.path}）没有记录集市指纹，"
            "无法确认它校验的就是要发布的数据，拒绝发布。"
        )
        en = (
            f"the last marts quality gate ({gate.run_at}, result file {gate.path}) recorded no "
            "marts fingerprint, so it cannot vouch for the data being published; refusing."
        )
    else:  # stale
        zh = (
            f"工作库 {warehouse} 的集市在闸门通过（{gate.run_at}）之后已改变：闸门校验的指纹为 "
            f"{gate.fingerprint}，现在为 {fingerprint}，拒绝发布未经校验的数据。"
        )
        en = (
            f"the marts in {warehouse} changed after the gate passed ({gate.run_at}): the gate "
            f"validated fingerprint {gate.fingerprint}, the warehouse now has {fingerprint}; "
            "refusing to publish unvalidated data."
        )
    return PublishRefused(f"{zh}{tail_zh} / {en} {tail_en}")


def _override(override_gate: bool, reason: str | None, by: str | None) -> _Override | None:
    if not override_gate:
        return None
    text = (reason or "").strip()
    if not text:
        raise PublishRefused(
            "越过质量闸门必须写明原因（--reason 为空），拒绝发布，已发布版本未改变。"
            '请用 `jixiao publish --override-gate --reason "原因"` / overriding the quality gate '
            "needs a reason (--reason is empty); refusing to publish, the published version is "
            'unchanged. Use `jixiao publish --override-gate --reason "why"`'
        )
    who = (by or "").strip() or os.environ.get("JIXIAO_OPERATOR") or _user()
    return _Override(who, datetime.now(UTC), text)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _record_history(settings: Settings, result: PublishResult, gate: _GateCheck) -> None:
    path = publish_history_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "run_id": result.run_id,
        "published_at": result.published_at.isoformat(timespec="seconds"),
        "marts_fingerprint": result.marts_fingerprint,
        "gate_status": result.gate_status,
        "gate_run_at": gate.run_at,
        "gate_run_id": gate.run_id,
        "gate_fingerprint": gate.fingerprint,
        "override": result.override,
    }
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- stale WAL


def _writer_pid(path: Path) -> int | None:
    """PID of a process holding ``path`` open read-write through DuckDB, else None.

    DuckDB takes a POSIX write lock on a file it opens read-write (read locks for read-only
    opens). ``F_GETLK`` asks without taking a lock, so this process's own locks are untouched.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            query = struct.pack("hhqqi", fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0) + b"\0" * 4
            answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
            kind, _, _, _, pid = struct.unpack("hhqqi", answer[:28])
            return int(pid) if kind != fcntl.F_UNLCK else None
        except (OSError, struct.error):  # pragma: no cover - other platforms: try the lock
            try:
                fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return -1
            return None
    finally:
        os.close(fd)


def _handle_wal(settings: Settings, db: Path) -> Path | None:
    """Refuse while a client holds ``db`` read-write; move a stale WAL aside (处理残留 WAL)."""
    if not db.exists():
        return None
    wal = db.with_name(db.name + ".wal")
    pid = _writer_pid(db)
    if pid is not None:
        who_zh = f"进程 {pid}" if pid > 0 else "另一进程"
        who_en = f"process {pid}" if pid > 0 else "another process"
        raise PublishRefused(
            f"{db} 正被{who_zh}以读写方式打开，应只读打开。拒绝发布或回滚，已发布版本未改变。"
            "请关闭该 BI 客户端或脚本，改为只读连接（read_only=True）后重试 / "
            f"{db} is open read-write by {who_en}; readers must open it read-only. "
            "Refusing to publish or roll back; the published version is unchanged. Close that "
            "BI client or script, reconnect with read_only=True and retry"
        )
    if not wal.exists():
        return None
    keep = settings.published_dir / STALE_WAL_DIR
    keep.mkdir(parents=True, exist_ok=True)
    target = keep / f"{db.name}.{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.wal"
    os.replace(wal, target)
    return target


def _write_info(
    con: duckdb.DuckDBPyConnection,
    copies: list[_TableCopy],
    *,
    run_id: str,
    published_at: datetime,
    warehouse: Path,
    storage_version: str,
    gate: _GateCheck,
    override: _Override | None,
) -> str:
    """Record ``marts._publish_info``, one row per published table (发布信息表)."""
    import duckdb

    fingerprint = _marts_fingerprint(copies)
    gate_status = gate.status_for(fingerprint)
    if override is not None:
        gate_status = f"overridden ({gate_status})"
    modified = datetime.fromtimestamp(warehouse.stat().st_mtime, UTC).replace(tzinfo=None)
    con.execute(
        f"""create table {_PUB}.marts.{INFO_TABLE} (
            run_id varchar not null,
            published_at timestamp not null,
            table_name varchar not null,
            row_count bigint not null,
            table_fingerprint varchar not null,
            marts_fingerprint varchar not null,
            source_warehouse varchar not null,
            source_modified_at timestamp not null,
            storage_version varchar not null,
            writer_duckdb_version varchar not null,
            gate_status varchar not null,
            gate_run_at varchar,
            gate_fingerprint varchar,
            override_by varchar,
            override_at timestamp,
            override_reason varchar
        )"""
    )
    con.execute(
        f"comment on table {_PUB}.marts.{INFO_TABLE} is "
        "'发布信息：每次发布的批次号、时间(UTC)、各表行数与内容指纹、质量闸门状态与人工越过记录 / "
        "publish info: run id, time (UTC), row count and content fingerprint of every published "
        "table, the marts gate status and any override (who, when, why)'"
    )
    _comment_columns(con, INFO_TABLE, INFO_COLUMN_COMMENTS)
    naive_at = published_at.astimezone(UTC).replace(tzinfo=None)
    con.executemany(
        f"insert into {_PUB}.marts.{INFO_TABLE} values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                run_id,
                naive_at,
                c.name,
                c.row_count,
                c.fingerprint,
                fingerprint,
                str(warehouse),
                modified,
                storage_version,
                duckdb.__version__,
                gate_status,
                gate.run_at or None,
                gate.fingerprint or None,
                override.by if override else None,
                override.at.astimezone(UTC).replace(tzinfo=None) if override else None,
                override.reason if override else None,
            ]
            for c in copies
        ],
    )
    return fingerprint


@dataclass(frozen=True)
class _Staged:
    file: Path
    parquet_dir: Path | None
    copies: list[_TableCopy]
    fingerprint: str
    years_changed: tuple[int, ...] = ()


def _published_year_fingerprints(
    con: duckdb.DuckDBPyConnection, settings: Settings
) -> dict[int, tuple[int, int]] | None:
    """:func:`jixiao.warehouse.db.year_fingerprints` of the version now published, attached
    read-only; ``{}`` when nothing is published yet, None when it cannot be read (then every
    staged year counts as changed: reports are regenerated rather than missed)."""
    import duckdb

    if not settings.published.exists():
        return {}
    try:
        con.execute(f"attach {_s(str(settings.published))} as {_CURRENT} (read_only)")
    except duckdb.Error as exc:
        log.warning(
            "cannot read the published version's years (%s): all years count as changed", exc
        )
        return None
    try:
        return db.year_fingerprints(con, _CURRENT)
    finally:
        con.execute(f"detach {_CURRENT}")


def _build(
    settings: Settings,
    staged: Path,
    *,
    run_id: str,
    published_at: datetime,
    storage_version: str,
    gate: _GateCheck,
    override: _Override | None,
) -> _Staged:
    """Write the staged file and Parquet version folder (写入暂存库)."""
    con = duckdb_connect(settings)
    parquet_dir: Path | None = None
    try:
        src = _attach_source(con, settings.warehouse)
        con.execute(f"attach {_s(str(staged))} as {_PUB} (storage_version {_s(storage_version)})")
        copies = _copy_marts(con, src, settings.warehouse)
        fingerprint = _write_info(
            con,
            copies,
            run_id=run_id,
            published_at=published_at,
            warehouse=settings.warehouse,
            storage_version=storage_version,
            gate=gate,
            override=override,
        )
        _write_published_scores(
            con,
            src,
            settings,
            run_id=run_id,
            published_at=published_at,
            fingerprint=fingerprint,
        )
        version_id = f"{published_at:%Y%m%dT%H%M%S%fZ}_{_safe(run_id)}"
        parquet_dir = parquet.stage_parquet(
            con,
            _PUB,
            [c.name for c in copies] + [INFO_TABLE, SCORES_TABLE],
            settings.published_dir,
            version_id,
        )
        con.execute(f"checkpoint {_PUB}")
        before = _published_year_fingerprints(con, settings)
        after = db.year_fingerprints(con, _PUB)
        years = db.changed_years(before, after) if before is not None else sorted(after)
        con.execute(f"detach {_PUB}")
        con.execute(f"detach {_q(src)}")
        return _Staged(staged, parquet_dir, copies, fingerprint, tuple(years))
    except BaseException:
        if parquet_dir is not None:
            shutil.rmtree(parquet_dir, ignore_errors=True)
        raise
    finally:
        con.close()


def _write_published_scores(
    con: duckdb.DuckDBPyConnection,
    src: str,
    settings: Settings,
    *,
    run_id: str,
    published_at: datetime,
    fingerprint: str,
) -> None:
    """Write ``marts._published_scores``: earlier publishes' rows plus this one's (已发布得分)."""
    import duckdb

    columns = ",\n            ".join(f"{name} {kind}" for name, kind in SCORE_COLUMNS)
    con.execute(
        f"""create table {_PUB}.marts.{SCORES_TABLE} (
            publish_run_id varchar not null,
            published_at timestamp not null,
            marts_fingerprint varchar not null,
            {columns}
        )"""
    )
    con.execute(
        f"comment on table {_PUB}.marts.{SCORES_TABLE} is "
        "'已发布得分：每次发布时各项目年度的得分与等级快照（批次号、发布时间 UTC），含历次发布，"
        "可据此说明报告所用版本、对比更正前后 / scores as published: a snapshot of every "
        "project-year''s scores and grades at each publish (run id, time UTC), earlier publishes "
        "included, so a report can name the version it used and a correction can be compared'"
    )
    mart_comments = {
        str(name): str(comment)
        for name, comment in con.execute(
            "select column_name, comment from duckdb_columns() where database_name = ? "
            "and schema_name = 'marts' and table_name = 'mart_project_year' "
            "and comment is not null",
            [src],
        ).fetchall()
    }
    _comment_columns(
        con,
        SCORES_TABLE,
        {
            **{
                n: mart_comments.get(n)
                or f"发布时 mart_project_year.{n} 的值 (mart_project_year.{n} as published)"
                for n, _ in SCORE_COLUMNS
            },
            **SCORES_COLUMN_COMMENTS,
        },
    )
    names = ", ".join(
        ["publish_run_id", "published_at", "marts_fingerprint"] + [n for n, _ in SCORE_COLUMNS]
    )
    # the current and the previous export: after a rollback the version rolled back from is
    # the previous one, and what it published must stay in the history (它可能已写入报告)
    earlier = [
        settings.published_dir / link / SCORES_TABLE
        for link in (parquet.CURRENT_LINK, parquet.PREVIOUS_LINK)
    ]
    patterns = [
        _s(str(folder.resolve() / "**" / "*.parquet"))
        for folder in earlier
        if folder.is_dir() and any(folder.rglob("*.parquet"))
    ]
    if patterns:
        try:
            con.execute(
                f"insert into {_PUB}.marts.{SCORES_TABLE} ({names}) select distinct {names} "
                f"from read_parquet([{', '.join(patterns)}], hive_partitioning = false, "
                "union_by_name = true)"
            )
        except duckdb.Error as exc:
            raise PublishError(
                f"读取历次已发布得分 {earlier[0]} 失败，本次未发布、已发布版本未改变；"
                "请检查该目录 / "
                f"could not read the scores of earlier publishes in {earlier[0]}; nothing was "
                f"published and the published version is unchanged: {exc}"
            ) from exc
    present = {
        str(r[0])
        for r in con.execute(
            "select column_name from duckdb_columns() where database_name = ? "
            "and schema_name = 'marts' and table_name = 'mart_project_year'",
            [src],
        ).fetchall()
    }
    if not present:
        return
    values = ", ".join(
        f"cast({_q(n)} as {kind})" if n in present else f"cast(null as {kind})"
        for n, kind in SCORE_COLUMNS
    )
    naive_at = published_at.astimezone(UTC).replace(tzinfo=None)
    con.execute(
        f"insert into {_PUB}.marts.{SCORES_TABLE} ({names}) "
        f"select ?, ?, ?, {values} from {_q(src)}.marts.mart_project_year",
        [run_id, naive_at, fingerprint],
    )


# --------------------------------------------------------------------------- audit


def _audit(settings: Settings, staged: _Staged, run_id: str, storage_version: str) -> int:
    """Reopen the closed staged file read-only and check it (审核暂存库)."""
    wal = staged.file.with_name(staged.file.name + ".wal")
    if wal.exists():
        raise PublishAuditFailed(
            f"暂存库仍有未合并的 WAL 文件 {wal} / the staged file still has a WAL {wal}"
        )
    number = read_storage_number(staged.file)
    expected_number = STORAGE_VERSION_NUMBERS[storage_version]
    if number != expected_number:
        raise PublishAuditFailed(
            f"暂存库存储版本号为 {number}，应为 {expected_number}（{storage_version}）/ "
            f"staged file has storage number {number}, expected {expected_number} "
            f"({storage_version})"
        )
    con = duckdb_connect(settings, staged.file, read_only=True)
    try:
        info = dict(con.execute(f"select table_name, row_count from marts.{INFO_TABLE}").fetchall())
        run_ids = con.execute(f"select distinct run_id from marts.{INFO_TABLE}").fetchall()
        if run_ids != [(run_id,)]:
            raise PublishAuditFailed(
                f"_publish_info 的批次号 {run_ids} 应为 {run_id!r} / run id in _publish_info "
                f"is {run_ids}, expected {run_id!r}"
            )
        for c in staged.copies:
            row = con.execute(f"select count(*) from marts.{_q(c.name)}").fetchone()
            actual = int(row[0]) if row else -1
            if actual != c.row_count or info.get(c.name) != c.row_count:
                raise PublishAuditFailed(
                    f"marts.{c.name} 行数 {actual}，应为 {c.row_count} / marts.{c.name} has "
                    f"{actual} rows, expected {c.row_count}"
                )
    finally:
        con.close()
    return number


# --------------------------------------------------------------------------- publish


def _swap_database(settings: Settings, staged: Path) -> Path | None:
    """Keep the current file as previous, then rename the staged file into place (原子切换)."""
    published, previous = settings.published, previous_path(settings)
    kept: Path | None = None
    if published.exists():
        hold = settings.published_dir / f".jixiao.{os.getpid()}.hold.duckdb"
        _link_or_copy(published, hold)
        os.replace(hold, previous)
        kept = previous
    os.chmod(staged, PUBLISHED_MODE)
    os.replace(staged, published)
    _fsync_dir(settings.published_dir)
    return kept


def _is_duckdb_error(exc: BaseException) -> bool:
    import duckdb

    return isinstance(exc, duckdb.Error)


def publish(
    settings: Settings,
    run_id: str | None = None,
    *,
    audit: Callable[[Path], object] | None = None,
    storage_version: str | None = None,
    override_gate: bool = False,
    override_reason: str | None = None,
    override_by: str | None = None,
) -> PublishResult:
    """Write, audit and atomically publish the marts (发布集市).

    ``run_id`` (e.g. Airflow's run id) is recorded in ``marts._publish_info``; the default is
    ``manual__<UTC time>``. ``audit`` is called with the path of the closed staged file before
    the swap; if it raises, nothing is published. ``storage_version`` defaults to
    ``$JIXIAO_PUBLISH_STORAGE_VERSION`` or ``v1.4.0`` (readable by DuckDB >= 1.4).

    Raises :class:`PublishRefused` unless the last marts gate passed on exactly the marts being
    copied. ``override_gate=True`` publishes anyway; it needs a non-empty ``override_reason``
    and is recorded with ``override_by`` (default ``$JIXIAO_OPERATOR`` or the OS user).
    """
    override = _override(override_gate, override_reason, override_by)
    version = storage_version or configured_storage_version()
    if version not in STORAGE_VERSION_NUMBERS:
        raise PublishError(
            f"存储版本 {version!r} 无效，应为 {', '.join(STORAGE_VERSION_NUMBERS)} 之一 / "
            f"invalid storage version {version!r}; expected one of "
            f"{', '.join(STORAGE_VERSION_NUMBERS)}"
        )
    published_at = datetime.now(UTC)
    rid = run_id or f"manual__{published_at:%Y%m%dT%H%M%S%fZ}"
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    with _publish_lock(settings):
        _clean_leftovers(settings)
        _require_warehouse(settings.warehouse)
        gate = _read_gate(settings)
        if override is None and gate.state != "passed":
            raise _refusal(gate, gate.state, "", settings.warehouse)
        staged_file = settings.published_dir / f".jixiao.{os.getpid()}.staging.duckdb"
        _remove_staged(staged_file)
        staged: _Staged | None = None
        try:
            staged = _build(
                settings,
                staged_file,
                run_id=rid,
                published_at=published_at,
                storage_version=version,
                gate=gate,
                override=override,
            )
            state = gate.status_for(staged.fingerprint)
            if override is None and state != "passed":
                raise _refusal(gate, state, staged.fingerprint, settings.warehouse)
            number = _audit(settings, staged, rid, version)
            _handle_wal(settings, settings.published)
            if audit is not None:
                audit(staged_file)
            kept = _swap_database(settings, staged_file)
        except BaseException as exc:
            _remove_staged(staged_file)
            if staged is not None and staged.parquet_dir is not None:
                shutil.rmtree(staged.parquet_dir, ignore_errors=True)
            if _is_duckdb_error(exc):
                raise PublishError(
                    f"发布 {rid} 失败，已发布版本未改变（工作库 {settings.warehouse}；"
                    "数据库报错原文见英文部分）。请检查工作库能否打开、dbt 构建是否完整后重试 / "
                    f"publishing {rid} failed; the published version is unchanged "
                    f"(warehouse {settings.warehouse}): {exc}"
                ) from exc
            raise
        assert staged.parquet_dir is not None
        parquet.swap_in(settings.published_dir, staged.parquet_dir)
        gate_status = gate.status_for(staged.fingerprint)
        result = PublishResult(
            action="publish",
            run_id=rid,
            published_at=published_at,
            path=settings.published,
            previous_path=kept,
            row_counts={c.name: c.row_count for c in staged.copies},
            marts_fingerprint=staged.fingerprint,
            storage_version=version,
            storage_number=number,
            parquet_dir=settings.published_dir / parquet.CURRENT_LINK,
            parquet_version=parquet.current_version(settings.published_dir),
            source_warehouse=str(settings.warehouse),
            gate_status=gate_status if override is None else f"overridden ({gate_status})",
            override=override.to_dict() if override else None,
            years_changed=staged.years_changed,
        )
        _record_history(settings, result, gate)
    return result


# --------------------------------------------------------------------------- rollback


def _describe(settings: Settings, action: str) -> PublishResult:
    """Read ``_publish_info`` of the published file (读取当前发布信息)."""
    con = connect_readonly(settings)
    try:
        rows = con.execute(
            f"select run_id, published_at, table_name, row_count, marts_fingerprint, "
            f"storage_version, source_warehouse from marts.{INFO_TABLE} order by table_name"
        ).fetchall()
    finally:
        con.close()
    if not rows:
        raise PublishError(
            f"{settings.published} 缺少发布信息 marts.{INFO_TABLE} / {settings.published} has "
            f"no marts.{INFO_TABLE}"
        )
    first = rows[0]
    prev = previous_path(settings)
    return PublishResult(
        action=action,
        run_id=str(first[0]),
        published_at=first[1].replace(tzinfo=UTC),
        path=settings.published,
        previous_path=prev if prev.exists() else None,
        row_counts={str(r[2]): int(r[3]) for r in rows},
        marts_fingerprint=str(first[4]),
        storage_version=str(first[5]),
        storage_number=read_storage_number(settings.published),
        parquet_dir=settings.published_dir / parquet.CURRENT_LINK,
        parquet_version=parquet.current_version(settings.published_dir),
        source_warehouse=str(first[6]),
    )


def rollback(settings: Settings) -> PublishResult:
    """Swap the previous published version back in (回滚到上一版本).

    The version rolled back from becomes the previous one, so a second rollback undoes the
    first. The DuckDB file and the Parquet folder are both swapped.
    """
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    previous = previous_path(settings)
    with _publish_lock(settings):
        if not previous.exists():
            raise RollbackUnavailable(
                f"没有上一版本 {previous}，无法回滚（至少需要发布两次）/ no previous version "
                f"{previous} to roll back to (needs at least two publishes)"
            )
        _handle_wal(settings, settings.published)
        _handle_wal(settings, previous)
        hold: Path | None = None
        if settings.published.exists():
            hold = settings.published_dir / f".jixiao.{os.getpid()}.hold.duckdb"
            _link_or_copy(settings.published, hold)
        os.replace(previous, settings.published)
        if hold is not None:
            os.replace(hold, previous)
        _fsync_dir(settings.published_dir)
        parquet.swap_back(settings.published_dir)
    return _describe(settings, "rollback")


def current(settings: Settings) -> PublishResult:
    """What is published now (当前发布版本)."""
    return _describe(settings, "current")
