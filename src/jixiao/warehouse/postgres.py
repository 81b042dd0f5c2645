"""The raw layer on a PostgreSQL server (PostgreSQL 原始层 / issue 17).

With ``JIXIAO_WAREHOUSE=postgres`` dbt builds the project on a PostgreSQL server (the
``postgres`` target of dbt_project/profiles.yml). This module puts the raw layer there:

* :func:`create_raw_schema` runs ``src/jixiao/ingest/raw_schema.sql`` itself on the server.
  The file is written in SQL that both engines accept (``create table if not exists``,
  ``varchar``, ``decimal(p, s)``, ``alter table ... add column if not exists``, window
  functions), so the current-submission views ``raw._submission_versions`` and
  ``raw._submission_tables`` are the SAME rule on both engines, not a second copy.
* :func:`sync_raw` (what the nightly runs) brings the server up to date with the DuckDB
  staging file incrementally: it reads the load_ids the server holds, and COPYs only the rows
  of the attempts it lacks (:mod:`jixiao.warehouse.raw_delta`, the one rule for "the rows of
  these attempts"), one transaction per group of :data:`jixiao.ingest.loader.WRITE_GROUP_FILES`
  attempts with the group's ``raw.load_log`` rows in it. The load_log is the watermark: a
  crash leaves the server at a group boundary and the next sync continues there. Nothing new:
  no COPY at all. A server that holds attempts the staging file does not (another staging
  file, a reset one) is not mixed with it: the sync falls back to the full copy and says so
  in its result (``mode: full``), so the server's raw tables are again an exact copy of the
  staging file's.
* :func:`copy_raw_tables` (:func:`load_raw`) copies every raw table of a DuckDB file with
  COPY: DuckDB writes the table as CSV (decimals as their exact text, never a float),
  PostgreSQL reads it with ``COPY ... FROM STDIN``; all tables are emptied and filled in one
  transaction, so the server's raw tables become an exact copy of the file's (a crash leaves
  the old copy), then ``ANALYZE`` so the planner knows the new row counts.

The server's address comes from the environment, as dbt's profile reads it
(:func:`connection_settings`). The database must use the ``C`` collation (:func:`check_collation`):
DuckDB orders text by its bytes, and a model that ranks by a text column must rank the same
way on both engines.
:func:`secure_marts` (after every dbt build) gives BI readers the read-only role
:data:`READER_ROLE` and row-level security per department on the marts tables
(:func:`map_department_reader` maps a role to a department; no mapping: no rows).
:func:`copy_marts_to_duckdb` brings the built marts back into the DuckDB working file, one
consistent snapshot of the server, for the marts gate to validate and publish to publish.
The nightly on PostgreSQL (:mod:`jixiao.pipeline`): ingest writes the DuckDB file (the staging
store) and then :func:`sync_raw` writes the new attempts' rows to the server (a server that is
down leaves the ingest loaded, with a warning); ``dbt_build`` runs :func:`sync_raw` again (a
no-op, or it catches up), dbt on the server and :func:`secure_marts`, the marts gate validates
:func:`copy_marts_from_server`'s copy, publish publishes it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jixiao.config import Settings, duckdb_connect
from jixiao.errors import DataError
from jixiao.warehouse import db, raw_delta
from jixiao.warehouse.marts_copy import CopiedTable, replace_schemas

log = logging.getLogger(__name__)

RAW_SCHEMA_SQL = Path(__file__).resolve().parents[1] / "ingest" / "raw_schema.sql"
"""The one definition of the raw schema and its views, run unchanged on both engines."""


@dataclass(frozen=True)
class PostgresAddress:
    """Where the PostgreSQL warehouse is (PostgreSQL 连接参数), as profiles.yml reads it."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    def dsn(self) -> dict[str, Any]:
        """Keyword arguments for :func:`psycopg2.connect`."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }


def connection_settings() -> PostgresAddress:
    """The server from ``JIXIAO_PG_HOST`` / ``_PORT`` / ``_USER`` / ``_PASSWORD`` / ``_DBNAME``
    (defaults 127.0.0.1, 5432, jixiao, no password, jixiao; the same as profiles.yml's)."""
    raw_port = os.environ.get("JIXIAO_PG_PORT") or "5432"
    try:
        port = int(raw_port)
    except ValueError as exc:
        raise ValueError(
            f"JIXIAO_PG_PORT 须为端口号，实际为 {raw_port!r} / "
            f"JIXIAO_PG_PORT must be a port number, got {raw_port!r}"
        ) from exc
    return PostgresAddress(
        host=os.environ.get("JIXIAO_PG_HOST") or "127.0.0.1",
        port=port,
        user=os.environ.get("JIXIAO_PG_USER") or "jixiao",
        password=os.environ.get("JIXIAO_PG_PASSWORD") or "",
        dbname=os.environ.get("JIXIAO_PG_DBNAME") or "jixiao",
    )


@contextmanager
def connect(address: PostgresAddress | None = None) -> Iterator[Any]:
    """An open psycopg2 connection to the warehouse (连接 PostgreSQL), closed afterwards."""
    import psycopg2

    con = psycopg2.connect(**(address or connection_settings()).dsn())
    try:
        con.set_client_encoding("UTF8")
        yield con
    finally:
        con.close()


#: Collations that order text by its bytes (UTF-8 code points), as DuckDB does (字节序排序规则).
BYTE_ORDER_COLLATIONS = frozenset({"C", "POSIX", "C.UTF-8", "C.utf8"})


def check_collation(con: Any) -> str:
    """Refuse a database whose default collation is not byte order (排序规则检查).

    Models rank rows by text (file and sheet names, flag codes) and compare text: under a
    linguistic collation (``zh_CN``, ``en_US``, any ICU locale) PostgreSQL would order them
    otherwise than DuckDB and the marts would differ. Create the database with
    ``template template0 locale 'C'`` (or ``initdb --locale=C``). Returns the collation.
    """
    with con.cursor() as cur:
        cur.execute(
            "select datcollate, datlocprovider from pg_database where datname = current_database()"
        )
        collate, provider = cur.fetchone()
    con.rollback()
    if provider != "c" or collate not in BYTE_ORDER_COLLATIONS:
        raise DataError(
            f"PostgreSQL 数据库的排序规则须为 C（字节序），实际为 {collate}（{provider}）："
            "请以 locale 'C' 建库 / the PostgreSQL database must use the C (byte order) "
            f"collation, as DuckDB orders text, not {collate} (provider {provider}): "
            "create it with template template0 locale 'C'"
        )
    return str(collate)


def create_raw_schema(con: Any) -> None:
    """Create (or extend) the raw schema and its views on the server (建立原始层), in one
    transaction, from the same raw_schema.sql DuckDB runs."""
    with con, con.cursor() as cur:
        cur.execute(RAW_SCHEMA_SQL.read_text(encoding="utf-8"))


def raw_tables(con: Any) -> dict[str, list[str]]:
    """The server's raw base tables and their columns in table order (原始表及其列)."""
    with con.cursor() as cur:
        cur.execute(
            "select c.table_name, c.column_name from information_schema.columns as c"
            " join information_schema.tables as t"
            "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
            " where c.table_schema = 'raw' and t.table_type = 'BASE TABLE'"
            " order by c.table_name, c.ordinal_position"
        )
        tables: dict[str, list[str]] = {}
        for table, column in cur.fetchall():
            tables.setdefault(str(table), []).append(str(column))
    con.rollback()
    return tables


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_columns(
    tables: dict[str, list[str]], duck_columns: dict[str, set[str]], database: Path
) -> None:
    """Refuse a staging file that lacks a column of the server's raw tables."""
    for table, cols in tables.items():
        have = duck_columns.get(table, set())
        missing = [c for c in cols if c not in have]
        if missing:
            raise DataError(
                f"DuckDB 文件缺少原始层列 raw.{table}({', '.join(missing)}) / the DuckDB "
                f"file lacks raw.{table} columns {', '.join(missing)}: {database}"
            )


def _raw_server_tables(con: Any) -> dict[str, list[str]]:
    tables = raw_tables(con)
    if not tables:
        raise DataError(
            "PostgreSQL 上没有原始层表，请先建立原始层 / the server has no raw tables: "
            "run create_raw_schema first"
        )
    return tables


def _write_csv(duck: Any, select: str, path: Path) -> None:
    # DuckDB writes NULL as an empty field and '' as "" (quoted): PostgreSQL's CSV COPY
    # reads them back the same way; decimals and timestamps as exact text
    duck.execute(f"copy ({select}) to {_literal(str(path))} (format csv, header false)")


def _copy_in(cur: Any, table: str, cols: list[str], path: Path) -> int:
    column_list = ", ".join(_quoted(c) for c in cols)
    with path.open("r", encoding="utf-8") as fh:
        cur.copy_expert(
            f"copy raw.{_quoted(table)} ({column_list}) from stdin with (format csv, header false)",
            fh,
        )
    return int(cur.rowcount)


def _analyze(con: Any, tables: list[str]) -> None:
    # fresh statistics: without them the planner takes a just-filled table for empty and
    # joins raw._submission_tables by nested loops (the variant corpus' 37 000 submissions:
    # over 200 s for one count, 0.6 s after analyze)
    with con, con.cursor() as cur:
        for table in tables:
            cur.execute(f"analyze raw.{_quoted(table)}")


def copy_raw_tables(settings: Settings, con: Any, source: Path | None = None) -> dict[str, int]:
    """Copy every raw table of the DuckDB file ``source`` (default: ``settings.warehouse``)
    into the server's raw schema with COPY (复制原始表), all tables in one transaction (each
    emptied first: the server's raw tables become an exact copy of the file's, or stay as they
    were if the copy fails); return the rows copied per table. The schema must exist
    (:func:`create_raw_schema`); a column the DuckDB file lacks is a data error (the file
    predates the schema: run ingest on it first).
    """
    tables = _raw_server_tables(con)
    database = source or settings.warehouse
    copied: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="jixiao-raw-copy-") as tmp:
        duck = duckdb_connect(settings, database, read_only=True)
        try:
            _check_columns(tables, db.columns(duck, "raw"), database)
            files: dict[str, Path] = {}
            for table, cols in tables.items():
                files[table] = Path(tmp) / f"{table}.csv"
                column_list = ", ".join(_quoted(c) for c in cols)
                _write_csv(duck, f"select {column_list} from raw.{_quoted(table)}", files[table])
        finally:
            duck.close()
        with con, con.cursor() as cur:
            cur.execute(f"select pg_advisory_xact_lock({RAW_LOCK_KEY})")
            for table in tables:
                cur.execute(f"truncate table raw.{_quoted(table)}")
            for table, cols in tables.items():
                copied[table] = _copy_in(cur, table, cols, files[table])
    _analyze(con, list(tables))
    return copied


