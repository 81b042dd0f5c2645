"""Scores as published (已发布得分): every publish keeps a snapshot of each project-year's scores.

A correction that supersedes a submission changes the marts; the score that was published
(and may be in a signed report) stays in ``marts._published_scores`` with the publish's run id
and time, beside the corrected one, in the published file and its Parquet export.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao.config import Settings
from jixiao.publish.publisher import (
    INFO_TABLE,
    SCORES_TABLE,
    PublishError,
    connect_readonly,
    current,
    publish,
    rollback,
)

from .conftest import approve_marts

#: seed 001's third-party total before a correction, and a corrected total (made up)
SCORES_V1 = {("DG-SZZF-2019", 2021): ("77.20", "中"), ("XF-2023-02", 2023): ("100.00", "优")}
SCORES_V2 = {("DG-SZZF-2019", 2021): ("81.00", "良"), ("XF-2023-02", 2023): ("100.00", "优")}


def _warehouse(settings: Settings, scores: dict[tuple[str, int], tuple[str, str]]) -> None:
    settings.ensure()
    settings.warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema marts")
        con.execute(
            "create table marts.mart_project_year (project_key varchar, fiscal_year integer, "
            "project_name varchar, department_name varchar, recomputed_score decimal(20,2), "
            "reported_score decimal(20,2), grade varchar, grade_basis varchar, "
            "execution_rate decimal(12,6))"
        )
        for (key, year), (score, grade) in scores.items():
            con.execute(
                "insert into marts.mart_project_year values (?, ?, ?, '部门', ?, 100, ?, "
                "'recomputed', 0.583737)",
                [key, year, f"项目 {key}", Decimal(score), grade],
            )
    finally:
        con.close()
    approve_marts(settings)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _published_scores(settings: Settings) -> list[dict[str, Any]]:
    con = connect_readonly(settings)
    try:
        return _rows(
            con,
            f"select * from marts.{SCORES_TABLE} order by published_at, project_key",
        )
    finally:
        con.close()


def test_each_publish_keeps_the_scores_it_published(settings: Settings) -> None:
    _warehouse(settings, SCORES_V1)
    first = publish(settings, run_id="run-1")
    _warehouse(settings, SCORES_V2)  # a resubmission corrects DG's score
    second = publish(settings, run_id="run-2")

    history = _published_scores(settings)
    assert len(history) == len(SCORES_V1) + len(SCORES_V2)
    by_run = {(r["publish_run_id"], r["project_key"], r["fiscal_year"]): r for r in history}
    for run, scores, result in (("run-1", SCORES_V1, first), ("run-2", SCORES_V2, second)):
        for (key, year), (score, grade) in scores.items():
            row = by_run[(run, key, year)]
            assert row["recomputed_score"] == Decimal(score) and row["grade"] == grade
            assert row["published_at"] == result.published_at.replace(tzinfo=None)
            assert row["marts_fingerprint"] == result.marts_fingerprint
            assert row["execution_rate"] == Decimal("0.583737")
            assert row["evaluator_score"] is None  # a column this mart lacks stays null
    # what the correction changed, as an analyst would ask it
    con = connect_readonly(settings)
    try:
        changed = con.execute(
            f"select a.project_key, a.recomputed_score, b.recomputed_score, a.grade, b.grade "
            f"from marts.{SCORES_TABLE} a join marts.{SCORES_TABLE} b using (project_key, "
            "fiscal_year) where a.publish_run_id = 'run-1' and b.publish_run_id = 'run-2' "
            "and a.recomputed_score <> b.recomputed_score"
        ).fetchall()
        run_ids = con.execute(f"select distinct run_id from marts.{INFO_TABLE}").fetchall()
    finally:
        con.close()
    assert changed == [("DG-SZZF-2019", Decimal("77.20"), Decimal("81.00"), "中", "良")]
    assert run_ids == [("run-2",)] and current(settings).run_id == "run-2"
    # the Parquet export carries the same history
    root = Path(settings.published_dir / "parquet" / SCORES_TABLE).resolve()
    con = duckdb.connect()
    try:
        count = con.execute(
            f"select count(*) from read_parquet('{root}/**/*.parquet', hive_partitioning = false)"
        ).fetchone()
    finally:
        con.close()
    assert count is not None and count[0] == len(history)


def test_unreadable_history_refuses_and_keeps_the_published_version(settings: Settings) -> None:
    _warehouse(settings, SCORES_V1)
    publish(settings, run_id="run-1")
    root = (settings.published_dir / "parquet" / SCORES_TABLE).resolve()
    victim = next(root.rglob("*.parquet"))
    victim.chmod(0o644)
    victim.write_bytes(b"not a parquet file")
    _warehouse(settings, SCORES_V2)
    with pytest.raises(PublishError) as caught:
        publish(settings, run_id="run-2")
    message = str(caught.value)
    assert "读取历次已发布得分" in message and "could not read the scores" in message
    assert current(settings).run_id == "run-1"


def test_a_rolled_back_publish_stays_in_the_history(settings: Settings) -> None:
    """run-2 is rolled back; what it published may be in a report, so run-3 still lists it."""
    _warehouse(settings, SCORES_V1)
    publish(settings, run_id="run-1")
    _warehouse(settings, SCORES_V2)
    publish(settings, run_id="run-2")
    rollback(settings)
    assert current(settings).run_id == "run-1"
    assert {r["publish_run_id"] for r in _published_scores(settings)} == {"run-1"}
    publish(settings, run_id="run-3")
    history = _published_scores(settings)
    assert sorted({r["publish_run_id"] for r in history}) == ["run-1", "run-2", "run-3"]
    assert len(history) == 3 * len(SCORES_V1)  # each publish once, none duplicated
