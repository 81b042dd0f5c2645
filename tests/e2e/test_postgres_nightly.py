"""The nightly's stages on PostgreSQL, in-process (PostgreSQL 上的每晚流水线 / issue 17).

With ``JIXIAO_WAREHOUSE=postgres`` the demo inbox goes through the same pipeline functions as
the ``published_demo`` night (:func:`jixiao.warehouse.checksums.build_demo`: ingest, plan, raw
gate, dbt build, marts gate, publish), on a database of its own on the session server
(``jixiao_nightly``). Shown: ingest wrote the DuckDB staging file and copied its new load
attempts' rows to the server (``postgres.sync_raw``), ``dbt_build`` synced again (nothing new:
nothing copied), built there (nothing of dbt in the DuckDB file) and secured the marts;
the marts gate validated the server's marts (the working file's copy equals the server, table
by table, and carries the fingerprint publish checked); and the published file, which BI and
the reports read, equals the DuckDB night's: every marts table, its columns, types, rows (exact
decimals) and comments.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from psycopg2.errors import InsufficientPrivilege

from jixiao.config import Settings, duckdb_connect
from jixiao.publish import postgres as server_publish
from jixiao.publish.publisher import marts_fingerprint_of, warehouse_marts_fingerprint
from jixiao.quality.gates import load_result, result_path
from jixiao.reports.marts import SERVER_SOURCE, load_year
from jixiao.reports.yearly import build_reports
from jixiao.warehouse import postgres
from jixiao.warehouse.checksums import build_demo
from tests.e2e.pg_server import PostgresServer, create_database
from tests.e2e.test_postgres_warehouse import (
    JIANGMEN,
    _duckdb_columns,
    _postgres_columns,
    compare_published,
    compare_schema,
    compare_tables,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NIGHTLY_DB = "jixiao_nightly"


@dataclass
class PostgresNight:
    server: PostgresServer
    settings: Settings
    seconds: float

    def address(self) -> postgres.PostgresAddress:
        return self.server.address(NIGHTLY_DB)


@pytest.fixture(scope="module")
def pg_night(
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
    published_demo: Settings,
) -> Iterator[PostgresNight]:
    # published_demo (the DuckDB night) first: built under this fixture's environment it
    # would be a second PostgreSQL night, on this database, publishing over this one
    create_database(postgres_server, NIGHTLY_DB)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in postgres_server.env(NIGHTLY_DB).items():
            mp.setenv(key, value)
        started = time.monotonic()
        settings = build_demo(tmp_path_factory.mktemp("pg_night") / "home")
        seconds = round(time.monotonic() - started, 1)
        print(f"the demo night on PostgreSQL: {seconds} s")
        yield PostgresNight(postgres_server, settings, seconds)


def _stage(s: Settings, name: str) -> dict[str, Any]:
    record = json.loads((s.quality / "runs" / "demo-night.json").read_text(encoding="utf-8"))
    stages: dict[str, dict[str, Any]] = record["stages"]
    return stages[name]


def test_every_stage_ran_and_dbt_built_on_the_server(pg_night: PostgresNight) -> None:
    s = pg_night.settings
    for name in ("ingest", "gate_raw", "dbt_build", "gate_marts", "publish"):
        assert _stage(s, name)["status"] == "passed", (name, _stage(s, name))
    detail = _stage(s, "dbt_build")["detail"]
    con = duckdb_connect(s, s.warehouse, read_only=True)
    try:
        names = con.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'raw' and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
        raw_rows = {
            str(n): int(con.execute(f'select count(*) from raw."{n}"').fetchall()[0][0])
            for (n,) in names
        }
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    finally:
        con.close()
    # the staging file holds what ingest wrote; dbt built nothing in it
    assert sum(raw_rows.values()) > 0
    # ingest copied every row of its attempts to the server; dbt_build's sync found nothing new
    synced = _stage(s, "ingest")["detail"]["raw_sync"]
    assert synced["status"] == "passed" and synced["mode"] == "incremental", synced
    assert synced["rows"] == sum(raw_rows.values())
    assert synced["attempts"] == raw_rows["load_log"] > 0
    assert (detail["raw_rows_loaded"], detail["raw_attempts_loaded"]) == (0, 0)
    assert detail["raw_sync_mode"] == "incremental"
    assert not schemas & {"staging", "intermediate", "marts_state"}, schemas
    with postgres.connect(pg_night.address()) as pg, pg.cursor() as cur:
        for table, rows in raw_rows.items():
            cur.execute(f"select count(*) from raw.{table}")
            assert cur.fetchone()[0] == rows, table
        # secure_marts ran after the build: the readers' row-level security is on
        cur.execute(
            "select relrowsecurity, relforcerowsecurity from pg_class"
            " where oid = 'marts.mart_project_year'::regclass"
        )
        assert cur.fetchone() == (True, True)
    assert detail["secured_tables"]["filtered"] > 0
    assert "PostgreSQL" in _stage(s, "dbt_build")["summary"]


def test_the_marts_gate_validated_the_servers_marts(pg_night: PostgresNight) -> None:
    """The working file's marts and qa tables are the server's, exactly; the gate's recorded
    fingerprint is theirs, and publish published that state."""
    s = pg_night.settings
    duck = duckdb_connect(s, s.warehouse, read_only=True)
    try:
        with postgres.connect(pg_night.address()) as pg:
            for schema in postgres.MARTS_SCHEMAS:
                compared, problems = compare_schema(duck, pg, schema)
                assert compared > 0 and problems == [], (schema, problems)
    finally:
        duck.close()
    gate = load_result(result_path(s, "marts"))
    assert gate["success"]
    assert gate["marts_fingerprint"] == warehouse_marts_fingerprint(s)
    assert _stage(s, "publish")["detail"]["marts_fingerprint"] == gate["marts_fingerprint"]


def test_the_published_marts_equal_the_duckdb_night(
    pg_night: PostgresNight, published_demo: Settings
) -> None:
    """What BI and the reports read: the published file of the PostgreSQL night against the
    DuckDB night's (``published_demo``), every marts table, column, type and row (as exact
    text), and every table and column comment."""
    found = compare_published(
        published_demo.published, pg_night.settings.published, "the PostgreSQL night"
    )
    assert found.compared >= 30 and found.problems == [], found.problems
    assert found.other_comments == found.reference_comments
    assert any(comment for _, _, comment in found.reference_comments)


def test_the_published_file_is_a_published_file(pg_night: PostgresNight) -> None:
    """Reports and Superset open it as on DuckDB: read-only, with the publisher's tables."""
    path: Path = pg_night.settings.published
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }
    finally:
        con.close()
    assert {"_publish_info", "_published_scores", "mart_project_year"} <= names