def load_raw(settings: Settings, source: Path | None = None) -> dict[str, Any]:
    """Create the raw schema on the server and copy the DuckDB file's raw tables into it,
    whole (载入原始层到 PostgreSQL); returns the rows per table and the seconds it took."""
    started = time.monotonic()
    with connect() as con:
        check_collation(con)
        create_raw_schema(con)
        copied = copy_raw_tables(settings, con, source)
    return {"rows": copied, "seconds": round(time.monotonic() - started, 3)}


RAW_LOCK_KEY = 1_784_017_017
"""The advisory lock every write of the server's raw tables takes (原始层写锁): two syncs at
once copy one group once, the second one finds its load_ids there and skips it."""


def server_load_ids(con: Any) -> list[str]:
    """The load_ids the server's ``raw.load_log`` holds (服务器已有的载入批次)."""
    with con.cursor() as cur:
        cur.execute("select load_id from raw.load_log")
        ids = [str(r[0]) for r in cur.fetchall()]
    con.rollback()
    return ids


def foreign_attempts_message(delta: raw_delta.RawDelta, database: Path) -> str:
    """Why the sync copied the whole file instead of the new attempts (全量复制的原因)."""
    return (
        f"服务器原始层有 {delta.foreign} 个载入批次（共 {delta.known} 个）不在暂存文件中（文件共 "
        f"{delta.staged} 个），为免混杂，已整体复制暂存文件 {database} 的原始层；若服务器应属另一"
        "暂存文件，请改用其数据库（JIXIAO_PG_DBNAME） / the server's raw layer holds "
        f"{delta.foreign} load attempts (of {delta.known}) that the staging file {database} "
        f"does not ({delta.staged} attempts): not mixing them, the server's raw tables were "
        "replaced by a full copy of the staging file; if the server belongs to another staging "
        "file, point JIXIAO_PG_DBNAME at a database of this one's"
    )


