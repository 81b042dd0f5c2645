"""How BI tools and scripts read the published marts (发布库的只读访问).

DuckDB allows one read-write process or many read-only processes per file. Readers open
``published/jixiao.duckdb`` read-only; the publisher never opens that path for writing (it
builds a new file and renames it into place), so readers never block the nightly publish and
never see a half-built file. A connection keeps reading the version it opened; a new
connection sees the newest version.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jixiao.config import Settings, duckdb_connect
from jixiao.errors import JixiaoError

if TYPE_CHECKING:
    import duckdb
    from sqlalchemy.engine import Engine

#: ``connect_args`` for SQLAlchemy / duckdb-engine (Superset's "Engine parameters").
READONLY_CONNECT_ARGS: dict[str, Any] = {"read_only": True}


class NotPublished(JixiaoError):
    """Nothing has been published yet (尚未发布)."""


def _require_published(settings: Settings) -> Path:
    path = settings.published
    if not path.exists():
        raise NotPublished(
            f"发布库 {path} 不存在：请先运行 `jixiao publish` / the published database {path} "
            "does not exist yet: run `jixiao publish` first"
        )
    return path


def connect_readonly(settings: Settings) -> duckdb.DuckDBPyConnection:
    """Open the published marts read-only (只读连接发布库)."""
    return duckdb_connect(settings, _require_published(settings), read_only=True)


def sqlalchemy_url(settings: Settings) -> str:
    """duckdb-engine URL of the published file, e.g. ``duckdb:////srv/jixiao/published/...``.

    Use it with ``connect_args={"read_only": True}`` (:data:`READONLY_CONNECT_ARGS`).
    """
    return f"duckdb:///{settings.published}"


def create_readonly_engine(settings: Settings) -> Engine:
    """SQLAlchemy engine on the published file, read-only, no pooling (只读 SQLAlchemy 引擎).

    ``NullPool``: every checkout opens the file anew, so a query after a publish sees the new
    version instead of a pooled connection's old snapshot.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    _require_published(settings)
    return create_engine(
        sqlalchemy_url(settings), connect_args=dict(READONLY_CONNECT_ARGS), poolclass=NullPool
    )
