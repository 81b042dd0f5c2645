"""Exact money splitting for sample data (按分精确拆分金额).

All amounts are :class:`~decimal.Decimal`; nothing here touches floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
WAN = Decimal(10000)


def to_fen(amount: Decimal) -> int:
    """Yuan to an integer count of fen (元 -> 分); the amount must be whole fen."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of fen (金额精度小于分)")
    return int(fen)


def wan_to_yuan(amount_wan: Decimal) -> Decimal:
    """万元 -> 元, exact (万元换算为元)."""
    return (amount_wan * WAN).quantize(FEN)


def yuan_to_wan(amount_yuan: Decimal) -> Decimal:
    """元 -> 万元 (exact, up to 6 places) (元换算为万元)."""
    return amount_yuan / WAN


def split_fen(total: Decimal, weights: Sequence[int]) -> list[Decimal]:
    """Split ``total`` yuan into parts proportional to ``weights``, each whole fen, summing
    EXACTLY to ``total`` (largest-remainder method; deterministic) (按权重拆分到分).

    >>> split_fen(Decimal("1.00"), [1, 1, 1])
    [Decimal('0.34'), Decimal('0.33'), Decimal('0.33')]
    """
    if not weights or any(w <= 0 for w in weights):
        raise ValueError("weights must be positive and non-empty")
    fen = to_fen(total)
    wsum = sum(weights)
    base = [fen * w // wsum for w in weights]
    rema = [(fen * w % wsum, -i) for i, w in enumerate(weights)]
    short = fen - sum(base)
    for _, neg_i in sorted(rema, reverse=True)[:short]:
        base[-neg_i] += 1
    return [(Decimal(b) / 100).quantize(FEN) for b in base]


def rate(numerator: Decimal, denominator: Decimal, places: int = 4) -> Decimal:
    """A fraction rounded half-up to ``places`` decimals (比率)."""
    return (numerator / denominator).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
