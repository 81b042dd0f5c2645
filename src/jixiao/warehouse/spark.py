"""The raw layer on a local Spark session (Spark 原始层 / issue 17, item 2, first step).

With ``JIXIAO_WAREHOUSE=spark`` dbt builds the project on a Spark session in this process (the
``spark`` output of dbt_project/profiles.yml, dbt-spark ``method: session``). This module puts
the raw layer there:

* :func:`session` starts (or returns) the process's Spark session with the profile's own
  ``server_side_parameters`` (rendered here from profiles.yml, so there is one list): the
  warehouse directory and the Derby metastore under :func:`spark_dir`, UTC session time, ANSI
  mode off as dbt-spark forces it. Spark's static settings only take effect in the first session
  of a process, so this must run before dbt opens its own (dbt-spark then reuses it).
* :func:`export_raw_tables` writes every raw table of a DuckDB warehouse file as Parquet with
  DuckDB's ``COPY ... TO ... (FORMAT parquet)``: decimals stay exact DECIMAL(p, s), timestamps
  are DuckDB's naive TIMESTAMP (Spark reads them as ``timestamp_ntz``), text is UTF-8.
* :func:`register_raw_tables` makes each Parquet folder a table of the session's ``raw``
  database, and :func:`create_raw_views` creates ``raw._submission_versions`` and
  ``raw._submission_tables`` from the ``create or replace view`` statements of
  ``src/jixiao/ingest/raw_schema.sql``, run unchanged: the same rule as on DuckDB and
  PostgreSQL, not a second copy (the raw tables themselves come from the Parquet files, so the
  file's ``create table`` statements are not run on Spark).

Ingest writing Parquet itself is a later step of issue 17; today the raw layer is exported from
the DuckDB file the ingest wrote.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from jixiao.config import PROJECT_ROOT, Settings, duckdb_connect
from jixiao.errors import DataError
from jixiao.warehouse import db

RAW_SCHEMA_SQL = Path(__file__).resolve().parents[1] / "ingest" / "raw_schema.sql"
"""The one definition of the raw schema and its views (its views run unchanged on Spark)."""

PROFILES_YML = PROJECT_ROOT / "dbt_project" / "profiles.yml"


def spark_dir(settings: Settings) -> Path:
    """Where the Spark warehouse lives (Spark 目录): ``JIXIAO_SPARK_DIR``, else
    ``JIXIAO_HOME/spark``. Holds ``warehouse/`` (the tables dbt builds), ``metastore_db/``
    (Derby) and ``raw_parquet/`` (the exported raw tables)."""
    raw = os.environ.get("JIXIAO_SPARK_DIR")
    return Path(raw) if raw else settings.home / "spark"


def session_config(settings: Settings) -> dict[str, str]:
    """The profile's ``spark`` output's ``server_side_parameters`` (Spark 会话配置), its
    ``env_var('JIXIAO_SPARK_DIR')`` rendered with :func:`spark_dir`."""
    import jinja2
    import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock

    folder = str(spark_dir(settings))

    def env_var(name: str, default: str | None = None) -> str:
        if name == "JIXIAO_SPARK_DIR":
            return folder
        value = os.environ.get(name, default)
        if value is None:
            raise DataError(f"环境变量 {name} 未设置 / environment variable {name} is not set")
        return value

    profile = yaml.safe_load(PROFILES_YML.read_text(encoding="utf-8"))
    params = profile["jixiao"]["outputs"]["spark"]["server_side_parameters"]
    env = jinja2.Environment(autoescape=False)  # noqa: S701 - renders config values, not HTML
    config = {str(k): env.from_string(str(v)).render(env_var=env_var) for k, v in params.items()}
    config["spark.sql.ansi.enabled"] = "false"  # as dbt-spark sets it for every session
    return config


def session(settings: Settings) -> Any:
    """The process's Spark session with Hive support (Spark 会话), as dbt-spark opens it."""
    from pyspark.sql import SparkSession

    folder = spark_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_config(settings).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_raw_tables(settings: Settings, source: Path | None = None) -> dict[str, Path]:
    """Write every raw base table of the DuckDB file ``source`` (default
    ``settings.warehouse``) as one Parquet file per table under ``spark_dir/raw_parquet/<table>/``
    (导出原始表为 Parquet); the folder is emptied first. Returns the folder per table."""
    database = source or settings.warehouse
    if not database.exists():
        raise DataError(
            f"DuckDB 仓库文件不存在 / the DuckDB warehouse file does not exist: {database}"
        )
    root = spark_dir(settings) / "raw_parquet"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    folders: dict[str, Path] = {}
    duck = duckdb_connect(settings, database, read_only=True)
    try:
        tables = sorted(db.columns(duck, "raw", base_tables_only=True))
        if not tables:
            raise DataError(
                f"DuckDB 文件没有原始层表 / the DuckDB file has no raw tables: {database}"
            )
        for table in tables:
            folder = root / table
            folder.mkdir()
            target = str(folder / "part-0.parquet").replace("'", "''")
            duck.execute(
                f"copy (select * from raw.{_quoted(table)}) to '{target}' (format parquet)"
            )
            folders[table] = folder
    finally:
        duck.close()
    return folders


def _backquoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def register_raw_tables(spark: Any, folders: dict[str, Path]) -> dict[str, int]:
    """Make each Parquet folder the table ``raw.<table>`` of the session (注册原始表; an
    external table: dropping it leaves the files); return the rows per table."""
    spark.sql("create database if not exists raw")
    rows: dict[str, int] = {}
    for table, folder in folders.items():
        name = f"raw.{_backquoted(table)}"
        spark.sql(f"drop table if exists {name}")
        location = str(folder).replace("'", "\\'")
        spark.sql(f"create table {name} using parquet location '{location}'")
        rows[table] = int(spark.sql(f"select count(*) from {name}").collect()[0][0])
    return rows


def raw_view_statements() -> list[str]:
    """The ``create or replace view`` statements of raw_schema.sql, comments removed (原始层
    视图), in file order."""
    text = RAW_SCHEMA_SQL.read_text(encoding="utf-8")
    # the file has no string literal containing '--', so a line comment starts at any '--'
    without_comments = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    statements = [s.strip() for s in without_comments.split(";")]
    views = [s for s in statements if re.match(r"create\s+or\s+replace\s+view\b", s, re.I)]
    if len(views) != 2:
        raise DataError(
            f"raw_schema.sql 应有 2 个视图，实际 {len(views)} 个 / raw_schema.sql should define "
            f"2 views, found {len(views)}"
        )
    return views


def create_raw_views(spark: Any) -> None:
    """Create raw._submission_versions and raw._submission_tables on Spark (建立原始层视图)
    from raw_schema.sql, unchanged."""
    for statement in raw_view_statements():
        spark.sql(statement)


def load_raw(settings: Settings, source: Path | None = None) -> dict[str, Any]:
    """Export the DuckDB file's raw tables to Parquet, register them in the session's raw
    database and create the two views (载入原始层到 Spark); returns rows per table and the
    seconds it took."""
    started = time.monotonic()
    folders = export_raw_tables(settings, source)
    spark = session(settings)
    rows = register_raw_tables(spark, folders)
    create_raw_views(spark)
    return {"rows": rows, "seconds": round(time.monotonic() - started, 3)}
