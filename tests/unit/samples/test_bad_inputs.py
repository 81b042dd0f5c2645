"""The hostile corpus: every case is registered sensibly and really has the defect it claims."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import threading
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from jixiao.ingest.errors import REASON_CODES
from jixiao.samples import bad_inputs as bi
from jixiao.samples.bad_inputs import CASES, Expect, write_corpus
from jixiao.samples.demo import build_demo_inbox


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "inbox")


def _zip_part(path: Path, pattern: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if re.fullmatch(pattern, n)]
        return b"".join(zf.read(n) for n in names)


def _subject(corpus: dict[str, list[Path]], name: str) -> Path:
    return corpus[name][-1]


# ------------------------------------------------------------------ the registry
def test_at_least_sixty_cases_with_known_codes() -> None:
    assert len(CASES) >= 60
    assert set(bi.EXPECTED_REASON) <= set(CASES)  # the 21 older classes are kept
    for case in CASES.values():
        e = case.expect
        assert case.zh and case.en, case.name
        if e.reason_code is not None:
            assert e.reason_code in REASON_CODES, case.name
        for code, n in e.rejected:
            assert code in REASON_CODES and n > 0, case.name
        if e.outcome != "quarantined":
            assert e.rows_loaded is not None and e.rows_loaded >= 0, case.name


def test_expect_refuses_inconsistent_outcomes() -> None:
    with pytest.raises(ValueError, match="unknown outcome"):
        Expect("maybe")
    with pytest.raises(ValueError, match="reason_code"):
        Expect("quarantined")
    with pytest.raises(ValueError, match="reason_code"):
        Expect("loaded", reason_code="empty_file")
    with pytest.raises(ValueError, match="rejected"):
        Expect("rows_rejected", rows_loaded=1)


def test_every_kind_of_issue_11_is_covered() -> None:
    codes = {c.expect.reason_code for c in CASES.values()} | {
        code for c in CASES.values() for code, _ in c.expect.rejected
    }
    for code in (
        "unreadable_file",
        "symlink",
        "empty_file",
        "csv_file",
        "xlsb",
        "ods",
        "implausible_amount",
        "value_out_of_range",
        "negative_amount",
        "date_out_of_range",
        "duplicate_code",
        "department_clash",
        "template_example",
        "absurd_dimensions",
        "encrypted",
        "unknown_unit",
    ):
        assert code in codes, code
    outcomes = {c.expect.outcome for c in CASES.values()}
    assert outcomes == set(bi.OUTCOMES)


def test_permissions_case_is_skipped_only_as_root() -> None:
    why = CASES["unreadable_chmod"].skip()
    assert (why is not None) == (os.geteuid() == 0)


# ------------------------------------------------------------------ the files
def test_every_case_writes_distinct_files(corpus: dict[str, list[Path]], tmp_path: Path) -> None:
    expected = {n for n, c in CASES.items() if c.skip() is None}
    assert set(corpus) == expected
    paths = [p for ps in corpus.values() for p in ps]
    assert len({os.fsencode(p.name) for p in paths}) == len(paths)
    assert all(os.path.lexists(p) for p in paths)
    demo = build_demo_inbox(tmp_path / "demo")
    regular = [p for p in paths + demo if stat.S_ISREG(os.lstat(p).st_mode)]
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in regular]
    # no two files are the same bytes (one would be a "duplicate", not its own case)
    assert len(set(digests)) == len(digests)


def test_file_kinds(corpus: dict[str, list[Path]]) -> None:
    assert _subject(corpus, "empty_file").stat().st_size == 0
    csv = _subject(corpus, "csv_gbk").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        csv.decode("utf-8")
    assert csv.decode("gbk").startswith("项目编码,")
    with zipfile.ZipFile(_subject(corpus, "xlsb")) as zf:
        assert "xl/workbook.bin" in zf.namelist() and "xl/workbook.xml" not in zf.namelist()
    with zipfile.ZipFile(_subject(corpus, "ods")) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    with zipfile.ZipFile(_subject(corpus, "docx_renamed")) as zf:
        assert "word/document.xml" in zf.namelist() and "xl/workbook.xml" not in zf.namelist()
    assert _subject(corpus, "password_encrypted").read_bytes()[:8] == bytes.fromhex(
        "D0CF11E0A1B11AE1"
    )
    ws = load_workbook(_subject(corpus, "sheet_protected"))["支付"]
    assert ws.protection.sheet and ws.protection.password


def test_file_system_cases(corpus: dict[str, list[Path]]) -> None:
    link = _subject(corpus, "symlink_in_inbox")
    assert link.is_symlink()
    target = link.resolve()
    assert link.parent not in target.parents and target.is_file()
    assert stat.S_ISFIFO(os.lstat(_subject(corpus, "fifo_in_inbox")).st_mode)
    raw = os.fsencode(_subject(corpus, "non_utf8_name").name)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "\u202e" in _subject(corpus, "rtl_override_file_name").name
    assert "\x07" in _subject(corpus, "bel_in_file_name").name


def test_size_bombs(corpus: dict[str, list[Path]]) -> None:
    merge = _subject(corpus, "merge_bomb")
    assert merge.stat().st_size < 8 * 1024
    assert b'<mergeCell ref="A1000:XFD1048576"/>' in _zip_part(merge, r"xl/worksheets/.*")
    dims = _zip_part(_subject(corpus, "declared_dimension_bomb"), r"xl/worksheets/.*")
    assert b'<dimension ref="A1:XFD1048576"' in dims
    rows = _zip_part(_subject(corpus, "formatted_empty_rows"), r"xl/worksheets/.*")
    assert rows.count(b'customFormat="1"') == bi.FORMATTED_EMPTY_ROWS
    with zipfile.ZipFile(_subject(corpus, "sheets_200")) as zf:
        assert len([n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]) == 200
    styles = _zip_part(_subject(corpus, "style_bomb"), r"xl/styles\.xml")
    assert styles.count(b"<xf ") >= bi.STYLE_COUNT
    with zipfile.ZipFile(_subject(corpus, "style_bomb")) as zf:
        info = zf.getinfo("xl/styles.xml")
        assert info.file_size > 100 * info.compress_size  # why it is a zip_bomb
    sst = _zip_part(_subject(corpus, "shared_strings_bomb"), r"xl/sharedStrings\.xml")
    assert sst.count(b"<si>") == bi.SHARED_STRINGS
    with zipfile.ZipFile(_subject(corpus, "shared_strings_bomb")) as zf:
        info = zf.getinfo("xl/sharedStrings.xml")
        assert info.file_size > 100 * info.compress_size  # over the 100:1 ratio cap
    cells = _zip_part(_subject(corpus, "long_cell_1mb"), r"xl/worksheets/.*").decode()
    assert max(len(t) for t in re.findall(r"<t>([^<]*)</t>", cells)) == bi.LONG_TEXT_CHARS
    with zipfile.ZipFile(_subject(corpus, "long_cell_1mb")) as zf:
        big = max(zf.infolist(), key=lambda i: i.file_size)
        assert big.file_size < 10 * big.compress_size  # long text, not a compression bomb


def test_broken_zips(corpus: dict[str, list[Path]]) -> None:
    assert not zipfile.is_zipfile(_subject(corpus, "zip_truncated_tail"))
    with zipfile.ZipFile(_subject(corpus, "zip_path_traversal")) as zf:
        assert any(n.startswith("../") for n in zf.namelist())


def test_cell_defects(corpus: dict[str, list[Path]]) -> None:
    sheets = r"xl/worksheets/.*"
    assert b"<v>NaN</v>" in _zip_part(_subject(corpus, "nan_score"), sheets)
    assert b"<v>inf</v>" in _zip_part(_subject(corpus, "inf_score"), sheets)
    assert b"<v>NaN</v>" in _zip_part(_subject(corpus, "amount_nan"), sheets)
    assert b"<v>100000000000000</v>" in _zip_part(_subject(corpus, "score_1e14"), sheets)
    assert b"<v>100000000000000</v>" in _zip_part(_subject(corpus, "amount_1e14"), sheets)
    div0 = _zip_part(_subject(corpus, "formula_error_div0"), sheets)
    assert b't="e"><f>1/0</f><v>#DIV/0!</v>' in div0
    cells = _zip_part(_subject(corpus, "hyperlink_control_cell"), sheets)
    assert b"<t>_x0001_=HYPERLINK(" in cells
    names = _zip_part(_subject(corpus, "nul_bel_project_name"), sheets)
    assert b"_x0000_" in names and b"_x0007_" in names and "\u202e".encode() in names
    wb = load_workbook(_subject(corpus, "hidden_sheet_data"))
    assert wb["支付（旧）"].sheet_state == "hidden" and wb["支付（旧）"].max_row > 1
    pay = load_workbook(_subject(corpus, "fullwidth_digits"))["支付"]
    assert pay["B2"].value == "２０２３" and str(pay["D2"].value).startswith("１")
    serial = load_workbook(_subject(corpus, "date_serial_60"))["支付"]["C3"]
    assert serial.value is not None and serial.number_format == "yyyy-mm-dd"
    b1 = load_workbook(_subject(corpus, "usd_caption_b1"))["支付"]
    assert b1["A1"].value is None and "美元" in b1["B1"].value


def test_semantic_cases(corpus: dict[str, list[Path]]) -> None:
    code = bi.case_code("duplicate_code")
    reg = load_workbook(_subject(corpus, "duplicate_code"))["项目登记"]
    assert [c.value for c in reg["A"]].count(code) == 2
    first, second = corpus["department_clash"]
    owner = load_workbook(first)["项目登记"]
    other = load_workbook(second)["项目登记"]
    assert owner["A2"].value == other["A2"].value and owner["D2"].value != other["D2"].value
    assert first.stat().st_mtime < second.stat().st_mtime
    budget = load_workbook(_subject(corpus, "yuan_under_wan_caption"))["预算"]
    amounts = [c.value for c in budget["E"] if isinstance(c.value, (int, float, Decimal))]
    assert amounts == [45.5, 455000] and "万元" in str(budget["A1"].value)
    from jixiao.ingest.template import SHEETS

    template = load_workbook(_subject(corpus, "template_example_rows"))
    assert bi.template_example_count() == len(SHEETS)
    assert set(SHEETS) <= set(template.sheetnames)
    pay = template["支付"]
    assert pay.cell(row=pay.max_row, column=1).value == bi.case_code("template_example_rows")
    neg = load_workbook(_subject(corpus, "negative_initial_budget"))["预算"]
    assert any(isinstance(c.value, (int, float)) and c.value < 0 for c in neg["E"])


def test_versions_are_ordered_by_their_own_signals(tmp_path: Path) -> None:
    newer = bi.older_resubmission_newer(tmp_path)[0]
    older = bi.older_resubmission_older(tmp_path)[0]
    assert older.stat().st_mtime < newer.stat().st_mtime
    core = {p: _zip_part(p, r"docProps/core\.xml") for p in (newer, older)}
    assert b"2024-03-15T10:00:00Z</dcterms:modified>" in core[newer]
    assert b"2024-01-10T10:00:00Z</dcterms:modified>" in core[older]
    assert load_workbook(newer)["支付"]["A1"].value == "填报日期：2024-03-15"
    assert load_workbook(older)["支付"]["A1"].value == "填报日期：2024-01-10"
    assert CASES["older_resubmission"].expect.spent_yuan == sum(bi.NEWER_AMOUNTS, Decimal(0))


def test_growing_file_never_completes_until_finished(tmp_path: Path) -> None:
    path = bi.still_growing(tmp_path)[0]
    full = bi.still_growing_bytes()
    start = path.stat().st_size
    assert start < len(full)
    stop = threading.Event()
    t = threading.Thread(target=bi.grow, args=(path, stop, 0.01), daemon=True)
    t.start()
    time.sleep(0.3)
    stop.set()
    t.join()
    grown = path.read_bytes()
    assert start < len(grown) < len(full) and full.startswith(grown)
    bi.finish_growing(path)
    assert path.read_bytes() == full
    assert path.stat().st_mtime < time.time() - 30


def test_existing_classes_keep_their_reasons() -> None:
    for name, reason in bi.EXPECTED_REASON.items():
        e = CASES[name].expect
        if reason is None:
            assert e.outcome == "rows_rejected"
        else:
            assert (e.outcome, e.reason_code) == ("quarantined", reason)


def test_zip_edit_replaces_exactly_once() -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("a.xml", b"<x>1</x><x>1</x>")
    with pytest.raises(ValueError, match="2 times"):
        bi._zip_edit(data.getvalue(), lambda n: True, b"<x>1</x>", b"<x>2</x>")
