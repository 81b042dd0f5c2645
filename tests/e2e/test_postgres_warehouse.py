"""The dbt project on a real PostgreSQL server (PostgreSQL 数据仓库 / issue 17, first step).

One PostgreSQL server for the session (Debian's ``postgresql`` package; ``.ci/run`` installs
it), initialised in a /tmp/jixiao-pg-* dir of its own (removed afterwards) and listening on
127.0.0.1 on a free port only, run as the ``postgres`` OS user when the tests run as root
(initdb and the server refuse root), stopped at the end. The demo inbox's DuckDB night (the
``published_demo`` fixture) is the reference. Then:

- the raw tables of that DuckDB file are copied into the server with COPY
  (:mod:`jixiao.warehouse.postgres`, raw_schema.sql run unchanged on PostgreSQL) and the
  current-submission views return the same rows on both engines;
- ``dbt build --target postgres`` (``JIXIAO_WAREHOUSE=postgres``: seeds, models, data tests and
  unit tests) passes, and a second, incremental build passes too;
- every table of the marts schema equals the DuckDB build's: the same tables, the same columns
  with the same types, the same rows. Allowed normalisation, and only this: each engine's
  spelling of a type is mapped to one name (``VARCHAR`` / ``character varying``,
  ``DECIMAL(18,2)`` / ``numeric(18, 2)``), since both mean the same type; values are
  compared as text, decimals at their column's scale exactly as stored (no rounding, no float),
  dates and timestamps in ISO form (each driver formats them its own way), and rows as a
  multiset (a table's row order is not part of its content). A float in a mart fails the test;
- the same for the layout-variant corpus (the session fixture ``variants_built``, shared with
  the mart checksum test, so it is built on DuckDB once a session): its raw tables copied into
  a second database of the same server (``jixiao_variants``), one dbt build, every mart equal;
- the comparison can fail: one changed amount in one PostgreSQL mart is reported by table.
- the raw layer syncs incrementally (:func:`jixiao.warehouse.postgres.sync_raw`, what the
  nightly's ingest runs): a staging file loaded in two nights, synced after each into a third
  database (``jixiao_sync``), equals the server's raw tables; a sync that dies in its second
  group leaves the first committed and the next one continues; a third sync copies nothing
  (no COPY at all); a server holding attempts the file lacks is replaced by a full copy, and
  says so.

Measured per stage (server start, load, build, compare): printed, and written to
``test-artifacts/postgres_warehouse_timings.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from psycopg2.errors import InsufficientPrivilege

from jixiao.config import PROJECT_ROOT, Settings, get_settings
from jixiao.errors import DataError
from jixiao.warehouse import postgres
from jixiao.warehouse.dbt import DbtRunResult, build
from tests.e2e.pg_server import PG_DB, PostgresServer, create_database

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
VARIANTS_DB = "jixiao_variants"
SYNC_DB = "jixiao_sync"


@dataclass
class PostgresBuild:
    server: PostgresServer
    duckdb_file: Path
    settings: Settings
    loaded: dict[str, Any]
    first: DbtRunResult
    second: DbtRunResult
    access: postgres.MartsAccess


@pytest.fixture(scope="module")
def pg_build(
    postgres_server: PostgresServer,
    published_demo: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PostgresBuild]:
    """The demo night's raw tables copied into PostgreSQL, then ``dbt build`` twice there (a
    full build, then an incremental one with nothing changed), as JIXIAO_WAREHOUSE=postgres;
    :func:`jixiao.warehouse.postgres.secure_marts` after each build (the second build runs
    over secured marts: the build role is unaffected)."""
    # dbt's target and log folders of the PostgreSQL builds, apart from the DuckDB night's
    settings = get_settings(tmp_path_factory.mktemp("pg_home") / "home").ensure()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in postgres_server.env().items():
            mp.setenv(key, value)
        started = time.monotonic()
        loaded = postgres.load_raw(settings, published_demo.warehouse)
        postgres_server.timings["load_seconds"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        first = build(settings)
        postgres_server.timings["build_seconds"] = round(time.monotonic() - started, 2)
        # readers and row-level security after the build; the second build runs over them
        started = time.monotonic()
        # readers=True: the policy rules shown on marts itself (the nightly withholds marts
        # from readers and applies the same rules to the published schema)
        with postgres.connect() as con:
            access = postgres.secure_marts(con, readers=True)
        postgres_server.timings["secure_marts_seconds"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        second = build(settings)
        postgres_server.timings["incremental_build_seconds"] = round(time.monotonic() - started, 2)
        with postgres.connect() as con:
            again = postgres.secure_marts(con, readers=True)  # after every build: idempotent
    assert again == access
    yield PostgresBuild(
        postgres_server, published_demo.warehouse, settings, loaded, first, second, access
    )


@dataclass
class PostgresVariants:
    server: PostgresServer
    duckdb_file: Path
    settings: Settings
    loaded: dict[str, Any]
    built: DbtRunResult


@pytest.fixture(scope="module")
def pg_variants(
    postgres_server: PostgresServer,
    variants_built: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PostgresVariants]:
    """The layout-variant corpus (the session fixture ``variants_built``, built once on DuckDB
    for the session) on the same server in a database of its own, ``jixiao_variants``: its
    raw tables copied with COPY, then one ``dbt build`` there (版式变体语料上 PostgreSQL)."""
    create_database(postgres_server, VARIANTS_DB)
    settings = get_settings(tmp_path_factory.mktemp("pg_variants_home") / "home").ensure()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in postgres_server.env().items():
            mp.setenv(key, value)
        mp.setenv("JIXIAO_PG_DBNAME", VARIANTS_DB)
        started = time.monotonic()
        loaded = postgres.load_raw(settings, variants_built.warehouse)
        postgres_server.timings["variants_load_seconds"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        built = build(settings)
        postgres_server.timings["variants_build_seconds"] = round(time.monotonic() - started, 2)
    yield PostgresVariants(postgres_server, variants_built.warehouse, settings, loaded, built)


# --- the comparison -----------------------------------------------------------------------


def _type_name(engine_type: str, precision: Any = None, scale: Any = None) -> str:
    """One spelling per type (类型名归一): DuckDB's information_schema says ``DECIMAL(18,2)``
    and ``VARCHAR``, PostgreSQL's ``numeric`` (18, 2) and ``character varying``."""
    t = engine_type.lower()
    if t == "numeric":
        return f"decimal({precision},{scale})"
    return {
        "character varying": "varchar",
        "text": "varchar",
        "timestamp without time zone": "timestamp",
    }.get(t, t.replace(" ", ""))


