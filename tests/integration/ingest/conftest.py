"""Fixtures for the ingest integration tests: a private JIXIAO_HOME per test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from jixiao.config import Settings


@pytest.fixture
def query(settings: Settings) -> Callable[..., list[tuple[Any, ...]]]:
    """Run a read-only query against the test warehouse."""

    def run(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    return run
