"""The raw layer on a local Spark session (Spark 原始层 / issue 17, item 2).

With ``JIXIAO_WAREHOUSE=spark`` dbt builds the project on a Spark session in this process (the
``spark`` output of dbt_project/profiles.yml, dbt-spark ``method: session``). This module puts
the raw layer there:

* :func:`session` starts (or returns) the process's Spark session with the profile's own
  ``server_side_parameters`` (rendered here from profiles.yml, so there is one list): the
  warehouse directory and the Derby metastore under :func:`spark_dir`, UTC session time, ANSI
  mode off as dbt-spark forces it. Spark's static settings only take effect in the first session
  of a process, so this must run before dbt opens its own (dbt-spark then reuses it).
* :func:`export_raw_incremental` writes the raw tables of the DuckDB staging file as Parquet
  with DuckDB's ``COPY ... TO ... (FORMAT parquet)``, only the load attempts the Parquet
  folders do not hold yet (:mod:`jixiao.warehouse.raw_delta`, the same rule the PostgreSQL
  sync uses): one new part file per table and group of
  :data:`jixiao.ingest.loader.WRITE_GROUP_FILES` attempts under
  ``spark_dir/raw_parquet/<table>/``, never rewriting an existing part, the group's
  ``load_log`` part written last (the watermark). Each part is written under a hidden
  temporary name and renamed into place. The attempts held are read from the ``load_log``
  parts (DuckDB ``read_parquet``; no Spark session). A crash between parts leaves parts of a
  group without its ``load_log`` part: the next export removes them first. Decimals stay
  exact DECIMAL(p, s), timestamps are DuckDB's naive TIMESTAMP (Spark reads them as
  ``timestamp_ntz``), text is UTF-8. Folders that hold attempts the staging file lacks
  (another staging file, a reset) or another table layout are not mixed with it: they are
  exported again whole (``mode: full``, with the reason). The nightly's ingest calls it after
  every load on ``JIXIAO_WAREHOUSE=spark`` (:func:`jixiao.pipeline.ingest`).
* :func:`register_raw_tables` makes each Parquet folder a table of the session's ``raw``
  database, and :func:`create_raw_views` creates ``raw._submission_versions`` and
  ``raw._submission_tables`` from the ``create or replace view`` statements of
  ``src/jixiao/ingest/raw_schema.sql``, run unchanged: the same rule as on DuckDB and
  PostgreSQL, not a second copy (the raw tables themselves come from the Parquet files, so the
  file's ``create table`` statements are not run on Spark).

"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jixiao.config import PROJECT_ROOT, Settings, duckdb_connect
from jixiao.errors import DataError
from jixiao.locks import file_lock
from jixiao.warehouse import raw_delta

log = logging.getLogger(__name__)

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


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


PART_GLOB = "part-*.parquet"
"""A committed part file (分片): ``part-<group number>-<token>.parquet``; its group is
committed when ``load_log/`` has a part of the same name."""


def raw_parquet_dir(settings: Settings) -> Path:
    """The raw layer's Parquet folders, one per raw table (原始层 Parquet 目录)."""
    return spark_dir(settings) / "raw_parquet"


@contextmanager
def _export_lock(root: Path) -> Iterator[None]:
    """One export at a time per folder (导出锁): a second one waits."""
    root.mkdir(parents=True, exist_ok=True)
    with file_lock(root.parent / ".raw_parquet.lock"):
        yield


def _remove_orphans(root: Path) -> int:
    """Remove temporary files and parts whose group has no load_log part (清除孤立分片);
    return how many parts were removed."""
    committed = {p.name for p in (root / raw_delta.LOG_TABLE).glob(PART_GLOB)}
    removed = 0
    for folder in (f for f in root.iterdir() if f.is_dir()):
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink()
        if folder.name == raw_delta.LOG_TABLE:
            continue
        for part in folder.glob(PART_GLOB):
            if part.name not in committed:
                part.unlink()
                removed += 1
    return removed


def _layout_differs(duck: Any, root: Path, tables: dict[str, list[str]]) -> str | None:
    """Why the folders cannot be appended to (another table layout), else None."""
    folders = {f.name for f in root.iterdir() if f.is_dir()}
    if folders - set(tables):
        return f"folders without a raw table: {sorted(folders - set(tables))}"
    for table in tables:
        parts = sorted((root / table).glob(PART_GLOB))
        if not parts:
            return f"no part for raw.{table}"
        want = duck.execute(f"describe select * from raw.{_quoted(table)}").fetchall()
        have = duck.execute(
            f"describe select * from read_parquet({_literal(str(parts[0]))})"
        ).fetchall()
        if [(r[0], r[1]) for r in want] != [(r[0], r[1]) for r in have]:
            return f"raw.{table} columns changed"
    return None


def _next_group(root: Path) -> int:
    numbers = [int(p.name.split("-")[1]) for p in (root / raw_delta.LOG_TABLE).glob(PART_GLOB)]
    return max(numbers, default=-1) + 1


