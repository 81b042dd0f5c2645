"""Plausibility bounds as data (数值合理性阈值): ``plausibility.yaml`` beside this module.

Dates, fiscal years, scores, rates and amounts outside these bounds are refused by the value
parsers (:mod:`jixiao.ingest.values`) and the readers' guards
(:mod:`jixiao.ingest.layouts.guards`). The file is read once per process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock


@dataclass(frozen=True)
class Bounds:
    """Every bound of plausibility.yaml, typed (合理性阈值)."""

    date_min: dt.date
    date_max: dt.date
    year_min: int
    year_max: int
    score_min: Decimal
    score_max: Decimal
    rate_min: Decimal
    rate_max: Decimal
    max_cell_yuan: Decimal
    max_project_yuan: Decimal
    max_file_total_yuan: Decimal
    unit_ratio: Decimal
    year_ratio: Decimal


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def from_mapping(data: dict[str, Any]) -> Bounds:
    """Bounds from the parsed YAML mapping."""
    amounts = data["amounts"]
    return Bounds(
        date_min=_date(data["dates"]["min"]),
        date_max=_date(data["dates"]["max"]),
        year_min=int(data["fiscal_years"]["min"]),
        year_max=int(data["fiscal_years"]["max"]),
        score_min=_dec(data["scores"]["min"]),
        score_max=_dec(data["scores"]["max"]),
        rate_min=_dec(data["rates"]["min"]),
        rate_max=_dec(data["rates"]["max"]),
        max_cell_yuan=_dec(amounts["max_cell_yuan"]),
        max_project_yuan=_dec(amounts["max_project_yuan"]),
        max_file_total_yuan=_dec(amounts["max_file_total_yuan"]),
        unit_ratio=_dec(amounts["unit_ratio"]),
        year_ratio=_dec(amounts.get("year_ratio", 5000)),
    )


@cache
def bounds() -> Bounds:
    """The bounds of plausibility.yaml, parsed once per process."""
    text = resources.files("jixiao.ingest").joinpath("plausibility.yaml").read_text("utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return from_mapping(loaded)
