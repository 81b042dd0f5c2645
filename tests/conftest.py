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
    publish), built once for the session (已发布的演示数据). For tests that only read what it
    published: the published file's comments (test_published_docs) and the Superset dashboard
    over it (test_superset_dashboard)."""
    from jixiao import pipeline
    from jixiao.samples.demo import build_demo_inbox

    s = get_settings(tmp_path_factory.mktemp("published_demo") / "home").ensure()
    build_demo_inbox(s.inbox)
    paths = pipeline.discover(s)
    pipeline.ingest(paths, s, "demo-night")
    pipeline.plan_night(s, "demo-night", discovered=len(paths))
    pipeline.gate_raw(s, "demo-night")
    pipeline.dbt_build(s, "demo-night")
    pipeline.gate_marts(s, "demo-night")
    pipeline.publish(s, "demo-night")
    assert s.published.exists()
    return s