def sync_raw_tables(
    settings: Settings,
    con: Any,
    source: Path | None = None,
    group_files: int | None = None,
) -> dict[str, Any]:
    """Copy the attempts of the DuckDB file ``source`` (default ``settings.warehouse``) that
    the server lacks (增量同步原始层): one transaction per group of ``group_files`` attempts,
    COPY per table, the group's load_log rows in it; ``ANALYZE`` on the tables that got rows.
    A server holding attempts the file lacks gets :func:`copy_raw_tables` instead
    (``mode: full``, ``reason``). The schema must exist (:func:`create_raw_schema`).
    Returns ``mode`` (``incremental`` / ``full``), ``rows`` (per table), ``attempts`` (copied),
    ``groups``, ``known_attempts`` (on the server before) and ``staged_attempts``."""
    tables = _raw_server_tables(con)
    database = source or settings.warehouse
    known = server_load_ids(con)
    copied = dict.fromkeys(tables, 0)
    attempts = written = 0
    duck = duckdb_connect(settings, database, read_only=True)
    try:
        _check_columns(tables, db.columns(duck, "raw"), database)
        delta = raw_delta.plan(duck, known)
        if delta.foreign:
            duck.close()
            reason = foreign_attempts_message(delta, database)
            log.warning(reason)
            full = copy_raw_tables(settings, con, source)
            return {
                "mode": "full",
                "reason": reason,
                "rows": full,
                "attempts": delta.staged,
                "groups": 1,
                "known_attempts": delta.known,
                "staged_attempts": delta.staged,
            }
        # load_log last in each group (in the same transaction: only for readability)
        order = {t: tables[t] for t in sorted(tables, key=lambda t: t == raw_delta.LOG_TABLE)}
        with tempfile.TemporaryDirectory(prefix="jixiao-raw-sync-") as tmp:
            for group in raw_delta.groups(delta.new, group_files):
                files: dict[str, Path] = {}
                with raw_delta.selects(duck, group, order) as selects:
                    for i, (table, select) in enumerate(selects.items()):
                        files[table] = Path(tmp) / f"{i}.csv"
                        _write_csv(duck, select, files[table])
                ids = [a.load_id for a in group]
                with con, con.cursor() as cur:
                    cur.execute(f"select pg_advisory_xact_lock({RAW_LOCK_KEY})")
                    cur.execute("select count(*) from raw.load_log where load_id = any(%s)", [ids])
                    present = int(cur.fetchone()[0])
                    if present == len(ids):
                        continue  # another sync copied this group meanwhile
                    if present:
                        raise DataError(
                            f"另一同步进程同时写入了原始层（本组 {len(ids)} 个批次中已有 {present}"
                            " 个），请重新运行 / another sync wrote the raw layer meanwhile "
                            f"({present} of this group's {len(ids)} attempts are there): run "
                            "the sync again"
                        )
                    for table, cols in order.items():
                        copied[table] += _copy_in(cur, table, cols, files[table])
                attempts += len(group)
                written += 1
                for path in files.values():
                    path.unlink()
    finally:
        duck.close()
    _analyze(con, [t for t, n in copied.items() if n])
    return {
        "mode": "incremental",
        "rows": copied,
        "attempts": attempts,
        "groups": written,
        "known_attempts": delta.known,
        "staged_attempts": delta.staged,
    }


