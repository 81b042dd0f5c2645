"""Fault isolation pieces (issue 11): decimal guard, merge checks, the catch-all in prepare."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from jixiao.ingest import prepare as prepare_mod
from jixiao.ingest.errors import FileRejected
from jixiao.ingest.layouts.common import Extracted
from jixiao.ingest.loader import _table_columns, ensure_raw_schema, printable_name
from jixiao.ingest.prepare import _to_prepared, decimal_fits, prepare_file, to_arrow
from jixiao.ingest.security import DEFAULT_LIMITS, Limits, check_file
from jixiao.ingest.workbook import _fill_merged, read_workbook

META = {"file_hash": "h" * 64, "file_name": "评分表.xlsx"}


@pytest.fixture(scope="module")
def columns() -> dict[str, list[tuple[str, str]]]:
    with duckdb.connect() as con:
        ensure_raw_schema(con)
        return _table_columns(con)


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        (Decimal("99999999999999.999999"), True),  # the widest DECIMAL(20,6) holds
        (Decimal("1E14"), False),  # the 1e14 score
        (1e14, False),
        (Decimal("-1E14"), False),
        (Decimal("NaN"), False),
        (Decimal("Infinity"), False),
        (float("nan"), False),
        (float("-inf"), False),
        (Decimal("1E+400"), False),  # too many digits to quantize: still no exception
        (Decimal("0.0000004"), True),  # rounds to 0.000000, as to_arrow stores it
        (None, True),
        ("12", False),  # a string in a DECIMAL column would be an ArrowInvalid
    ],
)
def test_decimal_fits_its_column(value: Any, fits: bool) -> None:
    assert decimal_fits(value, 20, 6) is fits


def test_a_nan_or_huge_score_becomes_a_rejected_row_not_an_exception(columns: Any) -> None:
    rows = [
        {"sheet_name": "评分表", "row_number": 5, "reported_score": Decimal("NaN")},
        {"sheet_name": "评分表", "row_number": 6, "reported_score": Decimal("1E14")},
        {"sheet_name": "评分表", "row_number": 7, "reported_score": Decimal("8.5")},
    ]
    # without the guard pyarrow refuses the column: this is what aborted the whole run
    with pytest.raises(Exception, match=r"NaN|Decimal|decimal|precision"):
        to_arrow([dict(r) for r in rows], columns["indicators"])
    ex = Extracted(layouts={"scoring_table"}, tables={"indicators": rows})
    prepared = _to_prepared(META, ex, columns)

    assert prepared.tables["indicators"].column("reported_score").to_pylist() == [Decimal("8.5")]
    rejected = prepared.tables["rejected_rows"].to_pylist()
    assert [(r["row_number"], r["reason_code"]) for r in rejected] == [
        (5, "value_out_of_range"),
        (6, "value_out_of_range"),
    ]
    first = rejected[0]
    assert "评分表" in first["message_zh"] and "NaN" in first["message_zh"]
    assert "10^14" in first["message_zh"] and "10^14" in first["message_en"]
    assert "reported_score" in first["message_en"] and first["raw_values"] == '["NaN"]'
    assert (prepared.rows_loaded, prepared.rows_rejected) == (1, 2)


def test_money_over_its_column_is_rejected_with_the_text_seen(columns: Any) -> None:
    rows = [
        {
            "sheet_name": "支付",
            "row_number": 3,
            "amount_yuan": Decimal("1E18"),
            "original_text": "100000000000000",
        }
    ]
    prepared = _to_prepared(META, Extracted(tables={"payments": rows}), columns)
    assert "payments" not in prepared.tables
    (rej,) = prepared.tables["rejected_rows"].to_pylist()
    assert rej["reason_code"] == "value_out_of_range"
    assert "100000000000000" in rej["message_zh"] and "10^16" in rej["message_zh"]


# ------------------------------------------------------------------ merges


def _with_merge(tmp: Path, ref: str, cells: dict[str, Any] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表"
    for k, v in (cells or {"A1": "项目", "B2": 1}).items():
        ws[k] = v
    path = tmp / "m.xlsx"
    wb.save(path)
    out = tmp / "merged.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                merge = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'
                data = data.replace(b"</sheetData>", b"</sheetData>" + merge.encode())
            zout.writestr(info, data)
    return out


def test_a_merge_over_the_cell_cap_is_absurd_dimensions(tmp_path: Path) -> None:
    path = _with_merge(tmp_path, "A1000:XFD1048576")
    with pytest.raises(FileRejected) as err:
        check_file(path)
    rej = err.value.rejection
    assert (rej.reason_code, rej.sheet, rej.cell) == ("absurd_dimensions", "表", "A1000:XFD1048576")
    assert "合并单元格 A1000:XFD1048576" in rej.message_zh and "unmerge" in rej.message_en


def test_a_merge_that_stretches_the_used_area_over_the_cap_is_refused(tmp_path: Path) -> None:
    # the range itself is small, but with the used area it spans 500 000 x 26 cells
    path = _with_merge(tmp_path, "Z499999:Z500000")
    with pytest.raises(FileRejected) as err:
        check_file(path, Limits(max_cells=10_000_000))
    assert err.value.reason_code == "absurd_dimensions"
    assert check_file(path, DEFAULT_LIMITS).fill_extent["表"] == (500_000, 26)


def test_a_small_merge_is_filled_and_the_fill_never_pads_beyond_the_checked_extent(
    tmp_path: Path,
) -> None:
    path = _with_merge(tmp_path, "A1:C3")
    report = check_file(path)
    assert report.fill_extent["表"] == (3, 3)
    rows = read_workbook(path, report=report).sheets[0].rows
    assert [r[:3] for r in rows[:3]] == [["项目"] * 3] * 3
    # the same merge with a smaller checked extent: the grid stays within it
    grid: list[list[Any]] = [["x", ""], ["", 1]]
    _fill_merged(grid, [((0, 0), (999_999, 16_383))], used=(2, 2))
    assert grid == [["x", "x"], ["x", "x"]]
    grid = [["x", ""], ["", 1]]
    _fill_merged(grid, [((5, 5), (9, 9))], used=(2, 2))  # wholly outside: untouched
    assert grid == [["x", ""], ["", 1]]


# ------------------------------------------------------------------ catch-all


def test_prepare_file_turns_any_exception_into_parse_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: Any
) -> None:
    path = _with_merge(tmp_path, "A1:B1")

    def boom(*_a: Any, **_k: Any) -> Any:
        raise KeyError("a reader bug")

    monkeypatch.setattr(prepare_mod, "extract", boom)
    prepared = prepare_file(path, META, DEFAULT_LIMITS, {}, columns)
    assert prepared.rejection is not None
    rej = prepared.rejection
    assert (rej.reason_code, rej.file) == ("parse_error", "评分表.xlsx")
    assert "KeyError" in rej.message_en and "KeyError" not in rej.message_zh
    assert "send the file to the data team" in rej.message_en.lower() and "数据组" in rej.message_zh


def test_prepare_file_turns_memory_error_into_resource_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: Any
) -> None:
    path = _with_merge(tmp_path, "A1:B1")

    def oom(*_a: Any, **_k: Any) -> Any:
        raise MemoryError

    monkeypatch.setattr(prepare_mod, "read_workbook", oom)
    limits = Limits(max_worker_memory=300 << 20)
    rej = prepare_file(path, META, limits, {}, columns).rejection
    assert rej is not None and rej.reason_code == "resource_limit"
    assert "300 MiB" in rej.message_zh and "300 MiB" in rej.message_en


def test_printable_name_replaces_undecodable_bytes() -> None:
    import os

    raw = "测试".encode("gbk") + b".xlsx"
    name = printable_name(os.fsdecode(raw))
    assert name.endswith(".xlsx") and "\ufffd" in name
    name.encode("utf-8")  # no surrogates left: DuckDB and JSON take it
