"""Publishing names the fiscal years whose project marts changed (for the yearly reports)."""

from __future__ import annotations

import duckdb

from jixiao import pipeline
from jixiao.config import Settings

from .conftest import approve_marts


def _write_marts(settings: Settings, rows: list[tuple[str, int, str]]) -> None:
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.mart_project_year "
            "(project_key varchar, fiscal_year integer, spent_yuan decimal(18, 2))"
        )
        con.executemany("insert into marts.mart_project_year values (?, ?, ?)", rows)
    finally:
        con.close()
    approve_marts(settings)


def test_years_changed_between_publishes(settings: Settings) -> None:
    _write_marts(settings, [("A", 2022, "10.00"), ("A", 2023, "20.00"), ("B", 2023, "5.00")])
    first = pipeline.publish(settings, run_id="r1")
    assert first["years_changed"] == [2022, 2023]  # nothing was published before

    second = pipeline.publish(settings, run_id="r2")
    assert second["years_changed"] == []  # same data

    _write_marts(settings, [("A", 2022, "10.00"), ("A", 2023, "20.01"), ("B", 2023, "5.00")])
    third = pipeline.publish(settings, run_id="r3")
    assert third["years_changed"] == [2023]  # one fen changed in 2023

    _write_marts(settings, [("A", 2023, "20.01"), ("B", 2023, "5.00")])
    fourth = pipeline.publish(settings, run_id="r4")
    assert fourth["years_changed"] == [2022]  # 2022 disappeared


def test_the_publisher_names_the_years_it_changed(settings: Settings) -> None:
    """The publisher itself compares the version it replaces with the copy it stages."""
    from jixiao.publish import publisher

    _write_marts(settings, [("A", 2022, "10.00"), ("A", 2023, "20.00")])
    assert publisher.publish(settings, run_id="p1").years_changed == (2022, 2023)
    _write_marts(settings, [("A", 2022, "10.00"), ("A", 2023, "20.00"), ("C", 2024, "1.00")])
    result = publisher.publish(settings, run_id="p2")
    assert result.years_changed == (2024,)
    assert result.to_dict()["years_changed"] == [2024]


def test_an_unreadable_published_version_counts_every_year_as_changed(settings: Settings) -> None:
    """If the version being replaced cannot be read, reports are regenerated, not missed."""
    from jixiao.publish import publisher

    _write_marts(settings, [("A", 2022, "10.00"), ("A", 2023, "20.00")])
    publisher.publish(settings, run_id="u1")
    settings.published.write_bytes(b"not a duckdb file")
    assert publisher.publish(settings, run_id="u2").years_changed == (2022, 2023)
