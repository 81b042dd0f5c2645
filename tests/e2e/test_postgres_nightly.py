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

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao.config import Settings, duckdb_connect
from jixiao.publish.publisher import warehouse_marts_fingerprint
from jixiao.quality.gates import load_result, result_path
from jixiao.warehouse import postgres
from jixiao.warehouse.checksums import build_demo
from tests.e2e.pg_server import PostgresServer, create_database
from tests.e2e.test_postgres_warehouse import _duckdb_columns, compare_schema, compare_tables

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
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresNight]:
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


def _marts_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """The marts tables of a published file, without the publisher's own (``_publish_info``,
    ``_published_scores``: run ids and times)."""
    return {t: c for t, c in _duckdb_columns(con, "marts").items() if not t.startswith("_")}


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
    files = {"DuckDB": published_demo.published, "PostgreSQL": pg_night.settings.published}
    cons = {k: duckdb.connect(str(v), read_only=True) for k, v in files.items()}
    try:
        tables = {k: _marts_tables(c) for k, c in cons.items()}
        compared, problems = compare_tables(
            tables["DuckDB"],
            tables["PostgreSQL"],
            lambda sql: cons["DuckDB"].execute(sql).fetchall(),
            lambda sql: cons["PostgreSQL"].execute(sql).fetchall(),
            "the PostgreSQL night",
        )
        comments = {
            k: c.execute(
                "select table_name, column_name, comment from duckdb_columns()"
                " where schema_name = 'marts' and table_name not like '\\_%' escape '\\'"
                " union all select table_name, null, comment from duckdb_tables()"
                " where schema_name = 'marts' and table_name not like '\\_%' escape '\\'"
                " order by all"
            ).fetchall()
            for k, c in cons.items()
        }
    finally:
        for c in cons.values():
            c.close()
    assert compared >= 30 and problems == [], problems
    assert comments["PostgreSQL"] == comments["DuckDB"]
    assert any(comment for _, _, comment in comments["DuckDB"])


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
