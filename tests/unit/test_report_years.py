"""Which fiscal years a yearly-report run covers."""

from __future__ import annotations

from jixiao.pipeline import report_years


def test_explicit_year_wins() -> None:
    assert report_years(2023, [{"years_changed": [2021]}], 2026) == [2023]


def test_asset_triggered_run_covers_exactly_the_changed_years() -> None:
    extras = [{"years_changed": [2023, 2021]}, {"years_changed": [2023]}, {}]
    assert report_years(None, extras, 2026) == [2021, 2023]


def test_asset_triggered_run_with_nothing_changed_covers_no_year() -> None:
    assert report_years(None, [{"years_changed": []}], 2026) == []


def test_scheduled_run_covers_the_year_just_closed() -> None:
    assert report_years(None, None, 2026) == [2025]
