"""Fixtures for the yearly report tests: one marts database, one build per session."""

from __future__ import annotations

import pytest
from tests.integration.reports.report_helpers import Built
from tests.integration.reports.report_marts_fixture import make_marts

from jixiao.config import get_settings
from jixiao.reports.yearly import build_reports


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("reports")
    db = make_marts(root / "jixiao.duckdb")
    settings = get_settings(root / "home").ensure()
    return Built(settings, db, build_reports(settings, 2023, source=db))
