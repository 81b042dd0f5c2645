"""The layout registry: best score wins, close calls are rejected, weak sheets ignored."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jixiao.ingest import layouts
from jixiao.ingest.errors import FileRejected
from jixiao.ingest.layouts.common import Evidence
from jixiao.ingest.workbook import Sheet, Workbook


def _fake(name: str, score: float | None) -> SimpleNamespace:
    def detect(sheet: Sheet) -> Evidence | None:
        return None if score is None else Evidence(name, score, (f"{name} saw it",))

    def read_sheet(sheet, file_name, out, context) -> None:
        out.layouts.add(name)
        out.add("projects", {"sheet_name": sheet.name, "row_number": 1, "by": name})

    return SimpleNamespace(LAYOUT=name, detect=detect, read_sheet=read_sheet)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch):
    def use(*fakes: SimpleNamespace) -> None:
        monkeypatch.setattr(layouts, "LAYOUTS", fakes)
        monkeypatch.setattr(layouts, "_BY_NAME", {f.LAYOUT: f for f in fakes})

    return use


def _book(*names: str) -> Workbook:
    return Workbook("w.xlsx", [Sheet(n, [["x", 1]]) for n in names])


def test_the_best_score_wins_whatever_the_order(registry) -> None:
    for order in ((0, 1, 2), (2, 1, 0)):
        fakes = [_fake("a", 0.45), _fake("b", 0.8), _fake("c", None)]
        registry(*(fakes[i] for i in order))
        out = layouts.extract(_book("s1"))
        assert out.layouts == {"b"}
        assert out.tables["projects"][0]["by"] == "b"
        (det,) = out.detections
        assert det["layout"] == "b" and det["score"] == 0.8
        assert det["runner_up"] == "a" and det["runner_up_score"] == 0.45
        assert det["reasons"] == ["b saw it"]


def test_two_close_scores_reject_the_file_naming_both(registry) -> None:
    registry(_fake("a", 0.62), _fake("b", 0.7))
    with pytest.raises(FileRejected) as caught:
        layouts.extract(_book("s1"))
    rej = caught.value.rejection
    assert rej.reason_code == "ambiguous_layout"
    assert "'a'" in rej.message_en and "'b'" in rej.message_en
    assert "s1" in rej.message_zh


def test_a_weak_runner_up_is_no_ambiguity(registry) -> None:
    registry(_fake("a", 0.25), _fake("b", 0.3))  # a is below the floor
    assert layouts.extract(_book("s1")).layouts == {"b"}


def test_weak_evidence_is_ignored_and_reported_with_what_came_closest(registry) -> None:
    registry(_fake("a", 0.2), _fake("b", None))
    with pytest.raises(FileRejected) as caught:
        layouts.extract(_book("s1"))
    assert caught.value.rejection.reason_code == "unknown_template"

    def by_name(sheet: Sheet) -> Evidence:
        return Evidence(
            "a",
            0.9 if sheet.name == "data" else 0.2,
            ("weak" if sheet.name != "data" else "strong",),
        )

    strong_or_weak = _fake("a", 0)
    strong_or_weak.detect = by_name
    registry(strong_or_weak)
    out = layouts.extract(_book("chart", "data"))
    assert [d["sheet"] for d in out.detections] == ["data"]
    (ignored,) = out.ignored
    assert ignored["sheet"] == "chart" and ignored["why"] == "unknown_layout"
    assert "a" in ignored["message_en"] and "0.20" in ignored["message_en"]


def test_instruction_cover_and_empty_sheets_are_reported_not_offered(registry) -> None:
    registry(_fake("b", 0.9))
    wb = Workbook(
        "w.xlsx",
        [
            Sheet("填报说明", [["请填写"]]),
            Sheet("封面", [["x"]]),
            Sheet("空", [[""]]),
            Sheet("d", [["x"]]),
        ],
    )
    out = layouts.extract(wb)
    assert [(i["sheet"], i["why"]) for i in out.ignored] == [
        ("填报说明", "instructions"),
        ("封面", "cover"),
        ("空", "empty"),
    ]
    assert [d["sheet"] for d in out.detections] == ["d"]


def test_a_row_key_that_is_not_a_column_of_its_table_is_an_error() -> None:
    from jixiao.ingest.prepare import _to_prepared

    out = layouts.Extracted()
    out.add("payments", {"sheet_name": "s", "row_number": 2, "amount_yuan_typo": 1})
    columns = {
        "payments": [
            ("sheet_name", "VARCHAR"),
            ("row_number", "INTEGER"),
            ("amount_yuan", "DECIMAL(18,2)"),
        ],
        "submissions": [],
        "rejected_rows": [],
    }
    with pytest.raises(KeyError, match="amount_yuan_typo"):
        _to_prepared({"file_hash": "h", "file_name": "f.xlsx"}, out, columns)


def test_a_row_that_loads_with_a_finding_counts_once() -> None:
    from jixiao.ingest.errors import CellError
    from jixiao.ingest.prepare import _to_prepared

    out = layouts.Extracted()
    sheet = Sheet("s", [["h"], ["x"], ["y"]])
    out.add("payments", {"sheet_name": "s", "row_number": 2})
    out.reject(sheet, 1, 0, CellError("reported_mismatch", "e", "z", "e"))  # the loaded row
    out.reject(sheet, 2, 0, CellError("unparseable_value", "e", "z", "e"))  # a rejected row
    text = ("file_hash", "file_name", "sheet_name", "submission_id")
    rejected = (*text, "cell_ref", "reason_code", "expected", "message_zh", "message_en")
    columns = {
        "payments": [*((c, "VARCHAR") for c in text), ("row_number", "INTEGER")],
        "submissions": [],
        "rejected_rows": [
            *((c, "VARCHAR") for c in (*rejected, "raw_values")),
            ("row_number", "INTEGER"),
        ],
    }
    prepared = _to_prepared({"file_hash": "h", "file_name": "f.xlsx"}, out, columns)
    assert (prepared.rows_loaded, prepared.rows_rejected) == (1, 1)