def _write_part(duck: Any, select: str, folder: Path, name: str, keep_empty: bool) -> int:
    """COPY ``select`` to ``folder/name`` under a hidden temporary name, then rename it into
    place (an empty result is dropped unless ``keep_empty``); the rows written."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    row = duck.execute(f"copy ({select}) to {_literal(str(tmp))} (format parquet)").fetchall()
    rows = int(row[0][0]) if row else 0
    if rows or keep_empty:
        os.replace(tmp, folder / name)
    else:
        tmp.unlink()
    return rows


def export_raw_incremental(
    settings: Settings,
    source: Path | None = None,
    group_files: int | None = None,
    *,
    full: bool = False,
) -> dict[str, Any]:
    """Write the load attempts of the DuckDB file ``source`` (default ``settings.warehouse``)
    that ``spark_dir/raw_parquet`` lacks as new Parquet parts (增量导出原始层为 Parquet); see
    the module docstring. ``full`` exports everything again. Returns ``mode``
    (``incremental`` / ``full``; ``reason`` when full was not asked for), ``rows`` written per
    table, ``attempts``, ``groups``, ``orphans_removed``, ``known_attempts``,
    ``staged_attempts``, ``folders`` (per table) and ``seconds``."""
    started = time.monotonic()
    database = source or settings.warehouse
    if not database.exists():
        raise DataError(
            f"DuckDB 仓库文件不存在 / the DuckDB warehouse file does not exist: {database}"
        )
    root = raw_parquet_dir(settings)
    with _export_lock(root):
        duck = duckdb_connect(settings, database, read_only=True)
        try:
            tables = raw_delta.base_tables(duck)
            if raw_delta.LOG_TABLE not in tables:
                raise DataError(
                    f"DuckDB 文件没有原始层表 / the DuckDB file has no raw tables: {database}"
                )
            orphans = 0 if full else _remove_orphans(root)
            reason: str | None = None
            known: list[str] = []
            if not full and _next_group(root) > 0:
                reason = _layout_differs(duck, root, tables)
                if reason is None:
                    log_parts = _literal(str(root / raw_delta.LOG_TABLE / PART_GLOB))
                    known = [
                        str(r[0])
                        for r in duck.execute(
                            f"select load_id from read_parquet({log_parts})"
                        ).fetchall()
                    ]
            delta = raw_delta.plan(duck, known)
            if reason is None and delta.foreign:
                reason = (
                    f"the Parquet folders hold {delta.foreign} load attempts (of {delta.known}) "
                    f"that the staging file {database} does not ({delta.staged} attempts)"
                )
            if full or reason is not None:
                if reason is not None:
                    log.warning(
                        "原始层 Parquet 与暂存文件不符，整体重新导出 / the raw Parquet folders "
                        "do not match the staging file, exporting them again whole: %s",
                        reason,
                    )
                shutil.rmtree(root)
                root.mkdir()
                delta = raw_delta.plan(duck, [])
            rows = dict.fromkeys(tables, 0)
            number = _next_group(root)
            written = 0
            for group in raw_delta.groups(delta.new, group_files):
                name = f"part-{number:06d}-{uuid.uuid4().hex[:8]}.parquet"
                with raw_delta.selects(duck, group, tables) as selects:
                    for table, select in selects.items():  # load_log last: the watermark
                        folder = root / table
                        keep = table == raw_delta.LOG_TABLE or not any(folder.glob(PART_GLOB))
                        rows[table] += _write_part(duck, select, folder, name, keep)
                number += 1
                written += 1
            empty = [t for t in tables if not any((root / t).glob(PART_GLOB))]
            if empty:  # no attempt yet: one empty part per table, for the schema
                name = f"part-{number:06d}-{uuid.uuid4().hex[:8]}.parquet"
                for table in [*(t for t in empty if t != raw_delta.LOG_TABLE), raw_delta.LOG_TABLE]:
                    cols = ", ".join(_quoted(c) for c in tables[table])
                    select = f"select {cols} from raw.{_quoted(table)} limit 0"
                    _write_part(duck, select, root / table, name, keep_empty=True)
        finally:
            duck.close()
    result: dict[str, Any] = {
        "mode": "full" if full or reason is not None else "incremental",
        "rows": rows,
        "attempts": len(delta.new),
        "groups": written,
        "orphans_removed": orphans,
        "known_attempts": delta.known if reason is None else len(known),
        "staged_attempts": delta.staged,
        "folders": {t: root / t for t in tables},
        "seconds": round(time.monotonic() - started, 3),
    }
    if reason is not None:
        result["reason"] = reason
    return result


def export_raw_tables(settings: Settings, source: Path | None = None) -> dict[str, Path]:
    """Write every raw base table of the DuckDB file ``source`` (default
    ``settings.warehouse``) as Parquet under ``spark_dir/raw_parquet/<table>/`` again, whole
    (导出原始表为 Parquet): :func:`export_raw_incremental` with ``full``. Returns the folder per
    table."""
    folders: dict[str, Path] = export_raw_incremental(settings, source, full=True)["folders"]
    return folders


def export_errors() -> tuple[type[BaseException], ...]:
    """What an export raises when it cannot write (导出失败的异常): the ingest that ran
    before it stays loaded in the staging file, and the next export catches up."""
    import duckdb

    return (duckdb.Error, DataError, OSError)


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
    """Bring the Parquet raw tables up to date with the DuckDB file
    (:func:`export_raw_incremental`; a no-op when they are), register them in the session's raw
    database and create the two views (载入原始层到 Spark); returns rows per table, the
    seconds it took and the export's result."""
    started = time.monotonic()
    export = export_raw_incremental(settings, source)
    spark = session(settings)
    rows = register_raw_tables(spark, export["folders"])
    create_raw_views(spark)
    return {"rows": rows, "seconds": round(time.monotonic() - started, 3), "export": export}