def sync_raw(
    settings: Settings, source: Path | None = None, group_files: int | None = None
) -> dict[str, Any]:
    """Create (or extend) the raw schema on the server and bring it up to date with the DuckDB
    staging file (同步原始层到 PostgreSQL, :func:`sync_raw_tables`); its result and the seconds
    it took. What the nightly runs after ingest and again in ``dbt_build``."""
    started = time.monotonic()
    with connect() as con:
        check_collation(con)
        create_raw_schema(con)
        result = sync_raw_tables(settings, con, source, group_files)
    return {**result, "seconds": round(time.monotonic() - started, 3)}


def sync_errors() -> tuple[type[BaseException], ...]:
    """What a sync raises when the server is down or refuses (同步失败的异常): the ingest that
    ran before it stays loaded in the staging file, and ``dbt_build`` syncs again."""
    import duckdb
    import psycopg2

    return (psycopg2.Error, duckdb.Error, DataError, OSError)


# --- read-only BI readers and row-level security (只读读者与行级安全) -----------------------

READER_ROLE = "jixiao_reader"
"""The NOLOGIN group role of every BI reader (只读读者组): USAGE on marts, SELECT only."""

ACCESS_SCHEMA = "access"
DEPARTMENT_READERS = f"{ACCESS_SCHEMA}.department_readers"
"""Which role may see which department's rows (部门读者映射): (role_name, department_name)."""

