"""The pre-parse package scan (解析前压缩包预检): prolog-only DTD check, extents, formulas.

The scan reads each XML part's prolog for a DTD and streams worksheets for their largest
reference; these tests pin the cases a faster scan could get wrong.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from jixiao.ingest.errors import FileRejected
from jixiao.ingest.security import Limits, check_file

SHEET = "xl/worksheets/sheet1.xml"


def _base(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "支付"
    ws.append(["项目编码", "支付金额（元）", "收款单位"])
    ws.append(["P1", 10, "甲"])
    wb.save(path)
    return path


def _rewrite(src: Path, dst: Path, part: str, edit, add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info.filename, edit(data) if info.filename == part else data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def _body(data: bytes) -> bytes:
    return data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data


def _reason(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(FileRejected) as err:
        check_file(path, limits or Limits())
    assert err.value.rejection.message_zh and err.value.rejection.message_en
    return err.value.reason_code


def test_clean_workbook_passes_with_its_extent(tmp_path: Path):
    report = check_file(_base(tmp_path / "ok.xlsx"))
    assert report.dimensions == {"支付": (2, 3)}
    assert report.sheet_paths == {"支付": SHEET}


@pytest.mark.parametrize(
    "prolog",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>',
        # a comment holding something that looks like a start tag must not end the prolog
        b'<?xml version="1.0"?><!-- <worksheet> --><!DOCTYPE x [<!ENTITY a "b">]>',
        b'\xef\xbb\xbf<?xml version="1.0"?>\n  <!doctype x SYSTEM "file:///etc/passwd">',
        b'<?xml version="1.0"?><?pi x?><!ENTITY a "b">',
    ],
)
def test_dtd_in_prolog_is_refused(tmp_path: Path, prolog: bytes):
    bad = _rewrite(
        _base(tmp_path / "a.xlsx"), tmp_path / "b.xlsx", SHEET, lambda d: prolog + _body(d)
    )
    assert _reason(bad) == "xml_dtd"


def test_dtd_in_any_part_is_refused_whatever_its_name(tmp_path: Path):
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><sst/>'
    bad = _rewrite(
        _base(tmp_path / "a.xlsx"),
        tmp_path / "b.xlsx",
        "",
        lambda d: d,
        add={"xl/strings.dat": bomb},
    )
    assert _reason(bad) == "xml_dtd"


def test_dtd_in_utf16_part_is_refused(tmp_path: Path):
    bomb = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><sst/>'
    bad = _rewrite(
        _base(tmp_path / "a.xlsx"),
        tmp_path / "b.xlsx",
        "",
        lambda d: d,
        add={"xl/sharedStrings2.xml": bomb.encode("utf-16")},
    )
    assert _reason(bad) == "xml_dtd"


def test_entity_text_after_the_root_is_not_a_dtd(tmp_path: Path):
    """'<!DOCTYPE' inside cell text (escaped in XML) is data, not a declaration."""
    wb = openpyxl.Workbook()
    wb.active.append(["项目编码", "摘要"])
    wb.active.append(["P1", "<!DOCTYPE x> <!ENTITY y>"])
    path = tmp_path / "ok.xlsx"
    wb.save(path)
    assert check_file(path).dimensions


@pytest.mark.parametrize(
    "ref",
    [b'r="XFD1048576"', b"r='XFD1048576'", b'r = "XFD1048576"', b"r=\n'ZZZ999999'"],
)
def test_far_cell_reference_in_any_quoting_is_absurd(tmp_path: Path, ref: bytes):
    cell = b"<c " + ref + b' t="n"><v>1</v></c>'
    bad = _rewrite(
        _base(tmp_path / "a.xlsx"),
        tmp_path / "b.xlsx",
        SHEET,
        lambda d: d.replace(
            b"</row></sheetData>", b"</row><row r='3'>" + cell + b"</row></sheetData>"
        ),
    )
    assert _reason(bad) == "absurd_dimensions"


def test_far_row_or_lying_dimension_is_absurd(tmp_path: Path):
    far_row = _rewrite(
        _base(tmp_path / "a.xlsx"),
        tmp_path / "row.xlsx",
        SHEET,
        lambda d: d.replace(
            b"</sheetData>", b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>'
        ),
    )
    assert _reason(far_row, Limits(max_cells=1_000_000)) == "absurd_dimensions"
    dim = _rewrite(
        _base(tmp_path / "a2.xlsx"),
        tmp_path / "dim.xlsx",
        SHEET,
        lambda d: d.replace(b'<dimension ref="A1:C2"', b'<dimension ref="A1:XFD1048576"'),
    )
    assert _reason(dim) == "absurd_dimensions"


def test_utf16_worksheet_is_refused(tmp_path: Path):
    def to_utf16(data: bytes) -> bytes:
        text = data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        return text.encode("utf-16")

    bad = _rewrite(_base(tmp_path / "a.xlsx"), tmp_path / "b.xlsx", SHEET, to_utf16)
    assert _reason(bad) == "unreadable"


def test_formula_without_cache_found_in_a_namespaced_sheet(tmp_path: Path):
    def prefixed(data: bytes) -> bytes:
        return data.replace(b"<v>10</v>", b"<x:f>1+1</x:f>").replace(
            b"<worksheet ",
            b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
        )

    bad = _rewrite(_base(tmp_path / "a.xlsx"), tmp_path / "b.xlsx", SHEET, prefixed)
    assert b"<x:f>" in zipfile.ZipFile(bad).read(SHEET)
    assert _reason(bad) == "formula_no_cached_value"


# ------------------------------------------------------------------ the fast reference scan
# The scan seeds its maximum from each window's first and last 16 KiB and then looks only for
# references beyond it (security._refs_above): a far reference in the middle of a large sheet,
# away from both ends, must still be found, in any quoting, by column or by row.
def _big(path: Path, rows: int = 3000) -> Path:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("支付")
    ws.append(["项目编码", "支付金额（元）", "收款单位"])
    for i in range(rows):
        ws.append([f"P{i}", i, "甲乙丙丁戊己庚辛"])
    wb.save(path)
    return path


def _middle(data: bytes, insert: bytes) -> bytes:
    at = data.index(b"<row ", len(data) // 2)
    return data[:at] + insert + data[at:]


@pytest.mark.parametrize(
    "row",
    [
        b'<row r="1500"><c r="XFD1500" t="n"><v>1</v></c></row>',  # far column
        b"<row r='1500'><c r = 'A1048576' t='n'><v>1</v></c></row>",  # far row, odd quoting
        b'<row r="1048576"><c t="n"><v>1</v></c></row>',  # a far row with no cell reference
        b'<row r="1500"><c r="A0001048576" t="n"><v>1</v></c></row>',  # leading zeros
    ],
)
def test_a_far_reference_in_the_middle_of_a_large_sheet_is_absurd(tmp_path: Path, row: bytes):
    src = _big(tmp_path / "a.xlsx")
    data = zipfile.ZipFile(src).read(SHEET)
    assert len(data) > 200_000  # far beyond the 16 KiB seeds at both ends
    bad = _rewrite(src, tmp_path / "b.xlsx", SHEET, lambda d: _middle(d, row))
    assert _reason(bad, Limits(max_cells=1_000_000)) == "absurd_dimensions"


def test_a_large_sheets_extent_is_exact_when_a_middle_row_is_the_widest(tmp_path: Path):
    src = _big(tmp_path / "a.xlsx")
    wide = b'<row r="1500"><c r="Q1500" t="n"><v>1</v></c></row>'
    path = _rewrite(src, tmp_path / "b.xlsx", SHEET, lambda d: _middle(d, wide))
    assert check_file(path).dimensions == {"支付": (3001, 17)}
    assert check_file(src).dimensions == {"支付": (3001, 3)}


def test_a_merge_or_formula_in_the_middle_of_a_large_sheet_is_seen(tmp_path: Path):
    src = _big(tmp_path / "a.xlsx")
    merge = b'<mergeCells count="1"><mergeCell ref="A1000:XFD1048576"/></mergeCells>'
    merged = _rewrite(
        src,
        tmp_path / "m.xlsx",
        SHEET,
        lambda d: d.replace(b"</sheetData>", b"</sheetData>" + merge),
    )
    assert _reason(merged) == "absurd_dimensions"
    formula = b'<row r="1500"><c r="B1500"><f>1+1</f></c></row>'
    bad = _rewrite(src, tmp_path / "f.xlsx", SHEET, lambda d: _middle(d, formula))
    assert _reason(bad) == "formula_no_cached_value"


def test_refs_above_finds_every_reference_beyond_the_maximum() -> None:
    """The fast scan equals a findall of every reference, on hostile windows (exhaustive)."""
    import random

    from jixiao.ingest import security

    def by_findall(window: bytes) -> tuple[int, int]:
        refs = security._REF_RE.findall(window)
        rows = [int(d) for _, d in refs if d]
        cols = [security._col_index(x) for x, _ in refs if x]
        return max(rows, default=0), max(cols, default=0)

    rng = random.Random(12)  # noqa: S311
    parts = [
        *(b'<c r="', b"r='", b'r = "', b"r=\n'", b'<row r="', b'"/>', b'header="0.5"', b"r"),
        *(b"A", b"Z", b"XFD", b"ZZZZ", b"0", b"00", b"9", b"1", b"5", b"1048576", b"12345678"),
        *(b" ", b"="),
    ]
    for _ in range(3000):
        window = b"".join(rng.choice(parts) for _ in range(rng.randint(1, 40)))
        if rng.random() < 0.5:  # beyond the seeds at both ends
            window = b"x" * 20_000 + window + b"y" * 20_000
        scan = security._SheetScan()
        scan.feed(window)
        assert (scan.max_row, scan.max_col) == by_findall(window), window[:120]


def test_leading_zeros_do_not_shorten_a_dimension_or_a_merge(tmp_path: Path):
    """``XFD0001048576`` is row 1048576: the scan skips the zeros instead of reading 1048."""
    dim = _rewrite(
        _base(tmp_path / "a.xlsx"),
        tmp_path / "dim.xlsx",
        SHEET,
        lambda d: d.replace(b'<dimension ref="A1:C2"', b'<dimension ref="A1:XFD0001048576"'),
    )
    assert _reason(dim) == "absurd_dimensions"
    merge = b'<mergeCells count="1"><mergeCell ref="A1000:XFD0001048576"/></mergeCells>'
    merged = _rewrite(
        _base(tmp_path / "b.xlsx"),
        tmp_path / "m.xlsx",
        SHEET,
        lambda d: d.replace(b"</sheetData>", b"</sheetData>" + merge),
    )
    assert _reason(merged) == "absurd_dimensions"


# ------------------------------------------------------------------ formulas in the one pass
# Formula cells in Excel's form are checked in the streaming pass (security._FormulaScan); any
# other form falls back to the defusedxml parse. Both must give the same verdict and errors.
def _formula_sheet(cells: list[bytes]) -> bytes:
    rows = b"".join(b'<row r="%d">%s</row>' % (i + 2, c) for i, c in enumerate(cells))
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
        + rows
        + b"</sheetData></worksheet>"
    )


def _both(xml: bytes, chunk: int) -> tuple[object, object]:
    """(fast scan's verdict fed in ``chunk``-byte pieces, the defusedxml parse's verdict)."""
    import io

    from jixiao.ingest import security

    def verdict(fn):  # type: ignore[no-untyped-def]
        try:
            return fn()
        except FileRejected as exc:
            return (exc.reason_code, exc.rejection.cell)

    fx = security._FormulaScan()
    for i in range(0, len(xml), chunk):
        fx.feed(xml[i : i + chunk])
    fast = verdict(lambda: fx.result("S"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(SHEET, xml)
    with zipfile.ZipFile(buf) as zf:
        slow = verdict(lambda: security._check_formula_cache(zf, zf.getinfo(SHEET), "S"))
    return fast, slow


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ([b'<c r="B2"><f>1+1</f><v>2</v></c>'], {}),
        ([b'<c r="B2" s="1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'], {(1, 1): "#DIV/0!"}),
        ([b'<c r="C3" t="e"><f t="shared" si="0"/><v>#N/A</v></c>'], {(2, 2): "#N/A"}),
        ([b'<c r="B2"><f>1+1</f></c>'], ("formula_no_cached_value", "B2")),
        (
            [b'<c r="B2"><f>1</f><v>1</v></c>', b'<c r="D3"><f>1</f><v/></c>'],
            ("formula_no_cached_value", "D3"),
        ),
        ([b'<c r="B2"><f>1+1</f><v></v></c>'], ("formula_no_cached_value", "B2")),
        # other forms: the fast scan steps aside, the parse decides
        ([b"<c r='B2'><f>1+1</f></c>"], ("formula_no_cached_value", "B2")),
        ([b'<c  r="B2"\n><f>1+1</f></c>'], ("formula_no_cached_value", "B2")),
        ([b'<c r="B2" t="e"><f>1/0</f><v>#DIV/0&#33;</v></c>'], {(1, 1): "#DIV/0!"}),
        ([b'<!-- <c r="B2"><f>1+1</f></c> --><c r="C2"><v>1</v></c>'], {}),
        ([b'<c r="B2"><f xmlns="urn:x">1+1</f></c>'], {}),
    ],
)
@pytest.mark.parametrize("chunk", [1 << 20, 7, 1])
def test_the_fast_formula_scan_agrees_with_the_parse(cells, expected, chunk) -> None:  # type: ignore[no-untyped-def]
    fast, slow = _both(_formula_sheet(cells), chunk)
    assert slow == expected
    assert fast in (expected, None)  # None: the part is parsed (the verdict above)
    canonical = all(c.startswith(b'<c r="') and b"&" not in c and b"xmlns" not in c for c in cells)
    assert (fast is not None) == canonical  # Excel's form never needs the second parse


@pytest.mark.parametrize("chunk", [1 << 20, 5, 1])
def test_a_formula_right_after_the_prolog_takes_the_fast_scan(chunk: int) -> None:
    xml = _formula_sheet([]).replace(
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>',
        b'<row r="1"><c r="A1"><f>1+1</f></c></row>',
    )
    assert xml.startswith(b"<?xml")
    assert _both(xml, chunk) == (("formula_no_cached_value", "A1"),) * 2


def test_the_fast_formula_scan_takes_excels_form_without_a_second_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jixiao.ingest import security

    def no_parse(*_a: object, **_k: object) -> object:
        raise AssertionError("the sheet was parsed a second time")

    monkeypatch.setattr(security, "_check_formula_cache", no_parse)
    ok = _rewrite(
        _base(tmp_path / "a.xlsx"),
        tmp_path / "ok.xlsx",
        SHEET,
        lambda d: d.replace(b"<v>10</v>", b"<f>5+5</f><v>10</v>"),
    )
    assert b"<f>5+5</f>" in zipfile.ZipFile(ok).read(SHEET)
    assert check_file(ok).error_cells == {}
    bomb = _rewrite(
        _base(tmp_path / "b.xlsx"),
        tmp_path / "bad.xlsx",
        SHEET,
        lambda d: d.replace(b"<v>10</v>", b"<f>5+5</f>"),
    )
    assert _reason(bomb) == "formula_no_cached_value"


def test_formulas_after_megabytes_without_any_are_checked_in_the_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The formula scan skips chunks before the first formula; a formula 3 MB in still counts."""
    from jixiao.ingest import security

    def no_parse(*_a: object, **_k: object) -> object:
        raise AssertionError("the sheet was parsed a second time")

    monkeypatch.setattr(security, "_check_formula_cache", no_parse)
    pad = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c></row>' % (i, i, b"x" * 60)
        for i in range(3, 30_003)
    )

    def edit(tail: bytes):  # type: ignore[no-untyped-def]
        return lambda d: d.replace(b"</sheetData>", pad + tail + b"</sheetData>")

    err = b'<row r="30003"><c r="B30003" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
    ok = _rewrite(_base(tmp_path / "a.xlsx"), tmp_path / "ok.xlsx", SHEET, edit(err))
    assert len(zipfile.ZipFile(ok).read(SHEET)) > 3 * security._CHUNK
    assert check_file(ok).error_cells == {"支付": {(30002, 1): "#DIV/0!"}}
    bad = _rewrite(
        _base(tmp_path / "b.xlsx"),
        tmp_path / "bad.xlsx",
        SHEET,
        edit(b'<row r="30003"><c r="B30003"><f>1/0</f></c></row>'),
    )
    assert _reason(bad) == "formula_no_cached_value"
