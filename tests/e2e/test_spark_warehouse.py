"""The warehouse on a local Spark session (Spark 数据仓库 / issue 17, items 2 and 3).

One Spark session for the module, in this process (dbt-spark ``method: session``, pyspark,
Java 17), its warehouse directory and Derby metastore under a tmp JIXIAO_SPARK_DIR. The demo
inbox's DuckDB night (the ``published_demo`` fixture) is the reference. Then, on a copy of
that night's working (staging) file, the rest of a night as JIXIAO_WAREHOUSE=spark:

- the raw tables of the staging file arrive as Parquet in Spark's ``raw`` database
  (:mod:`jixiao.warehouse.spark`), and the current-submission views, created from
  raw_schema.sql unchanged, return the same rows on both engines;
- ``pipeline.dbt_build`` (the nightly's: a full refresh with the seeds, since the file's last
  build was on DuckDB; seeds, models and data tests) passes on Spark, then the dbt unit tests
  pass there too;
- every table of the marts schema in Spark equals the DuckDB build's: the same tables, the same
  columns with the same types, the same rows, compared as the PostgreSQL test compares them (its
  helpers, tests/e2e/test_postgres_warehouse.py). The one normalisation added here: each
  engine's spelling of a type mapped to one name (Spark's ``string`` / ``int`` /
  ``timestamp_ntz`` are DuckDB's ``VARCHAR`` / ``INTEGER`` / ``TIMESTAMP``);
- the marts ``dbt_build`` copied back into the working file passed the marts gate and were
  published: the published file equals the DuckDB night's, rows, types and comments
  (:mod:`jixiao.warehouse.spark_marts`);
- the comparison can fail: one changed fen and one dropped column are reported by table;
- divide() gives DuckDB's digits on Spark;
- last, the layout-variant corpus (the session fixture ``variants_built``, shared with the mart
  checksum test and the PostgreSQL test): its raw tables replace the demo's in the same session
  (one Spark session per process: its warehouse directory is fixed at its start), one more
  ``dbt build`` of the models only (seeds and tests ran on the demo), and every marts table
  equals the DuckDB build's. The demo's tests must run
  before it (file order); they check that its marts are still the demo's.

Measured per stage (load, build, compare): printed, and written to
``test-artifacts/spark_warehouse_timings.json``.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao import pipeline
from jixiao.config import PROJECT_ROOT, Settings, get_settings
from jixiao.warehouse import spark as jspark
from jixiao.warehouse.dbt import DbtRunResult, build, dbt_paths, unit_tests
from tests.e2e.test_postgres_warehouse import (
    _division_cases,
    _duckdb_columns,
    _rows,
    _text,
    compare_published,
    compare_tables,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.spark]

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SPARK_NIGHT = "spark-night"


@dataclass
class SparkBuild:
    duckdb_file: Path
    settings: Settings
    spark: Any
    loaded: dict[str, Any]
    night: dict[str, Any]
    """``pipeline.dbt_build``'s result on Spark (load, build, marts copied back)."""
    built: Counter[str]
    """The nodes that build ran, by resource type (its run_results.json)."""
    units: DbtRunResult
    """The dbt unit tests, run on Spark after the night's build (the nightly leaves them out)."""
    timings: dict[str, float] = field(default_factory=dict)
    #: set when the variant corpus replaced the demo's tables in the session (spark_variants)
    replaced_by_variants: bool = False

    def demo(self) -> SparkBuild:
        """This build, asserted to still hold the demo's tables (the variant test runs last)."""
        assert not self.replaced_by_variants, (
            "the variant corpus replaced the demo's Spark tables: its test must run last"
        )
        return self


def _copy_duckdb_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