# --- publish on the server: the published schema (服务器上的发布) ----------------------------

READER_MAPPED = "bi_night_jiangmen"
READER_UNMAPPED = "bi_night_unmapped"


def _gate_fingerprint(s: Settings) -> str:
    return str(load_result(result_path(s, "marts"))["marts_fingerprint"])


def _comments(pg: Any, schema: str) -> list[tuple]:
    with pg.cursor() as cur:
        cur.execute(
            "select c.relname, a.attname, col_description(c.oid, a.attnum)"
            " from pg_class as c join pg_attribute as a on a.attrelid = c.oid"
            " where c.relnamespace = %s::regnamespace and c.relkind = 'r'"
            " and a.attnum > 0 and not a.attisdropped"
            " union all select relname, null, obj_description(oid, 'pg_class') from pg_class"
            " where relnamespace = %s::regnamespace and relkind = 'r' order by 1, 2 nulls first",
            [schema, schema],
        )
        rows = list(cur.fetchall())
    pg.rollback()
    return rows


def _schemas(pg: Any) -> set[str]:
    with pg.cursor() as cur:
        cur.execute("select nspname from pg_namespace where nspname like 'published%'")
        names = {str(r[0]) for r in cur.fetchall()}
    pg.rollback()
    return names


def test_the_servers_published_schema_is_the_published_file(pg_night: PostgresNight) -> None:
    """After the night's publish the server's ``published`` schema holds exactly the published
    DuckDB file's marts (every table, the publisher's own included: columns, types, rows as
    exact text, comments), records the gate's fingerprint, and readers are off ``marts``."""
    s = pg_night.settings
    gate = _gate_fingerprint(s)
    assert _stage(s, "publish")["detail"]["server"]["marts_fingerprint"] == gate
    duck = duckdb_connect(s, s.published, read_only=True)
    try:
        with postgres.connect(pg_night.address()) as pg:

            def pg_fetch(sql: str) -> list[tuple]:
                with pg.cursor() as cur:
                    cur.execute(sql.replace(" from marts.", " from published."))
                    return list(cur.fetchall())

            compared, problems = compare_tables(
                _duckdb_columns(duck, "marts"),
                _postgres_columns(pg, "published"),
                lambda sql: duck.execute(sql).fetchall(),
                pg_fetch,
                "the server's published schema",
            )
            pg.rollback()
            file_comments = duck.execute(
                "select table_name, column_name, comment from duckdb_columns()"
                " where schema_name = 'marts' union all select table_name, null, comment"
                " from duckdb_tables() where schema_name = 'marts' order by 1, 2 nulls first"
            ).fetchall()
            server_comments = _comments(pg, "published")
            version = server_publish.published_version(pg)
            pg.rollback()
            with pg.cursor() as cur:
                cur.execute(
                    "select has_schema_privilege(%s, 'marts', 'USAGE'),"
                    " has_schema_privilege(%s, 'published', 'USAGE'),"
                    " has_table_privilege(%s, 'marts.mart_project_year', 'SELECT'),"
                    " has_table_privilege(%s, 'published.mart_project_year', 'SELECT')",
                    [postgres.READER_ROLE] * 4,
                )
                privileges = cur.fetchone()
                cur.execute(
                    "select distinct marts_fingerprint, run_id from published._publish_info"
                )
                info = cur.fetchall()
            schemas = _schemas(pg)
    finally:
        duck.close()
    assert compared >= 32 and problems == [], problems
    assert server_comments == file_comments
    assert any(c for _, _, c in file_comments)
    assert version is not None and version["marts_fingerprint"] == gate
    assert version["run_id"] == "demo-night"
    assert info == [(gate, "demo-night")]
    # readers: nothing on the dbt build schema, SELECT on the published one
    assert privileges == (False, True, False, True)
    assert schemas == {"published"}


