"""The layout-variant generator itself: every transformation changes the workbook, and the
generator's own writers lay out the canonical content exactly like the canonical writers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from jixiao.samples import variants as V

Fingerprint = tuple[Any, ...]


def fingerprint(paths: list[Path]) -> Fingerprint:
    """Everything a reader could see: sheets, states, cell values, number formats, merges."""
    books: list[tuple[Any, ...]] = []
    for path in paths:
        if path.suffix == ".xls":  # BIFF8: a different file format is a different workbook
            books.append((("xls", path.read_bytes()[:8]), ()))
            continue
        wb = openpyxl.load_workbook(path)
        sheets = []
        for ws in wb.worksheets:
            cells = tuple(
                (
                    c.coordinate,
                    c.value,
                    c.number_format if isinstance(c.value, (int, float)) else "",
                )
                for row in ws.iter_rows()
                for c in row
                if c.value is not None
            )
            merges = tuple(sorted(str(m) for m in ws.merged_cells.ranges))
            sheets.append((ws.title, ws.sheet_state, cells, merges))
        charts = tuple(cs.title for cs in wb.chartsheets)
        books.append((tuple(sheets), charts))
    return tuple(books)


def _render(tmp_path: Path, seed: str, names: tuple[str, ...], tag: str) -> list[Path]:
    return V.render(V.make_doc(seed, names), tmp_path / tag)


# Jiangmen (000) is the big one; its transformations are the ledger ones Dongguan also takes.
FAST_SEEDS = ("001", "002", "003", "004")


@pytest.mark.parametrize("seed", V.SEEDS)
def test_the_generator_writes_the_canonical_layout(seed: str, tmp_path: Path) -> None:
    """With no transformation the generator's writers reproduce the canonical workbook."""
    canonical = V.write_canonical(seed, tmp_path / "canonical")
    mine = _render(tmp_path, seed, (), "mine")
    assert fingerprint(mine) == fingerprint(canonical)


@pytest.mark.parametrize(
    ("seed", "name"),
    [(s, t.name) for s in FAST_SEEDS for t in V.applicable(s)],
)
def test_every_transformation_changes_the_workbook(seed: str, name: str, tmp_path: Path) -> None:
    base = fingerprint(_render(tmp_path, seed, (), "base"))
    assert fingerprint(_render(tmp_path, seed, (name,), "variant")) != base


def test_every_seed_has_at_least_twelve_transformations() -> None:
    for seed in V.SEEDS:
        assert len(V.applicable(seed)) >= 12


@pytest.mark.parametrize("seed", FAST_SEEDS)
def test_unit_swap_is_exact_and_reversible(seed: str) -> None:
    """元 <-> 万元 twice gives back the same amounts (Decimal, never floats)."""
    doc = V.make_doc(seed)
    V.BY_NAME["units_swapped"].apply(doc)
    V.BY_NAME["units_swapped"].apply(doc)
    again = V.canonical_content(seed)
    if seed == "001":  # the header "金额(元)" now names its unit through the {unit} suffix
        # text amounts keep their value, not their trailing zeros ("1,234.50" -> "1,234.5")
        def amounts(ledger: Any) -> list[Any]:
            return [V._as_decimal(r.get("amount")) for s in ledger.sheets for r in s.rows]

        assert amounts(doc.ledger) == amounts(again)
        assert [s.unit for s in doc.ledger.sheets] == [s.unit for s in again.sheets]
    else:
        assert doc.content == again


def test_unit_swap_converts_yuan_to_wan_exactly() -> None:
    doc = V.make_doc("004", ("units_swapped",))
    total = doc.forms[0].funding[0]
    assert doc.forms[0].unit == "万元"
    assert (total.initial, total.final, total.executed) == (
        Decimal(3),
        Decimal("2.7"),
        Decimal("2.2516"),
    )
    ledger = V.make_doc("001", ("units_swapped",)).ledger
    payments = next(s for s in ledger.sheets if s.kind == "payments")
    assert payments.unit == "万元" and payments.headers["amount"] == "金额{unit}"


def test_renderings_keep_the_value() -> None:
    assert V._thousands(Decimal("1234567.8")) == "1,234,567.8"
    assert V._fullwidth_cell(Decimal("98.34")) == "９８．３４"
    assert V._typed_percent("81.48%") == V.Formatted(Decimal("0.8148"), "0.00%")
    assert V._percent_text(Decimal("0.8339")) == "83.39%"
    assert V._with_unit(Decimal("27.5"), "万元") == "27.5万元"


def test_combinations_are_checked() -> None:
    with pytest.raises(ValueError, match="group"):
        V.make_doc("003", ("title_short", "title_none"))
    with pytest.raises(ValueError, match="does not apply"):
        V.make_doc("003", ("repeated_header",))


def test_legacy_xls_is_a_genuine_biff8_file(tmp_path: Path) -> None:
    [path] = _render(tmp_path, "003", ("legacy_xls",), "xls")
    assert path.suffix == ".xls"
    assert path.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # OLE2 compound file


def test_split_variants_write_several_workbooks(tmp_path: Path) -> None:
    assert len(_render(tmp_path, "004", ("workbook_per_table",), "xf")) == 3
    assert len(_render(tmp_path, "001", ("workbook_per_table",), "dg")) == 5
    wb = openpyxl.load_workbook(_render(tmp_path, "001", ("sheet_per_year",), "years")[0])
    assert {"2019年支付明细", "2020年支付明细", "2021年支付明细", "2021年产出时效"} <= set(
        wb.sheetnames
    )
