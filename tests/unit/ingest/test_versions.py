"""A workbook's own date signals (文件自身的日期信号): 填报日期 and docProps times."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from jixiao.ingest.versions import document_signals, filled_date, load_log_signals, parse_w3cdtf
from jixiao.ingest.workbook import Sheet

CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "{body}</cp:coreProperties>"
)


def _package(path: Path, core: str | None, extra: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        if core is not None:
            z.writestr("docProps/core.xml", core)
        for name, text in (extra or {}).items():
            z.writestr(name, text)
    return path


def _core(modified: str = "", created: str = "") -> str:
    body = ""
    if created:
        body += f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
    if modified:
        body += f'<dcterms:modified xsi:type="dcterms:W3CDTF">{modified}</dcterms:modified>'
    return CORE.format(body=body)


def test_modified_and_created_are_read_as_naive_utc(tmp_path: Path) -> None:
    core = _core(modified="2024-03-15T08:30:00Z", created="2024-03-01T10:00:00+08:00")
    path = _package(tmp_path / "a.xlsx", core)
    assert document_signals(path) == {
        "modified": dt.datetime(2024, 3, 15, 8, 30),
        "created": dt.datetime(2024, 3, 1, 2, 0),
    }


def test_a_real_openpyxl_workbook_gives_its_modified_time(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.properties.modified = dt.datetime(2023, 11, 2, 9, 15, 0)
    book.properties.created = dt.datetime(2023, 10, 1, 8, 0, 0)
    book.save(tmp_path / "b.xlsx")
    got = document_signals(tmp_path / "b.xlsx")
    assert got["created"] == dt.datetime(2023, 10, 1, 8, 0, 0)
    # openpyxl stamps "modified" with the save time unless told otherwise; either way a time
    assert isinstance(got["modified"], dt.datetime)


@pytest.mark.parametrize(
    "core",
    [
        None,  # no docProps/core.xml
        _core(),  # no times at all
        _core(modified="yesterday", created="2024-13-45T00:00:00Z"),  # garbage values
        _core(modified="1899-12-31T00:00:00Z"),  # a clock that was never set
        _core(modified="2999-01-01T00:00:00Z"),  # far future
        "<not xml",  # malformed part
        # an entity bomb: defusedxml refuses it, the signal is simply missing
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>',
    ],
)
def test_missing_or_garbage_properties_are_none(tmp_path: Path, core: str | None) -> None:
    path = _package(tmp_path / "c.xlsx", core)
    assert document_signals(path) == {"modified": None, "created": None}


def test_not_a_zip_and_missing_file_are_none(tmp_path: Path) -> None:
    legacy = tmp_path / "old.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    assert document_signals(legacy) == {"modified": None, "created": None}
    assert document_signals(tmp_path / "absent.xlsx") == {"modified": None, "created": None}


def test_an_oversized_core_part_is_not_read(tmp_path: Path) -> None:
    huge = _core(modified="2024-03-15T08:30:00Z") + " " * (2 << 20)
    path = _package(tmp_path / "d.xlsx", huge)
    assert document_signals(path)["modified"] is None


def test_parse_w3cdtf_forms() -> None:
    assert parse_w3cdtf("2024-03-15") == dt.datetime(2024, 3, 15)
    assert parse_w3cdtf("2024-03-15T08:30:00.5Z") == dt.datetime(2024, 3, 15, 8, 30, 0, 500000)
    assert parse_w3cdtf("  ") is None
    assert parse_w3cdtf(None) is None


def _sheet(rows: list[list[object]], name: str = "自评表") -> Sheet:
    return Sheet(name=name, rows=rows)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ([["填报日期", dt.datetime(2024, 3, 15, 0, 0)]], dt.date(2024, 3, 15)),
        ([["填表日期：2024年3月5日"]], dt.date(2024, 3, 5)),
        ([["填报单位（盖章）", "某局", "", "填报日期：", "2024-04-01"]], dt.date(2024, 4, 1)),
        ([["报送日期", 45383]], dt.date(2024, 4, 1)),  # an Excel serial number
        ([["填 报 日 期", "2024.4.2"]], dt.date(2024, 4, 2)),
        ([["填报日期：2024 年 4 月 3 日（盖章）"]], dt.date(2024, 4, 3)),
    ],
)
def test_filled_date_is_found_beside_or_inside_its_label(
    cells: list[list[object]], expected: dt.date
) -> None:
    rows: list[list[object]] = [["项目支出绩效自评表"], ["项目名称", "某项目"], *cells]
    assert filled_date([_sheet(rows)]) == expected


@pytest.mark.parametrize(
    "cells",
    [
        [["填报日期：    年  月  日"]],  # the blank template
        [["填报日期", ""]],
        [["填报日期", "2024年13月40日"]],  # not a date
        [["填报日期", dt.datetime(1899, 12, 31)]],  # Excel's zero date
        [["填报日期", "2999-01-01"]],  # far future
        [["支付日期", dt.datetime(2024, 3, 15)]],  # another date is not the filled date
    ],
)
def test_no_usable_filled_date_is_none(cells: list[list[object]]) -> None:
    assert filled_date([_sheet([["项目支出绩效自评表"], *cells])]) is None


def test_first_sheet_with_a_date_wins() -> None:
    sheets = [
        _sheet([["说明"], ["填报日期：    年  月  日"]], "封面"),
        _sheet([["填报日期", "2024-05-06"]], "自评表"),
        _sheet([["填报日期", "2024-06-07"]], "附表"),
    ]
    assert filled_date(sheets) == dt.date(2024, 5, 6)


def test_load_log_signals_fall_back_to_created(tmp_path: Path) -> None:
    path = _package(tmp_path / "e.xlsx", _core(created="2024-02-02T02:00:00Z"))
    sheets = [_sheet([["填报日期", "2024-02-03"]])]
    assert load_log_signals(path, sheets) == {
        "document_filled_on": dt.date(2024, 2, 3),
        "document_modified_at": dt.datetime(2024, 2, 2, 2, 0),
    }
    assert load_log_signals(tmp_path / "absent.xls", []) == {
        "document_filled_on": None,
        "document_modified_at": None,
    }


def test_every_filled_date_label_the_reader_sees_passes_the_prefilter() -> None:
    """filled_date skips sheets where no text cell matches the prefilter; every label, as
    written, full-width or upper-case, must match it."""
    from jixiao.ingest.layouts.common import labelled_value
    from jixiao.ingest.versions import FILLED_DATE_LABELS, _may_hold_date_label

    assert FILLED_DATE_LABELS
    for label in FILLED_DATE_LABELS:
        wide = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in label)
        spaced = " ".join(label)
        for written in (
            label,
            label.upper(),
            f"  {label}：2024年5月6日",
            wide,
            f"{label}:",
            f"*{label}",
            f"＊ {spaced}",
            f"\u200b{label}",
        ):
            sheet = _sheet([["自评表"], [written, "2024-05-06"]])
            if labelled_value(sheet, FILLED_DATE_LABELS) is not None:  # the label is seen:
                assert _may_hold_date_label(sheet), written  # the prefilter lets it through
        assert labelled_value(_sheet([[label, "2024-05-06"]]), FILLED_DATE_LABELS), label


def test_a_sheet_without_the_label_is_skipped_and_a_later_sheet_still_found() -> None:
    ledger = _sheet([["项目编码", "支付日期", "支付金额"], *[["P1", "2024-01-02", 10]] * 500])
    form = _sheet([["项目支出绩效自评表"], ["填报日期：2024年5月6日"]])
    assert filled_date([ledger, form]) == dt.date(2024, 5, 6)
    assert "text_cells" not in ledger.cache  # the ledger's grid was never normalised
