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