def _text(value: Any) -> str | None:
    """A value as the text it is compared by (比较用的文本)."""
    if value is None:
        return None
    if isinstance(value, float):
        raise AssertionError(f"a float in a mart (money and measures are exact): {value!r}")
    if isinstance(value, Decimal):
        return format(value, "f")  # the column's scale, as stored: 1.50 stays 1.50
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _duckdb_columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[tuple]]:
    rows = con.execute(
        "select c.table_name, c.column_name, c.data_type from information_schema.columns as c"
        " join information_schema.tables as t"
        "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
        " where c.table_schema = ? and t.table_type = 'BASE TABLE'"
        " order by c.table_name, c.ordinal_position",
        [schema],
    ).fetchall()
    tables: dict[str, list[tuple]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, _type_name(str(data_type))))
    return tables


def _postgres_columns(con: Any, schema: str) -> dict[str, list[tuple]]:
    with con.cursor() as cur:
        cur.execute(
            "select c.table_name, c.column_name, c.data_type, c.numeric_precision,"
            " c.numeric_scale from information_schema.columns as c"
            " join information_schema.tables as t"
            "   on t.table_schema = c.table_schema and t.table_name = c.table_name"
            " where c.table_schema = %s and t.table_type = 'BASE TABLE'"
            " order by c.table_name, c.ordinal_position",
            [schema],
        )
        rows = cur.fetchall()
    tables: dict[str, list[tuple]] = {}
    for table, column, data_type, precision, scale in rows:
        tables.setdefault(table, []).append((column, _type_name(data_type, precision, scale)))
    return tables


def _rows(fetch: Any, table: str, columns: list[str], schema: str) -> Counter[tuple]:
    cols = ", ".join(f'"{c}"' for c in columns)
    return Counter(
        tuple(_text(v) for v in row) for row in fetch(f"select {cols} from {schema}.{table}")
    )


