"""Label lookups through the per-sheet index find what a plain scan of the sheet finds.

The layout readers look labels up through :func:`layouts.common.labelled_value` and
:func:`cells_starting_with`, which read a lazily built, normalised grid of the sheet and an
index by the labels' first characters;
:func:`find_columns` keeps per-spec tables of which fields a label can start. Both must give
exactly what the plain definitions give: every text cell normalised from ``sheet.rows`` on
the spot, scanned in reading order. The sheets are real ones (the demo inbox, every seed's
canonical workbooks and the variants that move labels about, a synthetic mix) and the labels
asked for are the vocabulary's and the texts of the sheets' own cells, cut to 1-4 characters
and whole, at every limit of rows the readers use and at random ones, in random order (the
grid is built as far as the asks reach, so the order of asks must not matter).
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from jixiao.ingest import vocabulary
from jixiao.ingest.layouts import common
from jixiao.ingest.layouts.common import (
    _label_hit,
    cells_starting_with,
    find_columns,
    label_key,
    labelled_value,
)
from jixiao.ingest.security import check_file
from jixiao.ingest.values import compact
from jixiao.ingest.workbook import Sheet, read_workbook
from jixiao.samples import variants as V
from jixiao.samples.demo import build_demo_inbox
from jixiao.samples.synth import generate

#: variants that move labels (beside the value, inline "项目名称：…", other words, no title)
MOVERS = ("info_beside", "inline_labels", "title_none", "department_需求单位", "blank_rows")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("label-index")
    paths = list(build_demo_inbox(root / "demo"))
    for seed in V.SEEDS:
        paths += V.render(V.make_doc(seed), root / seed / "canonical")
        for t in V.applicable(seed):
            if t.name in MOVERS:
                paths += V.render(V.make_doc(seed, [t.name]), root / seed / t.name)
    paths += generate(root / "synth", departments=2, projects_per_department=2, seed=3)
    return [(str(p.relative_to(root)), p) for p in paths if p.suffix in (".xlsx", ".xls")]


def _sheets(books: list[tuple[str, Path]]) -> list[tuple[str, Sheet]]:
    out = []
    for name, path in books:
        wb = read_workbook(path, report=check_file(path))
        out += [(f"{name}!{s.name}", s) for s in wb.sheets]
    return out


def _plain_cells(sheet: Sheet, max_rows: int | None) -> list[tuple[int, int, str, str]]:
    """The definition: every text cell of the rows above ``max_rows`` (0/None: all)."""
    rows = sheet.rows if not max_rows else sheet.rows[:max_rows]
    out = []
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, str) and v and (t := compact(v)):
                out.append((r, c, t, t.lower()))
    return out


def _plain_labelled_value(
    sheet: Sheet, labels: list[str], cells: list[tuple[int, int, str, str]]
) -> tuple[str, int, int] | None:
    """labelled_value by scanning every cell in reading order (no grid, no index)."""
    keys = list(dict.fromkeys(label_key(x) for x in labels))
    best = None
    for r, c, t, low in cells:
        if not low.startswith(tuple(keys)):
            continue
        found = _label_hit(sheet, r, c, t, keys)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
            if found[0] == 0:
                break
    return best[1] if best else None


def _plain_find_columns(row: list[Any], spec: dict[str, tuple[str, ...]]) -> dict[str, int]:
    cols: dict[str, int] = {}
    for c, v in enumerate(row):
        if not isinstance(v, str) or not v.strip():
            continue
        key = label_key(v)
        for field_name, prefixes in spec.items():
            if field_name not in cols and key.startswith(prefixes):
                cols[field_name] = c
                break
    return cols


def _label_sets(sheet: Sheet, rng: random.Random) -> list[list[str]]:
    sets = [list(v) for v in vocabulary.entry("labels").values()]
    sets += [["评价年度", "年度"], ["项目级次"], ["金额单位", "unit"]]
    texts = [t for _r, _c, t, _l in _plain_cells(sheet, None)]
    for t in rng.sample(texts, min(len(texts), 12)):
        sets.append([t[: rng.randint(1, 4)]])
        sets.append([t])
        sets.append([rng.choice(texts)[:2], t[:3], re.sub(r"[:：].*$", "", t)])
    return sets


def test_label_lookups_through_the_index_find_the_cells_a_plain_scan_finds(books) -> None:
    rng = random.Random(12)  # noqa: S311  # a fixed sample of labels, not a secret
    checked = found = 0
    for where, sheet in _sheets(books):
        limits = [None, 0, 4, 6, 8, 12, 80, *rng.sample(range(1, sheet.height + 2), 3)]
        rng.shuffle(limits)  # the grid grows as asked: any order of asks gives the same
        plain = {limit: _plain_cells(sheet, limit) for limit in limits}
        for labels in _label_sets(sheet, rng):
            for limit in rng.sample(limits, 3):
                want = _plain_labelled_value(sheet, labels, plain[limit])
                got = labelled_value(sheet, labels, limit)
                assert got == want, (where, labels, limit)
                prefixes = tuple(dict.fromkeys(label_key(x) for x in labels))
                cells = [(r, c, t) for r, c, t, _ in plain[limit] if t.startswith(prefixes)]
                assert cells_starting_with(sheet, prefixes, limit) == cells, (where, labels)
                checked += 1
                found += want is not None
        for limit in limits:
            assert common.text_cells(sheet, limit) == plain[limit], (where, limit)
    # the property is about real hits, not only agreeing on "nothing there"
    assert checked > 3000 and found > 500, (checked, found)


def test_find_columns_matches_the_plain_definition_on_every_row(books) -> None:
    from jixiao.ingest.layouts import evaluation_form, selfeval, subprojects

    specs = [
        selfeval.FUNDING_COLUMNS,
        selfeval.INDICATOR_COLUMNS,
        evaluation_form.SCORE_COLUMNS,
        evaluation_form.MILESTONE_COLUMNS,
        subprojects.COLUMNS,
    ]
    hits = 0
    for where, sheet in _sheets(books):
        for r, row in enumerate(sheet.rows[:80]):
            for spec in specs:
                want = _plain_find_columns(row, spec)
                assert find_columns(row, spec) == want, (where, r)
                hits += bool(want)
    # a spec changed in place is read afresh (its cached table is not reused)
    spec = {"a": ("项目",), "b": ("项目名称",)}
    row = ["项目名称", "项目"]
    assert find_columns(row, spec) == {"a": 0} == _plain_find_columns(row, spec)
    spec["a"] = ("x",)
    assert find_columns(row, spec) == {"b": 0} == _plain_find_columns(row, spec)
    assert hits > 100


def test_the_grid_of_a_sheet_is_built_only_as_far_as_asked() -> None:
    rows: list[list[Any]] = [["项目名称", "甲"], ["主管部门：乙局"]] + [["x"]] * 500
    sheet = Sheet("s", rows)
    assert labelled_value(sheet, ["主管部门"], 8) == ("乙局", 1, 0)
    assert sheet.cache["text_cells"].rows == 8  # the 500 rows below were never normalised
    assert labelled_value(sheet, ["项目名称"]) == ("甲", 0, 1)
    assert sheet.cache["text_cells"].rows == len(rows)


def test_merged_span_is_the_first_listed_range_holding_the_cell(books) -> None:
    rng = random.Random(5)  # noqa: S311  # a fixed sample of cells, not a secret
    merged_cells = 0
    for where, sheet in _sheets(books):
        cells = [(r, c) for r in range(sheet.height) for c in range(len(sheet.rows[r]) + 1)]
        for r, c in rng.sample(cells, min(len(cells), 400)):
            want = next(
                (m for m in sheet.merged if m[0][0] <= r <= m[1][0] and m[0][1] <= c <= m[1][1]),
                None,
            )
            assert common.merged_span(sheet, r, c) == want, (where, r, c)
            merged_cells += want is not None
    assert merged_cells > 200


def test_ledger_header_detection_skipping_unsignable_rows_finds_what_a_full_scan_finds(
    books,
) -> None:
    """Rows holding no alias of a signing column are skipped unmatched; every sheet's ledger
    header must still be what matching every row of its top finds."""
    from jixiao.ingest.layouts import ledger

    def plain(sheet: Sheet) -> tuple[str, int, dict[str, tuple[int, Any]]] | None:
        best = None
        for r, row in enumerate(sheet.rows[: ledger.HEADER_SCAN_ROWS]):
            if sum(1 for v in row if isinstance(v, str) and v.strip()) < 2:
                continue
            keys = [label_key(v) if isinstance(v, str) else "" for v in row]
            for kind, hits in ledger.match_header(row).items():
                signed = bool(ledger.SIGNATURES[kind] & hits.keys())
                if kind == "payments":
                    signed = (
                        bool({"payee", "voucher_no"} & hits.keys())
                        or (
                            "amount" in hits
                            and label_key(hits["amount"][1]) in ledger._AMOUNT_SIGNATURE
                        )
                        or (
                            "payment_date" in hits
                            and label_key(hits["payment_date"][1]) in ledger._PAYMENT_DATE_SIGNATURE
                        )
                    )
                if kind == "projects" and ledger._is_other_kind(row, keys):
                    signed = False
                if signed and len(hits) >= 2 and (best is None or len(hits) > best[0]):
                    best = (len(hits), kind, r, hits)
        return (best[1], best[2], best[3]) if best else None

    found = 0
    for where, sheet in _sheets(books):
        want = plain(sheet)
        assert ledger._detect(sheet) == want, where
        found += want is not None
    assert found > 20
