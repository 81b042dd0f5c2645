"""BI-style readers: SQLAlchemy + duckdb-engine with read_only, as Superset connects (只读读者)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa

from jixiao.config import Settings
from jixiao.publish.publisher import (
    READONLY_CONNECT_ARGS,
    create_readonly_engine,
    publish,
    sqlalchemy_url,
)
from jixiao.publish.readers import NotPublished, connect_readonly

MakeMarts = Callable[..., Settings]


def test_superset_style_engine_reads_the_published_marts(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    publish(settings, run_id="run-1")

    url = sqlalchemy_url(settings)
    assert url == f"duckdb:///{settings.published}"
    # exactly what a Superset admin types: the URI plus {"connect_args": {"read_only": true}}
    engine = sa.create_engine(url, connect_args=READONLY_CONNECT_ARGS)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names(schema="marts")
            assert {"fct_budget", "mart_project_year", "_publish_info"} <= set(names)
            total = conn.execute(sa.text("select sum(final_yuan) from marts.fct_budget")).scalar()
            assert isinstance(total, Decimal)
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                conn.execute(sa.text("create table marts.x (a integer)"))
    finally:
        engine.dispose()


def test_new_connection_after_publish_sees_new_version(make_marts: MakeMarts) -> None:
    settings = make_marts("run-1", 3)
    publish(settings, run_id="run-1")
    engine = create_readonly_engine(settings)  # NullPool: every checkout reopens the file
    try:
        with engine.connect() as conn:
            q = sa.text("select distinct run_id from marts._publish_info")
            assert conn.execute(q).scalar() == "run-1"
        make_marts("run-2", 4)
        publish(settings, run_id="run-2")
        with engine.connect() as conn:
            assert conn.execute(q).scalar() == "run-2"
            assert conn.execute(sa.text("select count(*) from marts.fct_budget")).scalar() == 8
    finally:
        engine.dispose()


def test_readers_before_first_publish_get_a_clear_error(settings: Settings) -> None:
    with pytest.raises(NotPublished, match=r"不存在.*does not exist"):
        connect_readonly(settings)
    with pytest.raises(NotPublished):
        create_readonly_engine(settings)