def compare_tables(
    left: dict[str, list[tuple]],
    right: dict[str, list[tuple]],
    left_fetch: Any,
    right_fetch: Any,
    engine: str,
    schema: str = "marts",
) -> tuple[int, list[str]]:
    """How many tables of ``schema`` were compared, and every difference between DuckDB
    (``left``: table -> columns and types, ``left_fetch``: sql -> rows) and ``engine``
    (``right``, ``right_fetch``), one line per table (表级差异): a table on one side only,
    other columns or types, other rows."""
    problems = [
        f"{schema}.{t}: only on {'DuckDB' if t in left else engine}"
        for t in sorted(set(left) ^ set(right))
    ]
    for table in sorted(set(left) & set(right)):
        if left[table] != right[table]:
            problems.append(
                f"{schema}.{table}: columns differ: DuckDB {left[table]} / {engine} {right[table]}"
            )
            continue
        columns = [c for c, _ in left[table]]
        a = _rows(left_fetch, table, columns, schema)
        b = _rows(right_fetch, table, columns, schema)
        if a != b:
            only_left, only_right = a - b, b - a
            problems.append(
                f"{schema}.{table}: {sum(only_left.values())} rows only on DuckDB, "
                f"{sum(only_right.values())} only on {engine}; e.g. DuckDB "
                f"{list(only_left)[:1]} / {engine} {list(only_right)[:1]}"
            )
    return len(set(left) | set(right)), problems


_PUBLISHED_COMMENTS = (
    "select table_name, column_name, comment from duckdb_columns()"
    " where schema_name = 'marts' and table_name not like '\\_%' escape '\\'"
    " union all select table_name, null, comment from duckdb_tables()"
    " where schema_name = 'marts' and table_name not like '\\_%' escape '\\'"
    " order by all"
)


@dataclass(frozen=True)
class PublishedComparison:
    compared: int
    problems: list[str]
    reference_comments: list[tuple]
    other_comments: list[tuple]


def compare_published(reference: Path, other: Path, engine: str) -> PublishedComparison:
    """Two published DuckDB files (发布库对比), the DuckDB night's (``reference``) against
    another engine's night: every marts table, column, type and row (:func:`compare_tables`,
    exact text), and every table and column comment; the publisher's own tables
    (``_publish_info``, ``_published_scores``: run ids and times) left out."""
    cons = {
        "ref": duckdb.connect(str(reference), read_only=True),
        "other": duckdb.connect(str(other), read_only=True),
    }
    try:
        tables = {
            k: {t: c for t, c in _duckdb_columns(con, "marts").items() if not t.startswith("_")}
            for k, con in cons.items()
        }
        compared, problems = compare_tables(
            tables["ref"],
            tables["other"],
            lambda sql: cons["ref"].execute(sql).fetchall(),
            lambda sql: cons["other"].execute(sql).fetchall(),
            engine,
        )
        comments = {k: con.execute(_PUBLISHED_COMMENTS).fetchall() for k, con in cons.items()}
    finally:
        for con in cons.values():
            con.close()
    return PublishedComparison(compared, problems, comments["ref"], comments["other"])


def compare_schema(
    duck: duckdb.DuckDBPyConnection, pg: Any, schema: str = "marts"
) -> tuple[int, list[str]]:
    """:func:`compare_tables` of ``schema`` between the DuckDB file and PostgreSQL."""

    def pg_fetch(sql: str) -> list[tuple]:
        with pg.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def duck_fetch(sql: str) -> list[tuple]:
        return duck.execute(sql).fetchall()

    return compare_tables(
        _duckdb_columns(duck, schema),
        _postgres_columns(pg, schema),
        duck_fetch,
        pg_fetch,
        "PostgreSQL",
        schema,
    )


# --- the tests ----------------------------------------------------------------------------