@pytest.fixture(scope="module")
def spark_build(
    published_demo: Settings, variants_built: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SparkBuild]:
    """The demo night's staging file (a copy of ``published_demo``'s working DuckDB file, as
    its ingest left it, its DuckDB build inside), then the rest of a night as
    JIXIAO_WAREHOUSE=spark: ``pipeline.dbt_build`` (the raw layer as Parquet into this
    process's Spark session, ``dbt build`` there, the marts copied back into the working file),
    the dbt unit tests on Spark, the marts gate and publish. ``variants_built`` is requested
    here, before the Spark environment is set, so that the variant corpus is built on DuckDB
    (its session fixture runs the pipeline, which would follow JIXIAO_WAREHOUSE=spark)."""
    home = tmp_path_factory.mktemp("spark_home") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JIXIAO_WAREHOUSE", "spark")
        mp.setenv("JIXIAO_SPARK_DIR", str(home / "spark"))
        settings = get_settings(home).ensure()
        _copy_duckdb_file(published_demo.warehouse, settings.warehouse)
        timings: dict[str, float] = {}
        started = time.monotonic()
        loaded = jspark.load_raw(settings)
        timings["load_seconds"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        night = pipeline.dbt_build(settings, SPARK_NIGHT)
        timings["night_build_seconds"] = round(time.monotonic() - started, 2)
        results = json.loads((dbt_paths(settings)["target"] / "run_results.json").read_text())
        built = Counter(r["unique_id"].split(".")[0] for r in results["results"])
        started = time.monotonic()
        units = unit_tests(settings)
        timings["unit_tests_seconds"] = round(time.monotonic() - started, 2)
        started = time.monotonic()
        pipeline.gate_marts(settings, SPARK_NIGHT)
        pipeline.publish(settings, SPARK_NIGHT)
        timings["gate_and_publish_seconds"] = round(time.monotonic() - started, 2)
        spark = jspark.session(settings)
        yield SparkBuild(
            published_demo.warehouse, settings, spark, loaded, night, built, units, timings
        )


@dataclass
class SparkVariants:
    duckdb_file: Path
    spark: Any
    loaded: dict[str, Any]
    result: DbtRunResult
    timings: dict[str, float]


@pytest.fixture(scope="module")
def spark_variants(spark_build: SparkBuild, variants_built: Settings) -> SparkVariants:
    """The layout-variant corpus (版式变体语料上 Spark) in the demo's Spark session: its raw
    tables exported and registered in place of the demo's, then ``dbt build`` of the models
    only (the same settings, so the same warehouse directory; Spark's tables are rebuilt
    whole). The seeds are the demo build's, unchanged, and the data and unit tests passed on
    it; leaving them out halves the build (about 270 s whole at load 5), and the marts
    compare is what this corpus is for."""
    spark_build.replaced_by_variants = True
    timings = spark_build.timings
    started = time.monotonic()
    loaded = jspark.load_raw(spark_build.settings, variants_built.warehouse)
    timings["variants_load_seconds"] = round(time.monotonic() - started, 2)
    started = time.monotonic()
    result = build(spark_build.settings, exclude_resource_types=("seed", "test", "unit_test"))
    timings["variants_build_seconds"] = round(time.monotonic() - started, 2)
    return SparkVariants(variants_built.warehouse, spark_build.spark, loaded, result, timings)


# --- the comparison -----------------------------------------------------------------------

Fetch = Callable[[str], list[tuple]]


def _spark_type(simple: str) -> str:
    """Spark's type names in the PostgreSQL test's vocabulary (类型名归一, DuckDB's names)."""
    t = simple.lower().replace(" ", "")
    if t.startswith("decimal"):
        return t
    return {
        "string": "varchar",
        "int": "integer",
        "timestamp_ntz": "timestamp",
    }.get(t, t)


def _spark_columns(spark: Any, schema: str) -> dict[str, list[tuple]]:
    tables: dict[str, list[tuple]] = {}
    for table in spark.catalog.listTables(schema):
        if table.tableType == "VIEW" or table.isTemporary:
            continue
        fields = spark.table(f"{schema}.{table.name}").schema.fields
        tables[table.name] = [(f.name, _spark_type(f.dataType.simpleString())) for f in fields]
    return tables


def _spark_fetch(spark: Any) -> Fetch:
    def fetch(sql: str) -> list[tuple]:
        # the compare's SQL quotes columns as "name"; Spark quotes with backticks
        return [tuple(row) for row in spark.sql(re.sub(r'"([^"]+)"', r"`\1`", sql)).collect()]

    return fetch


def compare_with_spark(
    duck: duckdb.DuckDBPyConnection,
    spark_columns: dict[str, list[tuple]],
    spark_fetch: Fetch,
    schema: str = "marts",
) -> tuple[int, list[str]]:
    """How many tables of ``schema`` were compared and every difference, one line per table
    (表级差异), as the PostgreSQL test's compare_schema reports them."""

    def duck_fetch(sql: str) -> list[tuple]:
        return duck.execute(sql).fetchall()

    return compare_tables(
        _duckdb_columns(duck, schema), spark_columns, duck_fetch, spark_fetch, "Spark", schema
    )


# --- the tests ----------------------------------------------------------------------------


def test_raw_parquet_is_exact_and_the_views_are_the_same_rule(spark_build: SparkBuild) -> None:
    """Every raw table arrived with all its rows and its exact decimals, and
    raw._submission_versions / raw._submission_tables (raw_schema.sql's statements, unchanged)
    return the same rows on both engines."""
    spark = spark_build.demo().spark
    fetch = _spark_fetch(spark)
    duck = duckdb.connect(str(spark_build.duckdb_file), read_only=True)
    try:
        for table, copied in spark_build.loaded["rows"].items():
            (expected,) = duck.execute(f"select count(*) from raw.{table}").fetchone() or (0,)
            assert copied == expected, f"raw.{table}: {copied} of {expected} rows on Spark"
        assert spark_build.loaded["rows"]["submissions"] > 0
        # an empty Parquet folder: the demo's attempts appended as new parts
        assert spark_build.loaded["export"]["mode"] == "incremental"
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
            b = _rows(fetch, view, cols, "raw")
            assert sum(a.values()) > 0, f"raw.{view} is empty on DuckDB"
            assert a == b, f"raw.{view} differs: DuckDB {a - b} / Spark {b - a}"
        (duck_sum,) = duck.execute("select sum(amount_yuan) from raw.payments").fetchone() or (
            None,
        )
        ((spark_sum,),) = fetch("select sum(amount_yuan) from raw.payments")
        assert isinstance(spark_sum, Decimal) and spark_sum == duck_sum
        types = dict(_spark_columns(spark, "raw")["payments"])
        assert types["amount_yuan"] == "decimal(18,2)", types
    finally:
        duck.close()


def test_dbt_build_on_spark_passes_with_its_tests(spark_build: SparkBuild) -> None:
    """The night's build on Spark (a full refresh with the seeds: the staging file's last
    build was DuckDB's) ran seeds, every model and data test and passed; the unit tests,
    which the nightly leaves to the test suite, pass on Spark too."""
    build = spark_build.demo()
    target = build.settings.home / "dbt" / "target"
    results = json.loads((target / "run_results.json").read_text("utf-8"))
    assert results["args"]["target"] == "spark"
    night = build.night
    assert night["success"] and night["engine"] == "spark", night
    assert night["full_refresh"] and night["seeds_reloaded"], night
    kinds = build.built
    assert kinds["model"] > 50 and kinds["test"] > 100 and kinds["seed"] > 0, kinds
    assert "unit_test" not in kinds, kinds
    assert build.units.success and not build.units.failed
    units = Counter(n.unique_id.split(".")[0] for n in build.units.nodes)
    assert units["unit_test"] > 10, units


def test_the_spark_night_publishes_the_duckdb_nights_marts(
    spark_build: SparkBuild, published_demo: Settings
) -> None:
    """What BI and the reports read: the published file of the Spark night (its marts copied
    back from Spark by dbt_build, validated by the marts gate, published) against the DuckDB
    night's, every marts table, column, type, row (exact text) and comment; the gate passed on
    exactly what was published."""
    s = spark_build.demo().settings
    assert spark_build.night["marts_tables_copied"] > 30, spark_build.night
    record = json.loads((s.quality / "runs" / f"{SPARK_NIGHT}.json").read_text("utf-8"))
    stages = record["stages"]
    for name in ("dbt_build", "gate_marts", "publish"):
        assert stages[name]["status"] == "passed", (name, stages[name])
    gate = stages["gate_marts"]["detail"]
    # a first night on this engine: every row validated, none of it failing critically
    assert gate["mode"] == "full" and gate["critical_failures"] == 0, gate
    assert stages["publish"]["detail"]["marts_fingerprint"] == gate["marts_fingerprint"]
    found = compare_published(published_demo.published, s.published, "the Spark night")
    assert found.compared >= 30 and found.problems == [], found.problems
    assert found.other_comments == found.reference_comments
    assert any(comment for _, _, comment in found.reference_comments)


def _write_timings(timings: dict[str, float]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "spark_warehouse_timings.json").write_text(
        json.dumps(timings, indent=2) + "\n", encoding="utf-8"
    )
    print(f"\nSpark warehouse: {timings}")


def test_every_mart_equals_the_duckdb_build(spark_build: SparkBuild) -> None:
    """Every marts table of the demo equals the DuckDB build's (timed): the same tables,
    columns, types and rows."""
    spark = spark_build.demo().spark
    started = time.monotonic()
    duck = duckdb.connect(str(spark_build.duckdb_file), read_only=True)
    try:
        compared, problems = compare_with_spark(
            duck, _spark_columns(spark, "marts"), _spark_fetch(spark)
        )
    finally:
        duck.close()
    timings = spark_build.timings
    timings["compare_seconds"] = round(time.monotonic() - started, 2)
    timings["marts_tables"] = compared
    _write_timings(timings)
    assert compared > 30, f"only {compared} marts tables"
    assert not problems, "\n".join(problems)


def test_the_comparison_reports_a_changed_row(spark_build: SparkBuild) -> None:
    """Spark's Parquet tables cannot UPDATE, so the Spark side is changed as the compare reads
    it: one fen more on one row of mart_project_year and dim_fund_source without its
    fund_source_en column. The comparison names those two tables, and only those."""
    spark = spark_build.demo().spark
    columns = _spark_columns(spark, "marts")
    columns["dim_fund_source"] = [c for c in columns["dim_fund_source"] if c[0] != "fund_source_en"]
    real_fetch = _spark_fetch(spark)
    position = [c for c, _ in columns["mart_project_year"]].index("final_budget_yuan")

    def tampered_fetch(sql: str) -> list[tuple]:
        rows = real_fetch(sql)
        if "marts.mart_project_year" in sql:
            at = next(i for i, r in enumerate(rows) if r[position] is not None)
            row = list(rows[at])
            row[position] = row[position] + Decimal("0.01")
            rows[at] = tuple(row)
        return rows

    duck = duckdb.connect(str(spark_build.duckdb_file), read_only=True)
    try:
        _, problems = compare_with_spark(duck, columns, tampered_fetch)
    finally:
        duck.close()
    assert len(problems) == 2, problems
    assert problems[0].startswith("marts.dim_fund_source: columns differ"), problems
    assert problems[1].startswith("marts.mart_project_year: 1 rows only on DuckDB"), problems


def _compiled(build: SparkBuild, engine: str, sql: str) -> str:
    """``dbt compile --inline`` for one target (the runner's environment and arguments)."""
    from dbt.cli.main import dbtRunner

    from jixiao.warehouse import dbt as jdbt

    settings = build.settings
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JIXIAO_WAREHOUSE", engine)
        mp.setenv("JIXIAO_SPARK_DIR", str(jspark.spark_dir(settings)))
        with jdbt._dbt_environment(settings):
            res = dbtRunner().invoke(
                ["compile", "--inline", sql, *jdbt._common_args(settings), "--quiet"]
            )
        jdbt._release_duckdb()
    assert res.success, res.exception
    return str(res.result.results[0].node.compiled_code)


def test_divide_gives_the_same_digits_on_both_engines(spark_build: SparkBuild) -> None:
    """divide() (精确除法) compiled for each target returns the same text for every case and
    every (scale, input_scale) the models use (the PostgreSQL test's cases)."""
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
        on_duckdb = text(duck.execute(_compiled(spark_build, "duckdb", sql("divide"))).fetchall())
    finally:
        duck.close()
    spark = spark_build.demo().spark
    on_spark = text(
        [tuple(r) for r in spark.sql(_compiled(spark_build, "spark", sql("divide"))).collect()]
    )
    assert len(on_duckdb) == len(cases)
    assert on_spark == on_duckdb


# --- the layout-variant corpus: last, it replaces the demo's tables -------------------------


@pytest.mark.timeout(1800)
def test_every_variant_mart_equals_the_duckdb_build(spark_variants: SparkVariants) -> None:
    """The layout-variant corpus (every layout variant of the five canonical submissions under
    keys of their own): its models build on Spark and every marts table equals the DuckDB
    build's, compared as the demo's are (issue 17 item 3: demo AND variants)."""
    assert spark_variants.result.success and not spark_variants.result.failed
    kinds = Counter(n.unique_id.split(".")[0] for n in spark_variants.result.nodes)
    assert kinds["model"] > 50 and not {"seed", "test", "unit_test"} & set(kinds), kinds
    assert spark_variants.loaded["rows"]["submissions"] > 100, spark_variants.loaded["rows"]
    # the folders held the demo's attempts, which the variants' staging file lacks: not mixed,
    # exported again whole
    export = spark_variants.loaded["export"]
    assert export["mode"] == "full" and "does not" in export["reason"], export
    spark = spark_variants.spark
    fetch = _spark_fetch(spark)
    started = time.monotonic()
    duck = duckdb.connect(str(spark_variants.duckdb_file), read_only=True)
    try:
        compared, problems = compare_with_spark(duck, _spark_columns(spark, "marts"), fetch)
    finally:
        duck.close()
    ((projects,),) = fetch("select count(*) from marts.mart_project_year")
    timings = spark_variants.timings
    timings["variants_compare_seconds"] = round(time.monotonic() - started, 2)
    timings["variants_marts_tables"] = compared
    _write_timings(timings)
    assert compared > 30, f"only {compared} marts tables"
    assert projects >= 150, projects  # every variant reached the marts, not the demo's
    assert not problems, "\n".join(problems)
