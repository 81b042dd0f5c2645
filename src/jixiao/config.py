"""Where jixiao keeps its files.

Every path derives from one root, ``JIXIAO_HOME`` (default: ``<project>/var``), so a test
can point the whole pipeline at a temporary folder with one environment variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # duckdb is imported where a connection is opened, never at DAG parse
    import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: DuckDB's resource settings for every connection jixiao opens (DuckDB 资源设置), sized for a
#: 2-core, 24 GiB machine shared by the scheduler and the BI readers. Override per deployment
#: with ``JIXIAO_DUCKDB_MEMORY_LIMIT`` (a DuckDB size, e.g. ``8GB``), ``JIXIAO_DUCKDB_THREADS``
#: and ``JIXIAO_DUCKDB_TEMP_DIR`` (where DuckDB spills what does not fit; default
#: ``<JIXIAO_HOME>/duckdb_tmp``).
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"
DEFAULT_DUCKDB_THREADS = 2

#: The engines the dbt project builds on (数据仓库引擎), chosen with ``JIXIAO_WAREHOUSE``:
#: ``duckdb`` (the embedded default, one file under JIXIAO_HOME) or ``postgres`` (a PostgreSQL
#: server; dbt_project/profiles.yml reads its address from ``JIXIAO_PG_HOST``, ``JIXIAO_PG_PORT``,
#: ``JIXIAO_PG_USER``, ``JIXIAO_PG_PASSWORD`` and ``JIXIAO_PG_DBNAME``; docs/warehouse.md) or
#: ``spark`` (a local Spark session in this process; its warehouse and metastore under
#: ``JIXIAO_SPARK_DIR``, default ``JIXIAO_HOME/spark``; :mod:`jixiao.warehouse.spark`).
WAREHOUSE_ENGINES: tuple[str, ...] = ("duckdb", "postgres", "spark")


@dataclass(frozen=True)
class Settings:
    """Resolved paths for one jixiao installation (一套部署的目录)."""

    home: Path

    @property
    def inbox(self) -> Path:
        """Departmental workbooks land here (部门报送的工作簿)."""
        return self.home / "inbox"

    @property
    def quarantine(self) -> Path:
        """Rejected files, kept byte for byte (隔离区)."""
        return self.home / "quarantine"

    @property
    def warehouse(self) -> Path:
        """The working DuckDB file: raw schema + dbt models (工作库, read-write)."""
        return self.home / "warehouse" / "jixiao.duckdb"

    @property
    def published_dir(self) -> Path:
        """Published, read-only copy for BI tools (发布库)."""
        return self.home / "published"

    @property
    def published(self) -> Path:
        return self.published_dir / "jixiao.duckdb"

    @property
    def reports(self) -> Path:
        """Yearly reports (年度报告)."""
        return self.home / "reports"

    @property
    def quality(self) -> Path:
        """Data stewards' quality report site and gate results (质量报告)."""
        return self.home / "quality"

    @property
    def feedback(self) -> Path:
        """Feedback workbooks for the submitting departments (给报送部门的反馈)."""
        return self.home / "feedback"

    @property
    def staging(self) -> Path:
        """One snapshot of each inbox file, taken before it is hashed and parsed (读取快照)."""
        return self.home / "staging"

    @property
    def runs(self) -> Path:
        """Per-run stage records for the stewards' report (每次运行的各阶段记录)."""
        return self.quality / "runs"

    @property
    def duckdb_memory_limit(self) -> str:
        """DuckDB ``memory_limit`` (内存上限), from ``JIXIAO_DUCKDB_MEMORY_LIMIT``."""
        return os.environ.get("JIXIAO_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT

    @property
    def duckdb_threads(self) -> int:
        """DuckDB ``threads`` (线程数), from ``JIXIAO_DUCKDB_THREADS``."""
        raw = os.environ.get("JIXIAO_DUCKDB_THREADS") or ""
        try:
            return max(1, int(raw)) if raw.strip() else DEFAULT_DUCKDB_THREADS
        except ValueError as exc:
            raise ValueError(
                f"JIXIAO_DUCKDB_THREADS 须为正整数，实际为 {raw!r} / "
                f"JIXIAO_DUCKDB_THREADS must be a positive integer, got {raw!r}"
            ) from exc

    @property
    def duckdb_temp_dir(self) -> Path:
        """Where DuckDB spills to disk (溢出临时目录), from ``JIXIAO_DUCKDB_TEMP_DIR``."""
        raw = os.environ.get("JIXIAO_DUCKDB_TEMP_DIR")
        return Path(raw) if raw else self.home / "duckdb_tmp"

    def duckdb_config(self) -> dict[str, Any]:
        """The DuckDB configuration every jixiao connection opens with (连接配置)."""
        return {
            "memory_limit": self.duckdb_memory_limit,
            "threads": self.duckdb_threads,
            "temp_directory": str(self.duckdb_temp_dir),
        }

    @property
    def warehouse_engine(self) -> str:
        """The dbt target the warehouse builds on (数据仓库引擎), from ``JIXIAO_WAREHOUSE``:
        ``duckdb`` (default), ``postgres`` or ``spark``."""
        raw = (os.environ.get("JIXIAO_WAREHOUSE") or "").strip().lower()
        if not raw:
            return "duckdb"
        if raw not in WAREHOUSE_ENGINES:
            raise ValueError(
                f"JIXIAO_WAREHOUSE 须为 {' / '.join(WAREHOUSE_ENGINES)}，实际为 {raw!r} / "
                f"JIXIAO_WAREHOUSE must be one of {', '.join(WAREHOUSE_ENGINES)}, got {raw!r}"
            )
        return raw

    @property
    def dbt_project_dir(self) -> Path:
        return PROJECT_ROOT / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return PROJECT_ROOT / "expectations"

    def ensure(self) -> Settings:
        for p in (
            self.inbox,
            self.quarantine,
            self.warehouse.parent,
            self.published_dir,
            self.reports,
            self.quality,
            self.feedback,
            self.staging,
            self.runs,
        ):
            p.mkdir(parents=True, exist_ok=True)
        return self


def duckdb_connect(
    settings: Settings, database: str | os.PathLike[str] = ":memory:", *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open DuckDB with :meth:`Settings.duckdb_config` (按统一资源设置打开 DuckDB).

    The gates, publish and the pipeline's own queries open their connections here, so one
    setting bounds them all; dbt gets the same values through ``profiles.yml``.
    """
    import duckdb

    settings.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(database), read_only=read_only, config=settings.duckdb_config())


def get_settings(home: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from ``home``, else ``$JIXIAO_HOME``, else ``<project>/var``."""
    root = home or os.environ.get("JIXIAO_HOME") or (PROJECT_ROOT / "var")
    return Settings(home=Path(root).resolve())