def test_raw_copy_is_exact_and_the_views_are_the_same_rule(pg_build: PostgresBuild) -> None:
    """Every raw table arrived with all its rows, and raw._submission_versions /
    raw._submission_tables (raw_schema.sql, run unchanged on both) return the same rows."""
    duck = duckdb.connect(str(pg_build.duckdb_file), read_only=True)
    try:
        with postgres.connect(pg_build.server.address()) as pg:
            for table, copied in pg_build.loaded["rows"].items():
                (expected,) = duck.execute(f"select count(*) from raw.{table}").fetchone() or (0,)
                assert copied == expected, f"raw.{table}: copied {copied} of {expected} rows"
            assert pg_build.loaded["rows"]["submissions"] > 0

            def pg_fetch(sql: str) -> list[tuple]:
                with pg.cursor() as cur:
                    cur.execute(sql)
                    return list(cur.fetchall())

            for view in ("_submission_versions", "_submission_tables"):
                cols = [
                    str(r[0])
                    for r in duck.execute(
                        "select column_name from information_schema.columns where"
                        " table_schema = 'raw' and table_name = ? order by ordinal_position",
                        [view],
                    ).fetchall()
                ]
                a = _rows(lambda sql: duck.execute(sql).fetchall(), view, cols, "raw")
                b = _rows(pg_fetch, view, cols, "raw")
                assert sum(a.values()) > 0, f"raw.{view} is empty on DuckDB"
                assert a == b, f"raw.{view} differs: DuckDB {a - b} / PostgreSQL {b - a}"
            # an exact decimal survives the copy as its text, not a float round trip
            (duck_sum,) = duck.execute("select sum(amount_yuan) from raw.payments").fetchone() or (
                None,
            )
            (pg_sum,) = pg_fetch("select sum(amount_yuan) from raw.payments")[0]
            assert isinstance(pg_sum, Decimal) and pg_sum == duck_sum
    finally:
        duck.close()


def test_dbt_build_on_postgres_passes_with_its_tests(pg_build: PostgresBuild) -> None:
    """Seeds, every model, data test and unit test built and passed on PostgreSQL, twice."""
    results = json.loads(
        (pg_build.settings.home / "dbt" / "target" / "run_results.json").read_text("utf-8")
    )
    assert results["args"]["target"] == "postgres"
    for run in (pg_build.first, pg_build.second):
        assert run.success and not run.failed
        kinds = Counter(n.unique_id.split(".")[0] for n in run.nodes)
        assert kinds["model"] > 50 and kinds["test"] > 100 and kinds["unit_test"] > 0, kinds
        assert kinds["seed"] > 0, kinds


def _write_timings(timings: dict[str, float]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "postgres_warehouse_timings.json").write_text(
        json.dumps(timings, indent=2) + "\n", encoding="utf-8"
    )
    print(f"\nPostgreSQL warehouse: {timings}")


def test_every_mart_equals_the_duckdb_build(pg_build: PostgresBuild) -> None:
    started = time.monotonic()
    duck = duckdb.connect(str(pg_build.duckdb_file), read_only=True)
    try:
        with postgres.connect(pg_build.server.address()) as pg:
            compared, problems = compare_schema(duck, pg, "marts")
    finally:
        duck.close()
    timings = pg_build.server.timings
    timings["compare_seconds"] = round(time.monotonic() - started, 2)
    timings["marts_tables"] = compared
    _write_timings(timings)
    assert compared > 30, f"only {compared} marts tables"
    assert not problems, "\n".join(problems)


@pytest.mark.timeout(1800)
def test_every_variant_mart_equals_the_duckdb_build(pg_variants: PostgresVariants) -> None:
    """The layout-variant corpus (every layout variant of the five canonical submissions under
    keys of their own): its dbt build passes on PostgreSQL and every marts table equals the
    DuckDB build's, compared as the demo's are (issue 17 item 3: demo AND variants)."""
    assert pg_variants.built.success and not pg_variants.built.failed
    assert pg_variants.loaded["rows"]["submissions"] > 100, pg_variants.loaded["rows"]
    started = time.monotonic()
    duck = duckdb.connect(str(pg_variants.duckdb_file), read_only=True)
    try:
        with postgres.connect(pg_variants.server.address(VARIANTS_DB)) as pg:
            compared, problems = compare_schema(duck, pg, "marts")
            with pg.cursor() as cur:
                cur.execute("select count(*) from marts.mart_project_year")
                (pg_projects,) = cur.fetchone()
    finally:
        duck.close()
    timings = pg_variants.server.timings
    timings["variants_compare_seconds"] = round(time.monotonic() - started, 2)
    timings["variants_marts_tables"] = compared
    _write_timings(timings)
    assert compared > 30, f"only {compared} marts tables"
    assert pg_projects >= 150, pg_projects  # every variant reached the marts, not an empty copy
    assert not problems, "\n".join(problems)


