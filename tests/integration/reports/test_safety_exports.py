"""Safe exports through the real report writers (导出安全): hostile marts in, inert files out.

The marts get what a hostile or careless clerk can put there: a project name that is a
control character followed by a formula (``\\x01=HYPERLINK(...)``, which came out of the
yearly xlsx as a live formula when control characters were stripped after the formula
check), a department name with NUL, BEL and a right-to-left override (NUL/BEL in docProps
made report workbooks unopenable; U+202E reached the file names), and a negative 结余
(which printed as ``'-37,924,702.37``). Every written workbook is checked with openpyxl and
as raw XML from the zip; every HTML page by its cells; every file name by its characters.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import openpyxl
import pytest
from tests.integration.reports.report_helpers import parse_html
from tests.integration.reports.report_marts_fixture import XF_DEPT, make_marts

from jixiao.config import get_settings
from jixiao.reports.safety import clean_property, is_neutral, neutralise, safe_filename
from jixiao.reports.xlsx_common import sheet_title
from jixiao.reports.yearly import build_reports

FORMULA = '=HYPERLINK("http://evil.example","点我")'
EVIL_PROJECT = "\x01" + FORMULA
EVIL_DEPT = "新丰县\x00恶意\x07部门\u202egpj.exe"
CLEAN_DEPT = "新丰县恶意部门gpj.exe"
NEGATIVE = Decimal("-37924702.37")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Hostile:
    paths: list[Path]
    project_key: str


def _poison(db: Path) -> str:
    """Put the hostile values into every mart column that carries them; return the project."""
    with duckdb.connect(str(db)) as con:
        ((key,),) = con.execute(
            "select project_key from marts.mart_project_year where department_name = ?"
            " and fiscal_year = 2023 order by project_key limit 1",
            [XF_DEPT],
        ).fetchall()
        columns = con.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts'"
            " and column_name in ('department_name', 'project_name')"
        ).fetchall()
        for table, column in columns:
            if column == "department_name":
                con.execute(
                    f"update marts.{table} set department_name = ? where department_name = ?",
                    [EVIL_DEPT, XF_DEPT],
                )
            else:
                has_key = con.execute(
                    "select count(*) from information_schema.columns where table_schema ="
                    " 'marts' and table_name = ? and column_name = 'project_key'",
                    [table],
                ).fetchone()
                if has_key and has_key[0]:
                    con.execute(
                        f"update marts.{table} set project_name = ? where project_key = ?",
                        [EVIL_PROJECT, key],
                    )
        con.execute(
            "update marts.mart_project_year set balance_yuan = ?"
            " where project_key = ? and fiscal_year = 2023",
            [NEGATIVE, key],
        )
    return str(key)


@pytest.fixture(scope="module", name="h")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    root = tmp_path_factory.mktemp("hostile")
    db = make_marts(root / "jixiao.duckdb")
    key = _poison(db)
    settings = get_settings(root / "home").ensure()
    return Hostile(build_reports(settings, 2023, source=db, pdf=False), key)


def _xlsx(h: Hostile) -> list[Path]:
    return [p for p in h.paths if p.suffix == ".xlsx"]


def _html(h: Hostile) -> list[Path]:
    return [p for p in h.paths if p.suffix == ".html"]


def test_control_character_then_formula_is_inert_text_in_every_workbook(h: Hostile) -> None:
    texts: list[str] = []
    for path in _xlsx(h):
        wb = openpyxl.load_workbook(path)
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], path
        texts += [c.value for c in cells if isinstance(c.value, str)]
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith(".xml") or name.endswith(".rels"):
                    xml = z.read(name).decode("utf-8")
                    assert not re.search(r"<(\w+:)?f[ >]", xml), (path, name)
                    assert not _CONTROL.search(xml) and not _BIDI.search(xml), (path, name)
                    assert "_x0001_" not in xml and "_x0007_" not in xml, (path, name)
                    ElementTree.fromstring(xml)  # noqa: S314 - our own output; must parse
    assert "'" + FORMULA in texts, "the project name is there, as inert text"
    assert FORMULA not in texts and EVIL_PROJECT not in texts
    assert all(is_neutral(t) for t in texts)


def test_negative_amount_is_a_number_cell_not_escaped_text(h: Hostile) -> None:
    numbers, escaped = [], []
    for path in _xlsx(h):
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "n" and c.value is not None:
                        numbers.append(Decimal(str(c.value)))
                    if isinstance(c.value, str) and re.fullmatch(r"'-[\d,]+(\.\d+)?%?", c.value):
                        escaped.append((path.name, c.coordinate, c.value))
    assert NEGATIVE / 10000 in numbers  # report amounts are 万元: the exact yuan / 10000
    assert not escaped


def test_negative_amount_in_html_shows_as_a_plain_number(h: Hostile) -> None:
    found = []
    for path in _html(h):
        page = path.read_text(encoding="utf-8")
        assert "'-37,924,702.37" not in page and "'-37924702.37" not in page
        for rows in parse_html(path).tables.values():
            for row in rows:
                for value, text in row:
                    if value == str(NEGATIVE):
                        found.append(text)
                    assert is_neutral(text) or re.fullmatch(r"-[\d,]+(\.\d+)?%?", text), text
    assert found and set(found) == {"-3,792.47"}  # 万元, two decimals


def test_html_pages_carry_no_control_or_bidi_characters_and_no_live_formula(
    h: Hostile,
) -> None:
    for path in _html(h):
        page = path.read_text(encoding="utf-8")
        assert not _CONTROL.search(page.replace("\n", "").replace("\t", "")), path
        assert not _BIDI.search(page), path
        cells = [t for rows in parse_html(path).tables.values() for row in rows for _, t in row]
        assert FORMULA not in cells


def test_document_properties_are_clean(h: Hostile) -> None:
    titles = []
    for path in _xlsx(h):
        props = openpyxl.load_workbook(path).properties
        for attr in ("title", "subject", "creator", "description", "keywords", "category"):
            value = getattr(props, attr)
            assert value is None or not (_CONTROL.search(value) or _BIDI.search(value)), (
                path,
                attr,
                value,
            )
        titles.append(props.title or "")
        with zipfile.ZipFile(path) as z:
            core = z.read("docProps/core.xml").decode("utf-8")
        assert "\x00" not in core and "\x07" not in core and "\u202e" not in core
    assert any(CLEAN_DEPT in t for t in titles), titles


def test_file_names_have_no_control_or_bidi_characters_and_keep_chinese(h: Hostile) -> None:
    names = [p.name for p in h.paths]
    for name in names:
        assert not _CONTROL.search(name) and not _BIDI.search(name), repr(name)
        assert unicodedata.normalize("NFC", name) == name
    dept = [n for n in names if n.startswith(CLEAN_DEPT)]
    assert {Path(n).suffix for n in dept} == {".xlsx", ".html"}, names
    forms = [n for n in names if n.startswith("自评表_HYPERLINK")]
    assert forms, names  # the project's form: formula trigger and control char gone


# -- the helpers themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("\x01=1+1", "'=1+1"),
        ("\x00\x07@SUM(A1)", "'@SUM(A1)"),
        ("\u202e-2+3", "'-2+3"),
        ("\x1b+cmd", "'+cmd"),
        (" =1+1", "' =1+1"),
        ("\u3000=1", "'\u3000=1"),
        ("项目\x85名称\x9f", "项目名称"),
        ("e\u0301", "\u00e9"),  # NFC
    ],
)
def test_neutralise_normalises_before_checking(text: str, out: str) -> None:
    assert neutralise(text) == out
    assert is_neutral(neutralise(text))


@pytest.mark.parametrize("value", [Decimal("-37924702.37"), -1, 0, 1.5, None])
def test_numbers_pass_unchanged(value: object) -> None:
    assert neutralise(value) is value


def test_safe_filename_drops_bidi_control_and_invisible_characters() -> None:
    assert safe_filename("报告\u202egpj.exe") == "报告gpj.exe"
    assert safe_filename("a\x00b\x07c\u200bd\ufeff") == "abcd"
    assert safe_filename("\x01=HYPERLINK(1)") == "HYPERLINK(1)"
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename("CON") == "_CON"
    assert safe_filename("江门市 政务服务") == "江门市 政务服务"
    assert safe_filename("\u202e\x00") == "unnamed"


def test_clean_property_and_sheet_title() -> None:
    assert clean_property("新丰县\x00恶意\x07部门\u202e\n标题") == "新丰县恶意部门 标题"
    assert clean_property("\x00") is None
    assert sheet_title("a[b]:c*d?/e\\f\x07\u202e" + "长" * 40) == ("a_b__c_d__e_f" + "长" * 18)
    assert sheet_title("\x00\x07", fallback="S1") == "S1"