@dataclass
class NightReaders:
    night: PostgresNight
    password: str

    def address(self, role: str) -> postgres.PostgresAddress:
        a = self.night.address()
        return postgres.PostgresAddress(a.host, a.port, role, self.password, a.dbname)


@pytest.fixture(scope="module")
def night_readers(pg_night: PostgresNight) -> NightReaders:
    """Two BI login roles of the published schema: one mapped to 江门市政务服务数据管理局, one
    mapped to nothing (roles are the server's, so named apart from the warehouse test's)."""
    password = os.urandom(8).hex()
    with postgres.connect(pg_night.address()) as con:
        with con, con.cursor() as cur:
            for role in (READER_MAPPED, READER_UNMAPPED):
                cur.execute(f"create role {role} login password %s", [password])
                cur.execute(f"grant {postgres.READER_ROLE} to {role}")
        postgres.map_department_reader(con, READER_MAPPED, JIANGMEN)
    return NightReaders(pg_night, password)


def _fetch(address: postgres.PostgresAddress, sql: str) -> list[tuple]:
    with postgres.connect(address) as con, con.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def _file_count(s: Settings, sql: str, params: list[Any] | None = None) -> int:
    duck = duckdb_connect(s, s.published, read_only=True)
    try:
        row = duck.execute(sql, params or []).fetchone()
    finally:
        duck.close()
    return int(row[0]) if row else 0


def test_readers_of_the_published_schema(night_readers: NightReaders) -> None:
    """Default deny: a reader with no mapping sees no row of a department table; the mapped
    one sees its department's rows only (as many as the published file has for it, fewer than
    all), the shared dimensions whole, no withheld table, nothing of ``marts``; neither can
    write or create."""
    s = night_readers.night.settings
    mapped = night_readers.address(READER_MAPPED)
    unmapped = night_readers.address(READER_UNMAPPED)
    for table in ("mart_project_year", "dim_project", "_published_scores"):
        assert _fetch(unmapped, f"select count(*) from published.{table}") == [(0,)], table
    total = _file_count(s, "select count(*) from marts.mart_project_year")
    mine = _file_count(
        s, "select count(*) from marts.mart_project_year where department_name = ?", [JIANGMEN]
    )
    assert 0 < mine < total
    assert _fetch(mapped, "select count(*) from published.mart_project_year") == [(mine,)]
    assert _fetch(mapped, "select distinct department_name from published.mart_project_year") == [
        (JIANGMEN,)
    ]
    fiscal_years = _file_count(s, "select count(*) from marts.dim_fiscal_year")
    assert _fetch(mapped, "select count(*) from published.dim_fiscal_year") == [(fiscal_years,)]
    for sql in (
        "select count(*) from published.fct_budget",  # withheld: no department column
        "select count(*) from published._publish_info",
        "select count(*) from marts.mart_project_year",  # the build schema: withheld
        "insert into published.mart_project_year (department_name) values ('x')",
        "update published.mart_project_year set department_name = department_name",
        "delete from published.mart_project_year",
        "truncate published.mart_project_year",
        "create table published.mine (n integer)",
        "create table marts.mine (n integer)",
    ):
        with pytest.raises(InsufficientPrivilege):
            _fetch(mapped, sql)