def test_the_comparison_reports_a_changed_row(pg_build: PostgresBuild) -> None:
    """One fen more on one row of one PostgreSQL mart and one dropped column of another
    (inside a transaction that is rolled back): the comparison names those two tables and no
    other, and after the rollback finds nothing."""
    duck = duckdb.connect(str(pg_build.duckdb_file), read_only=True)
    try:
        with postgres.connect(pg_build.server.address()) as pg:
            with pg.cursor() as cur:
                cur.execute(
                    "update marts.mart_project_year set final_budget_yuan = final_budget_yuan"
                    " + 0.01 where ctid = (select min(ctid) from marts.mart_project_year"
                    " where final_budget_yuan is not null)"
                )
                assert cur.rowcount == 1
                cur.execute("alter table marts.dim_fund_source drop column fund_source_en")
            _, problems = compare_schema(duck, pg, "marts")
            pg.rollback()
            _, after = compare_schema(duck, pg, "marts")
    finally:
        duck.close()
    assert len(problems) == 2, problems
    assert problems[0].startswith("marts.dim_fund_source: columns differ"), problems
    assert problems[1].startswith("marts.mart_project_year: 1 rows only on DuckDB"), problems
    assert after == []


def _compiled(build: PostgresBuild, engine: str, sql: str) -> str:
    """``dbt compile --inline`` for one target (the runner's environment and arguments)."""
    from dbt.cli.main import dbtRunner

    from jixiao.warehouse import dbt as jdbt

    settings = build.settings
    with pytest.MonkeyPatch.context() as mp:
        for key, value in build.server.env().items():
            mp.setenv(key, value)
        mp.setenv("JIXIAO_WAREHOUSE", engine)
        with jdbt._dbt_environment(settings):
            res = dbtRunner().invoke(
                ["compile", "--inline", sql, *jdbt._common_args(settings), "--quiet"]
            )
        jdbt._release_duckdb()
    assert res.success, res.exception
    return str(res.result.results[0].node.compiled_code)


def _division_cases() -> list[tuple[str, str]]:
    """Numerators and denominators for divide(): halves, repeating quotients, signs, a 10^16
    amount, and inputs with 18 decimals (more than any input_scale keeps), drawn reproducibly."""
    import random

    rng = random.Random(17)  # noqa: S311 - reproducible test data, not a secret
    cases = [("1", "3"), ("2", "3"), ("-2", "3"), ("1", "8"), ("-1", "8"), ("0.005", "1")]
    cases += [("-0.005", "1"), ("22", "7"), ("10000000000000000.00", "1.01"), ("0", "5")]
    for _ in range(60):
        numerator = Decimal(rng.randint(-(10**20), 10**20)).scaleb(-18)
        denominator = Decimal(rng.randint(10**18, 10**24)).scaleb(-18) * rng.choice([1, -1])
        cases.append((str(numerator), str(denominator)))
    return cases


def test_divide_gives_the_same_digits_on_both_engines(pg_build: PostgresBuild) -> None:
    """divide() (精确除法) compiled for each target returns the same text for every case and
    every (scale, input_scale) the models use; dbt's portable default__divide on PostgreSQL
    would not (it rounds the inputs differently), which is why postgres__divide exists."""
    cases = _division_cases()
    values = ", ".join(
        f"({i}, cast('{n}' as decimal(38, 18)), cast('{d}' as decimal(38, 18)))"
        for i, (n, d) in enumerate(cases)
    )
    params = [(12, 12), (12, 2), (6, 2), (2, 2), (0, 0)]

    def sql(macro: str) -> str:
        cols = ", ".join(f"{{{{ {macro}('n', 'd', {a}, {b}) }}}} as q_{a}_{b}" for a, b in params)
        return f"select id, {cols} from (values {values}) as t(id, n, d) order by id"

    def text(rows: list[tuple]) -> list[tuple]:
        return [tuple(_text(v) for v in row) for row in rows]

    duck = duckdb.connect()
    try:
        on_duckdb = text(duck.execute(_compiled(pg_build, "duckdb", sql("divide"))).fetchall())
    finally:
        duck.close()
    with postgres.connect(pg_build.server.address()) as pg, pg.cursor() as cur:
        cur.execute(_compiled(pg_build, "postgres", sql("divide")))
        on_postgres = text(cur.fetchall())
        cur.execute(_compiled(pg_build, "postgres", sql("jixiao.default__divide")))
        portable_default = text(cur.fetchall())
    assert len(on_duckdb) == len(cases)
    assert on_postgres == on_duckdb
    # e.g. 10^16 / 1.01 at input_scale 0: DuckDB divides by the rounded 1, default__ by 1.01
    assert portable_default != on_duckdb