DEPARTMENT_COLUMN = "department_name"
SHARED_TABLE_PREFIXES = ("dim_",)
"""Marts tables without a department column that every reader may read whole (共享维表):
the reference dimensions (dates, fiscal years, fund sources, indicators, schemes). Any other
table without ``department_name`` (project-level facts, region and report-scope aggregates,
qa tables) is withheld from readers: a department's role must not see other departments'
projects through a table that cannot be filtered by department."""

DEPARTMENT_POLICY = "jixiao_department_readers"
OWNER_POLICY = "jixiao_table_owner"


@dataclass(frozen=True)
class MartsAccess:
    """What :func:`secure_marts` did per marts table (集市访问控制结果)."""

    filtered: tuple[str, ...]
    """Row-level security on: a reader sees the rows of its mapped departments only."""
    shared: tuple[str, ...]
    """No department column, a shared dimension: readable whole by every reader."""
    withheld: tuple[str, ...]
    """No department column and not a dimension: no reader privilege at all."""


def _marts_tables(cur: Any, schema: str) -> dict[str, tuple[str, list[str]]]:
    """table -> (owner, columns) of the schema's base tables."""
    cur.execute(
        "select t.tablename, t.tableowner, c.column_name from pg_catalog.pg_tables as t"
        " join information_schema.columns as c"
        "   on c.table_schema = t.schemaname and c.table_name = t.tablename"
        " where t.schemaname = %s order by t.tablename, c.ordinal_position",
        [schema],
    )
    tables: dict[str, tuple[str, list[str]]] = {}
    for table, owner, column in cur.fetchall():
        tables.setdefault(str(table), (str(owner), []))[1].append(str(column))
    return tables


def apply_marts_security(cur: Any, schema: str = "marts") -> MartsAccess:
    """Grant the reader role read-only access to ``schema`` and put row-level security on
    its department tables (集市只读授权与行级安全), in the caller's transaction (no commit).

    Idempotent: the role, the mapping table and the grants are created if missing, each
    table's two policies are dropped and created again. For every table with a
    ``department_name`` column: ``ENABLE`` and ``FORCE ROW LEVEL SECURITY``, a SELECT policy
    for :data:`READER_ROLE` letting a role see the rows of the departments it (or a role it
    belongs to) is mapped to in :data:`DEPARTMENT_READERS` (no mapping: no rows; default
    deny), and a policy letting the table's owner (the dbt build role) see and write every
    row, since FORCE applies row-level security to the owner too. Readers get SELECT and
    nothing else (no INSERT/UPDATE/DELETE/TRUNCATE, no CREATE in the schema).

    Run it after every dbt build, not once with default privileges: dbt rebuilds a table
    model as a new table (created aside, renamed over the old one, the old one dropped), and
    the new table has neither policies nor row-level security. Default privileges would hand
    readers SELECT on it before anything enabled row-level security, i.e. every department's
    rows; without them a rebuilt table is closed to readers until this runs again.
    """
    reader = _quoted(READER_ROLE)
    cur.execute(
        "do $$ begin if not exists (select from pg_catalog.pg_roles where rolname = "
        f"'{READER_ROLE}') then create role {reader} nologin; end if; end $$"
    )
    cur.execute(f"create schema if not exists {ACCESS_SCHEMA}")
    cur.execute(
        f"create table if not exists {DEPARTMENT_READERS} ("
        " role_name varchar not null, department_name varchar not null,"
        " primary key (role_name, department_name))"
    )
    # the policies read the mapping as the querying reader: it may read it, not change it
    cur.execute(f"revoke all on schema {ACCESS_SCHEMA} from public")
    cur.execute(f"revoke all on {DEPARTMENT_READERS} from public, {reader}")
    cur.execute(f"grant usage on schema {ACCESS_SCHEMA} to {reader}")
    cur.execute(f"grant select on {DEPARTMENT_READERS} to {reader}")
    qschema = _quoted(schema)
    cur.execute(f"revoke create on schema {qschema} from public, {reader}")
    cur.execute(f"grant usage on schema {qschema} to {reader}")
    tables = _marts_tables(cur, schema)
    if not tables:
        raise DataError(
            f"PostgreSQL 上的 {schema} 模式没有表，请先运行 dbt build / schema {schema} has "
            "no tables on the server: run dbt build first"
        )
    filtered: list[str] = []
    shared: list[str] = []
    withheld: list[str] = []
    for table, (owner, columns) in tables.items():
        qualified = f"{qschema}.{_quoted(table)}"
        cur.execute(f"revoke all on {qualified} from public, {reader}")
        if DEPARTMENT_COLUMN in columns:
            cur.execute(f"alter table {qualified} enable row level security")
            cur.execute(f"alter table {qualified} force row level security")
            cur.execute(f"drop policy if exists {DEPARTMENT_POLICY} on {qualified}")
            cur.execute(
                f"create policy {DEPARTMENT_POLICY} on {qualified} for select to {reader}"
                " using (exists (select 1 from access.department_readers as m"
                " join pg_catalog.pg_roles as r on r.rolname = m.role_name"
                f" where m.department_name = {qualified}.{DEPARTMENT_COLUMN}"
                " and pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')))"
            )
            cur.execute(f"drop policy if exists {OWNER_POLICY} on {qualified}")
            cur.execute(
                f"create policy {OWNER_POLICY} on {qualified} to {_quoted(owner)}"
                " using (true) with check (true)"
            )
            cur.execute(f"grant select on {qualified} to {reader}")
            filtered.append(table)
        elif table.startswith(SHARED_TABLE_PREFIXES):
            cur.execute(f"grant select on {qualified} to {reader}")
            shared.append(table)
        else:
            withheld.append(table)
    return MartsAccess(tuple(filtered), tuple(shared), tuple(withheld))


