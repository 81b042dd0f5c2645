"""Shared test fixtures: every test gets its own JIXIAO_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jixiao.config import Settings, get_settings

# The suite writes each workbook a moment before loading it: a 0.1 s settle time instead of the
# nightly's 2 s (the stability rule itself is tested with explicit Limits in
# tests/integration/ingest/test_isolation_faults.py). Set before jixiao.ingest is imported.
os.environ.setdefault("JIXIAO_STABLE_SECONDS", "0.1")


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fresh jixiao installation under a temporary folder."""
    home = tmp_path / "jixiao_home"
    monkeypatch.setenv("JIXIAO_HOME", str(home))
    return get_settings(home).ensure()


@pytest.fixture(scope="session")
def published_demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The demo workbooks through one real night (ingest, raw gate, dbt build, marts gate,
    publish: :func:`jixiao.warehouse.checksums.build_demo`), built once for the session
    (已发布的演示数据). For tests that only read what it published or built: the published
    file's comments (test_published_docs), the Superset dashboard over it
    (test_superset_dashboard) and the demo's mart checksums (test_mart_checksums)."""
    from jixiao.warehouse.checksums import build_demo

    s = build_demo(tmp_path_factory.mktemp("published_demo") / "home")
    assert s.published.exists()
    return s


@pytest.fixture(scope="session")
def variants_built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Every layout variant of :func:`jixiao.warehouse.checksums.variant_corpus` in one
    warehouse (版式变体语料): one ingest, the raw gate, one dbt build, once for the session.
    For the variant mart checksums (test_mart_checksums) and the same corpus on PostgreSQL
    (tests/e2e/test_postgres_warehouse.py), which copies its raw tables."""
    from jixiao.warehouse.checksums import build_variant_corpus

    return build_variant_corpus(tmp_path_factory.mktemp("variant_corpus") / "home")