def test_a_database_with_a_linguistic_collation_is_refused(pg_build: PostgresBuild) -> None:
    """Text ordered by zh-CN rules would rank rows otherwise than DuckDB: load_raw refuses."""
    with postgres.connect(pg_build.server.address("postgres")) as con:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(
                "create database jixiao_zh template template0 locale_provider icu"
                " icu_locale 'zh-CN' locale 'C'"
            )
    with (
        postgres.connect(pg_build.server.address("jixiao_zh")) as con,
        pytest.raises(DataError, match=r"排序规则.*collation"),
    ):
        postgres.check_collation(con)
    with postgres.connect(pg_build.server.address()) as con:
        assert postgres.check_collation(con) == "C"


def test_an_unknown_warehouse_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIXIAO_WAREHOUSE", "oracle")
    with pytest.raises(ValueError, match="JIXIAO_WAREHOUSE"):
        _ = get_settings().warehouse_engine
    monkeypatch.delenv("JIXIAO_WAREHOUSE")
    assert get_settings().warehouse_engine == "duckdb"


# --- read-only readers and row-level security ----------------------------------------------

JIANGMEN = "江门市政务服务数据管理局"


@dataclass
class Readers:
    build: PostgresBuild
    password: str

    def address(self, role: str) -> postgres.PostgresAddress:
        server = self.build.server
        return postgres.PostgresAddress("127.0.0.1", server.port, role, self.password, PG_DB)


@pytest.fixture(scope="module")
def readers(pg_build: PostgresBuild) -> Readers:
    """Two BI login roles, members of jixiao_reader: ``bi_jiangmen`` mapped to 江门市政务服务
    数据管理局, ``bi_unmapped`` mapped to nothing (BI 读者)."""
    password = os.urandom(8).hex()
    with postgres.connect(pg_build.server.address()) as con:
        with con, con.cursor() as cur:
            for role in ("bi_jiangmen", "bi_unmapped"):
                cur.execute(f"create role {role} login password %s", [password])
                cur.execute(f"grant {postgres.READER_ROLE} to {role}")
        postgres.map_department_reader(con, "bi_jiangmen", JIANGMEN)
        postgres.map_department_reader(con, "bi_jiangmen", JIANGMEN)  # again: a no-op
    return Readers(pg_build, password)


def _count(address: postgres.PostgresAddress, sql: str) -> int:
    with postgres.connect(address) as con, con.cursor() as cur:
        cur.execute(sql)
        (n,) = cur.fetchone()
        return int(n)


def _duckdb_count(build: PostgresBuild, sql: str, params: list[Any] | None = None) -> int:
    duck = duckdb.connect(str(build.duckdb_file), read_only=True)
    try:
        (n,) = duck.execute(sql, params or []).fetchone() or (0,)
    finally:
        duck.close()
    return int(n)


def test_which_tables_are_filtered_shared_or_withheld(pg_build: PostgresBuild) -> None:
    """Every marts table is in exactly one class; the department tables are filtered."""
    access = pg_build.access
    every = set(access.filtered) | set(access.shared) | set(access.withheld)
    assert len(every) == len(access.filtered) + len(access.shared) + len(access.withheld)
    assert {"mart_project_year", "mart_department_year", "dim_project"} <= set(access.filtered)
    assert {"dim_fiscal_year", "dim_fund_source"} <= set(access.shared)
    assert {"fct_budget", "fct_payments"} <= set(access.withheld)
    assert all(t.startswith("dim_") for t in access.shared)
    with postgres.connect(pg_build.server.address()) as con, con.cursor() as cur:
        cur.execute(
            "select relname from pg_class where relnamespace = 'marts'::regnamespace"
            " and relkind = 'r' and relrowsecurity and relforcerowsecurity"
        )
        assert {r for (r,) in cur.fetchall()} == set(access.filtered)