BUILD_SCHEMA = "marts"
"""The schema dbt builds in place (dbt 构建模式): withheld from readers, who read ``published``."""


def withhold_from_readers(cur: Any, schema: str) -> None:
    """Take every reader privilege on ``schema`` and its tables away (收回读者权限), in the
    caller's transaction: no USAGE on the schema, no SELECT on any of its tables. The
    row-level security and its policies stay (a grant made by mistake later still shows a
    reader only its departments' rows)."""
    reader = _quoted(READER_ROLE)
    qschema = _quoted(schema)
    cur.execute(f"revoke all on all tables in schema {qschema} from public, {reader}")
    cur.execute(f"revoke all on schema {qschema} from public, {reader}")


def secure_marts(
    con: Any, schema: str = BUILD_SCHEMA, *, readers: bool | None = None
) -> MartsAccess:
    """:func:`apply_marts_security` in one transaction, committed (集市访问控制): a reader
    sees either the old state or the new one, never a table granted without its policy.

    ``readers`` (default: every schema but :data:`BUILD_SCHEMA`) says whether readers keep
    their grants. After a dbt build the nightly secures ``marts`` with ``readers`` off: the
    tables get their row-level security and owner policy, and readers no privilege at all
    (:func:`withhold_from_readers`), since dbt rebuilds ``marts`` in place and a reader could
    see a table between dbt's rename and this call, or half of a night. Readers read the
    ``published`` schema, which :mod:`jixiao.publish.postgres` swaps in whole after the marts
    gate passed (and secures with :func:`apply_marts_security` on ``published``).
    """
    grant = schema != BUILD_SCHEMA if readers is None else readers
    with con, con.cursor() as cur:
        access = apply_marts_security(cur, schema)
        if not grant:
            withhold_from_readers(cur, schema)
        return access


