"""Weights as written: "20%" in a 权重(%) column is 20 points (权重)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.ingest.errors import CellError
from jixiao.ingest.values import parse_weight


@pytest.mark.parametrize(
    ("cell", "points"),
    [
        (20, Decimal(20)),
        ("20%", Decimal(20)),
        ("１２.５％", Decimal("12.5")),
        ("", None),
        (" 8 ", Decimal(8)),
    ],
)
def test_weights_read_as_points(cell, points) -> None:
    assert parse_weight(cell) == points


@pytest.mark.parametrize("cell", ["二十", "20%%", "%"])
def test_other_text_is_not_a_weight(cell) -> None:
    with pytest.raises(CellError):
        parse_weight(cell)