def test_a_mapped_reader_sees_only_its_departments_rows(readers: Readers) -> None:
    build = readers.build
    expected = _duckdb_count(
        build, "select count(*) from marts.mart_project_year where department_name = ?", [JIANGMEN]
    )
    total = _duckdb_count(build, "select count(*) from marts.mart_project_year")
    assert 0 < expected < total  # the demo has other departments' rows to hide
    me = readers.address("bi_jiangmen")
    assert _count(me, "select count(*) from marts.mart_project_year") == expected
    assert (
        _count(
            me,
            f"select count(*) from marts.mart_project_year where department_name <> '{JIANGMEN}'",
        )
        == 0
    )
    # shared dimensions whole, project-level facts not at all
    assert _count(me, "select count(*) from marts.dim_fiscal_year") == _duckdb_count(
        build, "select count(*) from marts.dim_fiscal_year"
    )
    with (
        postgres.connect(me) as con,
        con.cursor() as cur,
        pytest.raises(InsufficientPrivilege, match="permission denied"),
    ):
        cur.execute("select count(*) from marts.fct_budget")


def test_a_reader_with_no_mapping_sees_nothing(readers: Readers) -> None:
    """Default deny: a reader role mapped to no department sees no row of any filtered table,
    while the build role sees them all."""
    nobody = readers.address("bi_unmapped")
    for table in readers.build.access.filtered:
        assert _count(nobody, f"select count(*) from marts.{table}") == 0, table
    everything = _count(
        readers.build.server.address(), "select count(*) from marts.mart_project_year"
    )
    assert everything == _duckdb_count(
        readers.build, "select count(*) from marts.mart_project_year"
    )
    assert everything > 0


@pytest.mark.parametrize(
    "sql",
    [
        "insert into marts.mart_project_year (department_name) values ('x')",
        "update marts.mart_project_year set department_name = department_name",
        "delete from marts.mart_project_year",
        "truncate marts.dim_fiscal_year",
        "create table marts.mine (x int)",
        "delete from access.department_readers",
        "insert into access.department_readers values ('bi_unmapped', '江门市政务服务数据管理局')",
    ],
)
def test_a_reader_cannot_write_or_create(readers: Readers, sql: str) -> None:
    with (
        postgres.connect(readers.address("bi_jiangmen")) as con,
        con.cursor() as cur,
        pytest.raises(InsufficientPrivilege, match="permission denied"),
    ):
        cur.execute(sql)


def test_a_non_superuser_owner_is_not_filtered(pg_build: PostgresBuild) -> None:
    """FORCE applies row-level security to a table's owner too; the owner policy keeps a
    non-superuser build role reading and writing every row (the session's build role is a
    superuser, which bypasses RLS anyway). Inside a transaction that is rolled back."""
    total = _duckdb_count(pg_build, "select count(*) from marts.mart_project_year")
    with postgres.connect(pg_build.server.address()) as con:
        with con.cursor() as cur:
            cur.execute("create role jixiao_builder_probe nologin")
            cur.execute("grant usage on schema marts, access to jixiao_builder_probe")
            cur.execute("alter table marts.mart_project_year owner to jixiao_builder_probe")
            postgres.apply_marts_security(cur)
            cur.execute("set role jixiao_builder_probe")
            cur.execute("select count(*) from marts.mart_project_year")
            (seen,) = cur.fetchone()
            cur.execute("update marts.mart_project_year set department_name = department_name")
            updated = cur.rowcount
            cur.execute("reset role")
            # without the owner policy FORCE would hide every row from it: the check can fail
            cur.execute(f"drop policy {postgres.OWNER_POLICY} on marts.mart_project_year")
            cur.execute("set role jixiao_builder_probe")
            cur.execute("select count(*) from marts.mart_project_year")
            (without_policy,) = cur.fetchone()
        con.rollback()
    assert seen == updated == total > 0
    assert without_policy == 0


def test_mapping_errors_are_bilingual(pg_build: PostgresBuild) -> None:
    with postgres.connect(pg_build.server.address()) as con:
        with pytest.raises(DataError, match=r"没有角色 nobody_here.*no role nobody_here"):
            postgres.map_department_reader(con, "nobody_here", JIANGMEN)
        with pytest.raises(DataError, match=r"没有部门 不存在局.*no department 不存在局"):
            postgres.map_department_reader(con, postgres.READER_ROLE, "不存在局")