def map_department_reader(con: Any, role_name: str, department_name: str) -> None:
    """Let ``role_name`` (a login role, or a group of them) read ``department_name``'s rows
    (映射部门读者): the role joins :data:`READER_ROLE` and gets a row in
    :data:`DEPARTMENT_READERS` (again is a no-op). The role and the department must exist
    (the department in ``marts.dim_department``); :func:`secure_marts` must have run."""
    with con, con.cursor() as cur:
        cur.execute("select 1 from pg_catalog.pg_roles where rolname = %s", [role_name])
        if cur.fetchone() is None:
            raise DataError(
                f"PostgreSQL 上没有角色 {role_name}，请先建立 / no role {role_name} on the "
                "server: create it first"
            )
        cur.execute(
            "select 1 from marts.dim_department where department_name = %s", [department_name]
        )
        if cur.fetchone() is None:
            raise DataError(
                f"集市中没有部门 {department_name} / no department {department_name} in "
                "marts.dim_department"
            )
        cur.execute(f"grant {_quoted(READER_ROLE)} to {_quoted(role_name)}")
        cur.execute(
            f"insert into {DEPARTMENT_READERS} (role_name, department_name) values (%s, %s)"
            " on conflict do nothing",
            [role_name, department_name],
        )


# --- the marts back into DuckDB, for the marts gate and publish (集市复制回 DuckDB) -----------

MARTS_SCHEMAS = ("marts", "quality")
"""What the marts gate validates and publish copies (集市与质量核查): the BI marts and the qa_*
checks the gate's frames select."""

#: PostgreSQL's information_schema type -> the DuckDB type holding the same values exactly
_DUCKDB_TYPES = {
    "character varying": "VARCHAR",
    "text": "VARCHAR",
    "character": "VARCHAR",
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "double precision": "DOUBLE",
    "real": "FLOAT",
}


def _duckdb_type(table: str, column: str, data_type: str, precision: Any, scale: Any) -> str:
    """The DuckDB type of a PostgreSQL column (类型映射); a type without an exact DuckDB
    counterpart (an unconstrained ``numeric``, an array, JSON) is refused, never guessed."""
    if data_type == "numeric" and precision is not None and precision <= 38:
        return f"DECIMAL({int(precision)}, {int(scale or 0)})"
    mapped = _DUCKDB_TYPES.get(data_type)
    if mapped is None:
        raise DataError(
            f"PostgreSQL 列 {table}.{column} 的类型 {data_type}（精度 {precision}）在 DuckDB 中"
            f"没有精确对应 / PostgreSQL column {table}.{column} of type {data_type} (precision "
            f"{precision}) has no exact DuckDB type: give the model a contracted type"
        )
    return mapped


@dataclass(frozen=True)
class _ServerTable:
    schema: str
    name: str
    comment: str | None
    columns: tuple[tuple[str, str, str | None], ...]
    """(name, DuckDB type, comment) in table order."""


def _server_tables(cur: Any, schemas: tuple[str, ...]) -> list[_ServerTable]:
    """The base tables of ``schemas`` with their columns, DuckDB types and comments."""
    cur.execute(
        "select c.table_schema, c.table_name, c.column_name, c.data_type,"
        " c.numeric_precision, c.numeric_scale,"
        " obj_description(format('%%I.%%I', c.table_schema, c.table_name)::regclass, 'pg_class'),"
        " col_description(format('%%I.%%I', c.table_schema, c.table_name)::regclass,"
        "   c.ordinal_position::int)"
        " from information_schema.columns as c"
        " join information_schema.tables as t"
        "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
        " where c.table_schema = any(%s) and t.table_type = 'BASE TABLE'"
        " order by c.table_schema, c.table_name, c.ordinal_position",
        [list(schemas)],
    )
    found: dict[tuple[str, str], tuple[str | None, list[tuple[str, str, str | None]]]] = {}
    for schema, table, column, data_type, precision, scale, comment, col_comment in cur.fetchall():
        entry = found.setdefault((str(schema), str(table)), (comment, []))
        kind = _duckdb_type(f"{schema}.{table}", str(column), str(data_type), precision, scale)
        entry[1].append((str(column), kind, col_comment))
    return [
        _ServerTable(schema, table, comment, tuple(cols))
        for (schema, table), (comment, cols) in found.items()
    ]