def _second_version(s: Settings, tmp: Path) -> tuple[Path, str]:
    """A copy of the published file as another night would publish it (另一版本): every
    project name of mart_project_year and dim_project marked, another run id; and its
    fingerprint."""
    copy = tmp / "second.duckdb"
    shutil.copyfile(s.published, copy)
    os.chmod(copy, 0o644)
    con = duckdb_connect(s, copy)
    try:
        for table in ("mart_project_year", "dim_project"):
            con.execute(f"update marts.{table} set project_name = project_name || '·二'")
        con.execute("update marts._publish_info set run_id = 'second-publish'")
        fingerprint = marts_fingerprint_of(con, "second")
    finally:
        con.close()
    return copy, fingerprint


def _names(cur: Any, table: str) -> list[str]:
    cur.execute(f"select project_name from published.{table} order by project_key, project_name")
    return [str(r[0]) for r in cur.fetchall()]


def test_the_swap_is_atomic_for_a_reader(night_readers: NightReaders, tmp_path: Path) -> None:
    """A reader transaction that read the published version before a second publish keeps
    seeing that version, table after table, while the publish waits for it; the swap lands
    when it ends, and the next transaction sees the new version whole. The night's version is
    published again afterwards."""
    s = night_readers.night.settings
    address = night_readers.night.address()
    copy, fingerprint = _second_version(s, tmp_path)
    outcome: dict[str, Any] = {}

    def second_publish() -> None:
        try:
            outcome["result"] = server_publish.publish_to_server(
                s,
                run_id="second-publish",
                marts_fingerprint=fingerprint,
                source=copy,
                address=address,
                lock_wait_seconds=120,
            )
        except BaseException as exc:  # reported by the assertions below
            outcome["error"] = exc

    reader = postgres.connect(night_readers.address(READER_MAPPED))
    con = reader.__enter__()
    try:
        con.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with con.cursor() as cur:
            before = _names(cur, "mart_project_year")
        assert before and not any(n.endswith("·二") for n in before)
        publisher = threading.Thread(target=second_publish)
        publisher.start()
        # until the publisher has written published_next and is trying to swap it in (or,
        # were the swap not to wait for readers, has finished)
        with postgres.connect(address) as owner:
            deadline = time.monotonic() + 60
            while (
                publisher.is_alive()
                and "published_next" not in _schemas(owner)
                and time.monotonic() < deadline
            ):
                time.sleep(0.1)
        time.sleep(1.0)
        with con.cursor() as cur:
            projects = _names(cur, "dim_project")  # not read before: still the old version
            again = _names(cur, "mart_project_year")
        version = server_publish.published_version(con)
        assert again == before
        assert projects and not any(n.endswith("·二") for n in projects)
        assert version is not None and version["run_id"] == "demo-night"
        assert publisher.is_alive(), outcome  # blocked by this reader
        con.rollback()  # the reader's transaction ends: the swap goes through
        publisher.join(120)
        assert not publisher.is_alive() and "error" not in outcome, outcome
        result = outcome["result"]
        assert result.attempts > 1 and result.lock_wait_seconds > 0.5, result
        assert result.replaced["run_id"] == "demo-night"
        with con.cursor() as cur:
            after = _names(cur, "mart_project_year")
            projects_after = _names(cur, "dim_project")
        assert sorted(after) == sorted(f"{n}·二" for n in before)
        assert projects_after and all(n.endswith("·二") for n in projects_after)
        assert server_publish.published_version(con)["run_id"] == "second-publish"
        con.rollback()
    finally:
        reader.__exit__(None, None, None)
        # the night's own version back, for the tests after this one
        server_publish.publish_to_server(
            s, run_id="demo-night", marts_fingerprint=_gate_fingerprint(s), address=address
        )


