"""The rule tables, read from the seeds (规则即数据): the CSV files under ``seeds/`` that dbt
loads into the warehouse (``seed-paths: ["../seeds"]``), for the Python code that needs a rule
before or without a warehouse (the submission template, the report layouts).

Each helper returns what the seed holds, in its ``sort_order``; nothing here re-encodes a rule.
The ingest vocabulary (``ingest/vocabulary.yaml``) maps what people write to these codes and is
checked against the seeds by ``tests/unit/test_rules.py``.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from jixiao.config import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "seeds"


@cache
def seed(name: str, folder: Path = SEEDS_DIR) -> tuple[dict[str, str], ...]:
    """The rows of ``seeds/<name>.csv`` as read from the file (种子表), in file order."""
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(dict(row) for row in csv.DictReader(f))


def _sorted(rows: tuple[dict[str, str], ...]) -> list[dict[str, str]]:
    return sorted(rows, key=lambda r: int(r["sort_order"]))


def fund_sources(*, with_total: bool = True) -> tuple[tuple[str, str], ...]:
    """(code, Chinese name) of each fund source (资金来源), the total line first."""
    rows = _sorted(seed("fund_sources"))
    return tuple(
        (r["fund_source"], r["fund_source_zh"])
        for r in rows
        if with_total or r["fund_source"] != "total"
    )


def grades(band_set: str = "standard") -> tuple[str, ...]:
    """The grades (评价等级) of a grade band set, best first."""
    return tuple(
        r["grade"] for r in _sorted(seed("grade_bands")) if r["grade_band_set"] == band_set
    )


def categories() -> tuple[str, ...]:
    """The project categories (项目类别), in the seed's order."""
    return tuple(r["category"] for r in _sorted(seed("project_categories")))


def unit_factors() -> dict[str, int]:
    """Money unit -> yuan per unit (金额单位换算)."""
    return {r["unit"]: int(r["factor_to_yuan"]) for r in seed("unit_factors")}