def _literal(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _as_text(column: str, duckdb_type: str) -> str:
    """The PostgreSQL expression that writes a column as text DuckDB reads back exactly."""
    if duckdb_type == "BOOLEAN":
        return f"{_quoted(column)}::text"  # true / false, not COPY's t / f
    return _quoted(column)


def csv_fill(path: Path, rows: int) -> str | None:
    """The DuckDB statement that reads a table's ``COPY ... TO STDOUT`` CSV (读入服务器导出的
    CSV), for :class:`jixiao.warehouse.marts_copy.CopiedTable` (``{table}`` left for it to
    fill); None for an empty table. PostgreSQL's CSV dialect is given, never sniffed: DuckDB's
    sniffer refuses an empty file and could guess wrong on a short one. A quoted empty field
    is ``''`` (PostgreSQL writes NULL unquoted)."""
    if rows == 0:
        return None
    return (
        "copy {table} from "
        + _literal(str(path)).replace("{", "{{").replace("}", "}}")
        + " (format csv, header false, delim ',', quote '\"', escape '\"',"
        " auto_detect false, allow_quoted_nulls false)"
    )


def copy_marts_to_duckdb(
    settings: Settings,
    con: Any,
    target: Path | None = None,
    schemas: tuple[str, ...] = MARTS_SCHEMAS,
) -> dict[str, int]:
    """Replace ``schemas`` of the DuckDB file ``target`` (default: the working file,
    ``settings.warehouse``) with an exact copy of the server's (集市复制到 DuckDB); return the
    rows per ``schema.table``.

    The server is read in one REPEATABLE READ, read-only transaction, so the copy is one
    consistent state of it even while another build runs; each table leaves with
    ``COPY ... TO STDOUT`` as CSV (decimals and timestamps as their exact text, NULL as an
    empty field, ``''`` quoted) and DuckDB reads it into a table of the same columns, types
    (:func:`_duckdb_type`: ``numeric(18, 2)`` -> ``DECIMAL(18, 2)``) and comments (dbt's
    persisted docs, which the publisher hands on to BI tools). DuckDB drops and recreates the
    schemas in one transaction: a reader sees the old copy or the new one. The marts gate
    validates this copy and publish publishes it (docs/warehouse.md, "On PostgreSQL"); the
    DuckDB half is :func:`jixiao.warehouse.marts_copy.replace_schemas`, shared with Spark's.
    """
    database = target or settings.warehouse
    con.rollback()
    con.set_session(isolation_level="REPEATABLE READ", readonly=True)
    try:
        with tempfile.TemporaryDirectory(prefix="jixiao-marts-copy-") as tmp:
            with con.cursor() as cur:
                cur.execute("set datestyle to 'ISO, YMD'")
                cur.execute("set timezone to 'UTC'")
                tables = _server_tables(cur, schemas)
                if not any(t.schema == "marts" for t in tables):
                    raise DataError(
                        "PostgreSQL 上的 marts 模式没有表，请先运行 dbt build / schema marts has "
                        "no tables on the server: run dbt build first"
                    )
                files: list[tuple[_ServerTable, Path, int]] = []
                for i, table in enumerate(tables):
                    path = Path(tmp) / f"{i}.csv"
                    select = ", ".join(_as_text(c, kind) for c, kind, _ in table.columns)
                    with path.open("w", encoding="utf-8") as fh:
                        cur.copy_expert(
                            f"copy (select {select} from {_quoted(table.schema)}."
                            f"{_quoted(table.name)}) to stdout with (format csv, header false)",
                            fh,
                        )
                    files.append((table, path, int(cur.rowcount)))
            copies = [
                CopiedTable(
                    table.schema,
                    table.name,
                    table.columns,
                    table.comment,
                    rows,
                    csv_fill(path, rows),
                    "PostgreSQL",
                )
                for table, path, rows in files
            ]
            copied = replace_schemas(settings, database, schemas, copies)
    finally:
        con.rollback()
        con.set_session(isolation_level="DEFAULT", readonly=False)
    return copied


def copy_marts_from_server(settings: Settings, target: Path | None = None) -> dict[str, Any]:
    """:func:`copy_marts_to_duckdb` on the configured server (集市复制回 DuckDB); returns the
    rows per table and the seconds it took."""
    started = time.monotonic()
    with connect() as con:
        copied = copy_marts_to_duckdb(settings, con, target)
    return {"rows": copied, "seconds": round(time.monotonic() - started, 3)}


# --- the server's schemas, for the publish on the server (服务器上的模式与列) ----------------


def schema_tables(cur: Any, schema: str) -> dict[str, list[str]]:
    """The base tables of ``schema`` on the server and their columns in table order (模式中的
    表与列), read in the caller's transaction; ``{}`` when the schema has none or is absent."""
    return {table: columns for table, (_, columns) in _marts_tables(cur, schema).items()}