def _published_state(address: postgres.PostgresAddress) -> tuple[Any, ...]:
    with postgres.connect(address) as pg:
        version = server_publish.published_version(pg)
        with pg.cursor() as cur:
            cur.execute(
                "select count(*), md5(string_agg(project_key || project_name, ',' order by"
                " project_key, project_name)) from published.mart_project_year"
            )
            content = cur.fetchone()
            cur.execute(
                "select has_table_privilege(%s, 'published.mart_project_year', 'SELECT')",
                [postgres.READER_ROLE],
            )
            granted = cur.fetchone()
        pg.rollback()
        return version, content, granted, _schemas(pg)


def test_a_failed_publish_leaves_published_untouched(
    pg_night: PostgresNight, tmp_path: Path
) -> None:
    """A swap that fails inside its transaction (after both renames and the grants), a bad
    table in published_next (a column the server's marts lacks) and a source that is not the
    gate's version each leave the previous ``published`` exactly as it was, nothing left
    behind, with a clear error in Chinese and English."""
    s = pg_night.settings
    address = pg_night.address()
    before = _published_state(address)
    assert before[0]["run_id"] == "demo-night" and before[3] == {"published"}
    copy, fingerprint = _second_version(s, tmp_path)

    def fail_inside_the_swap(cur: Any) -> None:
        cur.execute("select 1 / 0")

    with pytest.raises(server_publish.ServerPublishError) as failed:
        server_publish.publish_to_server(
            s,
            run_id="second-publish",
            marts_fingerprint=fingerprint,
            source=copy,
            address=address,
            before_commit=fail_inside_the_swap,
        )
    message = str(failed.value)
    assert "未改变" in message and "unchanged" in message and "division by zero" in message
    assert _published_state(address) == before

    con = duckdb_connect(s, copy)
    try:
        con.execute("alter table marts.mart_project_year add column surplus integer")
        bad = marts_fingerprint_of(con, "second")
    finally:
        con.close()
    with pytest.raises(server_publish.ServerPublishError) as bad_table:
        server_publish.publish_to_server(
            s, run_id="second-publish", marts_fingerprint=bad, source=copy, address=address
        )
    message = str(bad_table.value)
    assert "marts.mart_project_year" in message and "surplus" in message
    assert "未改变" in message and "unchanged" in message
    assert _published_state(address) == before

    with pytest.raises(server_publish.ServerPublishError) as not_validated:
        server_publish.publish_to_server(
            s, run_id="second-publish", marts_fingerprint=fingerprint, source=copy, address=address
        )
    assert "fingerprint" in str(not_validated.value) and "指纹" in str(not_validated.value)
    assert _published_state(address) == before


def _year_model(data: Any) -> dict[str, Any]:
    model = dataclasses.asdict(data)
    model.pop("source")
    return model


def test_the_yearly_report_reads_the_same_year_from_the_server(pg_night: PostgresNight) -> None:
    """The report data of every demo year read from the server's ``published`` schema equals
    the one read from the published file (the loaded year model, exact decimals); one
    department's yearly report renders from the server."""
    s = pg_night.settings
    duck = duckdb_connect(s, s.published, read_only=True)
    try:
        years = [
            int(r[0])
            for r in duck.execute(
                "select distinct fiscal_year from marts.mart_project_year order by 1"
            ).fetchall()
        ]
    finally:
        duck.close()
    assert years
    for year in years:
        from_file = load_year(s.published, year, s)
        from_server = load_year(SERVER_SOURCE, year, s)
        assert str(from_server.source).startswith("postgresql://")
        assert from_server.projects and from_server.published is not None
        file_model, server_model = _year_model(from_file), _year_model(from_server)
        assert server_model.keys() == file_model.keys()
        for key in file_model:
            assert server_model[key] == file_model[key], (year, key)
    started = time.monotonic()
    written = build_reports(s, years[-1], department=JIANGMEN, source=SERVER_SOURCE, pdf=False)
    seconds = time.monotonic() - started
    assert any(p.suffix == ".xlsx" for p in written), written
    print(f"one department's yearly report from the server: {seconds:.1f} s")
