"""The sample writers' forms (merged labels, as people format them) read back exactly."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from jixiao.config import Settings
from jixiao.ingest.loader import ingest_files
from jixiao.samples.forms import write_scoring_table
from jixiao.samples.seed002 import jiangmen_2023_scoring_table


def test_scoring_table_with_merged_money_labels_keeps_the_planned_budget(
    settings: Settings, query: Callable[..., list[tuple[Any, ...]]]
) -> None:
    """预算计划安排 sits in a merged label cell; its 9150 万元 is the final budget line."""
    path = write_scoring_table(settings.inbox / "jm2023.xlsx", [jiangmen_2023_scoring_table()])
    summary = ingest_files(settings, [path])
    assert summary.to_dict()["files_loaded"] == 1
    lines = dict(
        query(
            "select line_type, sum(amount_yuan) from raw.budget_lines "
            "where fiscal_year = 2023 group by line_type"
        )
    )
    assert lines["final"] == Decimal("91500000.00")
    assert lines["allocated"] == Decimal("91500000.00")
    assert lines["executed"] == Decimal("90441400.00")  # 8967.19 + 76.95 万元


def test_pool_rule_in_the_level2_column_is_not_a_level2_weight(
    settings: Settings, query: Callable[..., list[tuple[Any, ...]]]
) -> None:
    """Seed 002 writes "各项指标权重=40/指标总数" in 二级 and 三级 weight cells of 产出: the 40 is
    the 一级 pool for all 17 产出 indicators (40/17 each), so no 二级 weight may be read as 40."""
    path = write_scoring_table(settings.inbox / "jm2023.xlsx", [jiangmen_2023_scoring_table()])
    ingest_files(settings, [path])
    rows = query(
        "select level2_name, level2_weight, weight, weight_rule_text from raw.indicators "
        "where level1_name = '产出'"
    )
    assert len(rows) == 17
    assert {r[1] for r in rows} == {None}
    assert {r[2] for r in rows} == {None}
    assert all(r[3] == "各项指标权重=40/指标总数" for r in rows)