# --- the raw layer synced incrementally (原始层增量同步) -------------------------------------


def _assert_raw_equal(server: PostgresServer, database: Path) -> int:
    """Every raw base table of ``database`` equals the server's (the same rows, types)."""
    duck = duckdb.connect(str(database), read_only=True)
    try:
        with postgres.connect(server.address(SYNC_DB)) as pg:
            compared, problems = compare_schema(duck, pg, "raw")
    finally:
        duck.close()
    assert compared == 12 and problems == [], problems
    return compared


def test_the_raw_layer_syncs_incrementally(
    pg_build: PostgresBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two nights of ingest into one staging file, synced after each (增量同步): the server's
    raw tables equal the file's; a crash mid-sync leaves a group boundary; nothing new copies
    nothing; a server with attempts the file lacks is not mixed with it."""
    from jixiao.ingest.loader import ingest_files
    from jixiao.samples.demo import build_demo_inbox

    server = pg_build.server
    create_database(server, SYNC_DB)
    for key, value in server.env(SYNC_DB).items():
        monkeypatch.setenv(key, value)
    s = get_settings(tmp_path / "home").ensure()
    build_demo_inbox(tmp_path / "demo")
    files = sorted(p for p in (tmp_path / "demo").rglob("*") if p.is_file())
    assert len(files) >= 4

    ingest_files(s, files[:2], workers=0)  # night 1: two files
    night1 = tmp_path / "night1.duckdb"
    shutil.copy2(s.warehouse, night1)
    first = postgres.sync_raw(s, group_files=1)
    assert (first["mode"], first["attempts"], first["groups"]) == ("incremental", 2, 2)
    assert first["known_attempts"] == 0 and first["rows"]["payments"] > 0
    _assert_raw_equal(server, s.warehouse)

    # night 2: every file again (three new, two skipped_unchanged: five attempts); the sync
    # dies in its second group: the first group stays, the second is rolled back whole
    ingest_files(s, files, workers=0)
    real_copy = postgres._copy_in
    calls: list[str] = []

    def dies_in_the_second_group(cur: Any, table: str, cols: list[str], path: Path) -> int:
        calls.append(table)
        if table == "load_log" and calls.count("load_log") == 2:
            raise OSError("connection lost (simulated)")
        return real_copy(cur, table, cols, path)

    monkeypatch.setattr(postgres, "_copy_in", dies_in_the_second_group)
    with pytest.raises(OSError, match="simulated"):
        postgres.sync_raw(s, group_files=2)
    monkeypatch.setattr(postgres, "_copy_in", real_copy)
    with postgres.connect(server.address(SYNC_DB)) as pg, pg.cursor() as cur:
        cur.execute("select count(*) from raw.load_log")
        assert cur.fetchone()[0] == 2 + 2  # night 1 and the first group of night 2
    resumed = postgres.sync_raw(s, group_files=2)
    assert (resumed["mode"], resumed["attempts"], resumed["known_attempts"]) == (
        "incremental",
        3,
        4,
    )
    _assert_raw_equal(server, s.warehouse)

    # nothing new: no COPY at all
    copies: list[str] = []
    monkeypatch.setattr(
        postgres, "_copy_in", lambda cur, table, cols, path: copies.append(table) or 0
    )
    third = postgres.sync_raw(s)
    monkeypatch.setattr(postgres, "_copy_in", real_copy)
    assert (third["attempts"], third["groups"], sum(third["rows"].values())) == (0, 0, 0)
    assert copies == []

    # night 1's file against a server that holds night 2: not mixed, a full copy, said so
    other = postgres.sync_raw(s, night1)
    assert other["mode"] == "full", other
    assert "5 个载入批次（共 7 个）" in other["reason"], other["reason"]
    assert "holds 5 load attempts (of 7)" in other["reason"], other["reason"]
    assert other["rows"]["load_log"] == 2
    _assert_raw_equal(server, night1)
    back = postgres.sync_raw(s)
    assert (back["mode"], back["attempts"]) == ("incremental", 5)
    _assert_raw_equal(server, s.warehouse)
