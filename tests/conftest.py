"""Shared test fixtures: every test gets its own JIXIAO_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.config import Settings, get_settings


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fresh jixiao installation under a temporary folder."""
    home = tmp_path / "jixiao_home"
    monkeypatch.setenv("JIXIAO_HOME", str(home))
    return get_settings(home).ensure()
