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


def test_year_in_shanghai_takes_plain_and_pendulum_datetimes() -> None:
    import datetime as dt

    import pendulum

    from jixiao.pipeline import year_in_shanghai

    # 2025-12-31 17:00 UTC is already 2026-01-01 01:00 in Shanghai
    plain = dt.datetime(2025, 12, 31, 17, 0, tzinfo=dt.UTC)
    assert year_in_shanghai(plain) == 2026
    assert year_in_shanghai(pendulum.instance(plain)) == 2026
    assert year_in_shanghai(dt.datetime(2025, 6, 1)) == 2025  # naive: taken as UTC
