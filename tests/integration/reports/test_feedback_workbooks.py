"""Feedback workbooks for the submitting department (报送反馈表), built through the real ingest.

One inbox: a good 自评表, a 自评表 with bad cells (one of them hostile: a control character
then a formula, and a formula-like text), a payments ledger with a hidden sheet, and a CSV.
``write_feedback`` must give every file one workbook and one CSV whose rows are exactly the
warehouse's rejections and warnings, in Chinese and English, with how to fix each.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from tests.integration.ingest import ingest_workbooks as wbk
from tests.integration.ingest.ingest_workbooks import rezip

from jixiao.config import Settings, get_settings
from jixiao.ingest.errors import REASON_FIXES
from jixiao.ingest.loader import ingest_files
from jixiao.reports.feedback import (
    CSV_HEADER,
    FLAG_FIXES,
    SUFFIX_CSV,
    SUFFIX_XLSX,
    UNKNOWN_DEPARTMENT,
    department_folder,
    write_feedback,
)
from jixiao.reports.safety import is_neutral

HOSTILE = '=HYPERLINK("http://evil.example","点我")'
CONTROL_HOSTILE = "\x01" + HOSTILE  # a control character first: must not hide the formula
GOOD_ROWS = [["P1", 2023, "2023-01-05", 10, None, "甲", "V1"]]
PAY_HDR = ["项目编码", "年度", "支付日期", "支付金额（万元）", "资金来源", "收款单位", "凭证号"]
_HAN = re.compile(r"[\u4e00-\u9fff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _hostile_selfeval(tmp: Path, dst: Path) -> Path:
    """The bad-score 自评表 with two more bad score cells: a formula text, and \\x01 + formula."""
    src = tmp / "src-hostile.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, *figures in wbk.XINFENG:
        ws = wb.create_sheet(name[:10])
        wbk.selfeval_sheet(ws, name, *figures, bad_score=True)
        for ref, text in (("G17", "CTRLMARK" + HOSTILE), ("G18", HOSTILE)):
            ws[ref].value = text
            ws[ref].data_type = "s"  # text, not a formula, as a clerk's typed text
    wb.save(src)
    # calamine decodes the OOXML escape _x0001_ to the control character U+0001
    return rezip(
        src,
        dst,
        replace={
            f"xl/worksheets/sheet{i}.xml": (lambda b: b.replace(b"CTRLMARK", b"_x0001_"))
            for i in (1, 2)
        },
    )


@dataclass
class Corpus:
    settings: Settings
    paths: list[Path]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("feedback")
    settings = get_settings(root / "home").ensure()
    inbox = settings.inbox
    wbk.selfeval_workbook(inbox / "新丰 good.xlsx")
    _hostile_selfeval(root, inbox / "新丰 bad.xlsx")
    wbk.payments_workbook(inbox / "payments.xlsx", GOOD_ROWS, caption=None, header=PAY_HDR)
    (inbox / "清单.csv").write_text("项目编码,金额\nP1,10\n", encoding="utf-8")
    dated = wbk.selfeval_workbook(inbox / "2999.xlsx")  # quarantined naming sheet and cell
    wb = openpyxl.load_workbook(dated)
    wb.worksheets[0]["A2"] = "（2999年度）"
    wb.save(dated)
    old = time.time() - 3600  # long settled: not "still being written"
    for i, p in enumerate(sorted(inbox.iterdir())):
        os.utime(p, (old + i, old + i))
    summary = ingest_files(settings, workers=0)
    assert {f.status for f in summary.files} == {"loaded", "quarantined"}, summary
    return Corpus(settings, write_feedback(settings))


def _copy(corpus: Corpus, tmp_path: Path) -> Settings:
    """A private copy of the corpus home (tests that change the warehouse use it)."""
    shutil.copytree(corpus.settings.home, tmp_path / "home")
    return get_settings(tmp_path / "home")


def _query(settings: Settings, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _index(settings: Settings) -> list[dict[str, Any]]:
    data = json.loads((settings.feedback / "index.json").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def _entry(settings: Settings, file_name: str) -> dict[str, Any]:
    return next(e for e in _index(settings) if e["file"] == file_name)


def _table(path: Path) -> list[list[str]]:
    """Header and rows of the t_feedback table, as text ("" for empty)."""
    wb = openpyxl.load_workbook(path)
    dn = wb.defined_names["t_feedback"]
    ((sheet, ref),) = dn.destinations
    ws = wb[sheet]
    return [
        ["" if c.value is None else str(c.value) for c in row] for row in ws[ref.replace("$", "")]
    ]


def _summary(path: Path) -> dict[str, Any]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    out: dict[str, Any] = {}
    for r in range(3, 13):
        label = ws.cell(r, 1).value
        if label:
            out[str(label)] = ws.cell(r, 3).value
    return out


def _csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so Excel opens it"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def _col(cell: str) -> int:
    n = 0
    for ch in re.sub(r"\d", "", cell):
        n = n * 26 + ord(ch) - 64
    return n - 1


def _expected_rows(settings: Settings, file_name: str) -> list[list[str]]:
    """What the feedback must say, built independently from raw.rejected_rows."""
    rows = _query(
        settings,
        "select r.sheet_name, r.cell_ref, r.raw_values, r.expected, r.message_zh, r.message_en,"
        " r.reason_code from raw.rejected_rows r join raw.load_log l using (load_id)"
        " where l.file_name = ? order by r.rowid",
        [file_name],
    )
    assert rows, f"the corpus must reject rows of {file_name}"
    out = []
    for sheet, cell, raw, expected, zh, en, code in rows:
        seen = json.loads(raw)[_col(cell)]
        fix_zh, fix_en = REASON_FIXES[code]
        values = [
            "错误 · error",
            file_name,
            sheet,
            cell,
            seen,
            expected,
            zh,
            en,
            fix_zh,
            fix_en,
            code,
        ]
        out.append([("'" + v if not is_neutral(v) else v) for v in (_strip(v) for v in values)])
    return out


def _strip(text: str) -> str:
    return _CONTROL.sub("", text)


def test_every_received_file_has_a_workbook_a_csv_and_an_index_entry(corpus: Corpus) -> None:
    s = corpus.settings
    received = _query(
        s, "select distinct file_name, file_hash from raw.load_log where status <> 'duplicate'"
    )
    index = _index(s)
    assert sorted((e["file"], e["sha256"]) for e in index) == sorted(received)
    assert len(index) == 5
    for e in index:
        xlsx, csv_path = s.home / e["xlsx"], s.home / e["csv"]
        assert xlsx.is_file() and csv_path.is_file(), e
        assert not Path(e["xlsx"]).is_absolute() and e["xlsx"].startswith("feedback/")
        assert xlsx.name.endswith(SUFFIX_XLSX) and csv_path.name.endswith(SUFFIX_CSV)
        assert xlsx in corpus.paths and csv_path in corpus.paths
    assert corpus.paths[-1] == s.feedback / "index.json"
    good = _entry(s, "新丰 good.xlsx")
    assert good["xlsx"] == "feedback/新丰县政务服务数据管理局/新丰 good.反馈.xlsx"
    assert (good["errors"], good["warnings"], good["department"]) == (0, 0, wbk.XINFENG_DEPT)


def test_rejected_rows_appear_exactly_with_value_seen_and_fix(corpus: Corpus) -> None:
    s = corpus.settings
    e = _entry(s, "新丰 bad.xlsx")
    table = _table(s.home / e["xlsx"])
    header, rows = table[0], table[1:]
    assert header == [h.replace(" ", "\n", 1) for h in CSV_HEADER]
    assert rows == _expected_rows(s, "新丰 bad.xlsx")
    assert e["errors"] == len(rows) == 6 and e["warnings"] == 0  # 3 bad cells on 2 sheets
    seen = {r[3]: r[4] for r in rows}
    assert seen["G19"] == "十分"
    assert seen["G17"] == seen["G18"] == "'" + HOSTILE  # inert text, control char gone
    for r in rows:
        assert _HAN.search(r[6]) and _HAN.search(r[8]), r  # Chinese message and fix
        assert re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", r[7]) and r[7] != r[6], r  # English
        assert r[9] == REASON_FIXES[r[10]][1]


def test_csv_has_the_same_rows_as_the_workbook(corpus: Corpus) -> None:
    s = corpus.settings
    for e in _index(s):
        table = _table(s.home / e["xlsx"])
        csv_rows = _csv_rows(s.home / e["csv"])
        assert csv_rows[0] == CSV_HEADER
        assert csv_rows[1:] == table[1:], e["file"]


def test_quarantined_file_is_one_error_row_in_the_unknown_department(corpus: Corpus) -> None:
    s = corpus.settings
    e = _entry(s, "清单.csv")
    assert e["department"] is None and e["xlsx"].startswith(f"feedback/{UNKNOWN_DEPARTMENT}/")
    ((code, zh, en, expected),) = _query(
        s,
        "select reason_code, message_zh, message_en, expected from raw.load_log"
        " where file_name = ?",
        ["清单.csv"],
    )
    assert "xlsx" in expected
    rows = _table(s.home / e["xlsx"])[1:]
    assert rows == [
        ["错误 · error", "清单.csv", "", "", "", expected, zh, en, *REASON_FIXES[code], code]
    ]
    summary = _summary(s.home / e["xlsx"])
    assert summary["状态 · Status"] == "已隔离 · quarantined"
    assert summary["错误 · Errors"] == 1 and isinstance(summary["错误 · Errors"], int)


def test_quarantined_file_names_the_sheet_cell_and_what_was_expected(corpus: Corpus) -> None:
    """A file quarantined for one cell: the feedback row points at that cell (定位到单元格)."""
    s = corpus.settings
    e = _entry(s, "2999.xlsx")
    ((code, sheet, cell, expected, zh),) = _query(
        s,
        "select reason_code, sheet_name, cell_ref, expected, message_zh from raw.load_log"
        " where file_name = ?",
        ["2999.xlsx"],
    )
    assert (code, cell) == ("date_out_of_range", "A2") and sheet and expected
    # rejected after its header block was read: the department's folder, not "unknown"
    assert e["department"] == wbk.XINFENG_DEPT
    assert e["xlsx"] == f"feedback/{wbk.XINFENG_DEPT}/2999.反馈.xlsx"
    ((row),) = _table(s.home / e["xlsx"])[1:]
    assert row[:4] == ["错误 · error", "2999.xlsx", sheet, "A2"]
    assert row[5] == expected and row[6] == zh and row[-1] == code


def test_summary_block_names_file_time_status_and_counts(corpus: Corpus) -> None:
    s = corpus.settings
    e = _entry(s, "新丰 bad.xlsx")
    ((received, read, loaded, rejected),) = _query(
        s,
        "select received_at, rows_read, rows_loaded, rows_rejected from raw.load_log"
        " where file_name = ?",
        ["新丰 bad.xlsx"],
    )
    summary = _summary(s.home / e["xlsx"])
    assert summary["文件 · File"] == "新丰 bad.xlsx"
    assert summary["报送部门 · Department"] == wbk.XINFENG_DEPT
    assert summary["接收时间 · Received at"] == received.replace(microsecond=0).isoformat(sep=" ")
    assert summary["状态 · Status"] == "已载入 · loaded"
    counts = [summary[k] for k in ("读取行数 · Rows read", "载入行数 · Rows loaded")]
    assert counts == [read, loaded] and summary["拒绝行数 · Rows rejected"] == rejected == 6
    assert all(isinstance(v, int) for v in counts)  # numbers as numbers


def test_hidden_sheet_is_a_warning(corpus: Corpus) -> None:
    s = corpus.settings
    e = _entry(s, "payments.xlsx")
    rows = _table(s.home / e["xlsx"])[1:]
    assert [(r[0], r[2], r[10]) for r in rows] == [("警告 · warning", "旧数据", "sheet_hidden")]
    assert (e["errors"], e["warnings"]) == (0, 1)


def test_good_file_says_no_errors(corpus: Corpus) -> None:
    s = corpus.settings
    path = s.home / _entry(s, "新丰 good.xlsx")["xlsx"]
    assert _table(path)[1:] == []
    ws = openpyxl.load_workbook(path).worksheets[0]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "未发现错误或警告。 / No errors or warnings." in texts
    assert _csv_rows(path.with_name(path.name.replace(SUFFIX_XLSX, SUFFIX_CSV))) == [CSV_HEADER]


def _xml_texts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}


def test_feedback_workbooks_hold_no_formula_and_no_control_characters(corpus: Corpus) -> None:
    s = corpus.settings
    for e in _index(s):
        path = s.home / e["xlsx"]
        wb = openpyxl.load_workbook(path)
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"], path
        assert all(is_neutral(c.value) for c in cells), path
        for name, xml in _xml_texts(path).items():
            assert "<f>" not in xml and "<f " not in xml, (path, name)
            assert not _CONTROL.search(xml), (path, name)
            assert "_x0001_" not in xml, (path, name)
        for row in _csv_rows(s.home / e["csv"]):
            assert all(is_neutral(v) for v in row), row


def _mtimes(settings: Settings) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in settings.feedback.rglob("*") if p.is_file()}


def _with_warehouse(settings: Settings, edit: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    with duckdb.connect(str(settings.warehouse)) as con:
        edit(con)


def test_feedback_is_rewritten_only_when_its_content_changed(
    corpus: Corpus, tmp_path: Path
) -> None:
    s = _copy(corpus, tmp_path)
    write_feedback(s)
    before = _mtimes(s)
    time.sleep(0.05)
    write_feedback(s)
    assert _mtimes(s) == before, "nothing changed: nothing rewritten"

    project = f"{wbk.XINFENG_DEPT}/政务系统管理"

    def add_flag(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "create schema if not exists marts; create table marts.mart_review_flags ("
            " flag_id varchar, project_key varchar, fiscal_year integer, flag_code varchar,"
            " severity varchar, indicator_id varchar, message_zh varchar, message_en varchar,"
            " detail varchar)"
        )
        con.execute(
            "insert into marts.mart_review_flags values"
            " ('f1', ?, 2023, 'missing_deviation_reason', 'warning', null,"
            "  '得分低于分值但未说明偏差原因', 'score below weight without a reason',"
            "  '用户满意度'),"
            " ('f2', ?, 2023, 'target_too_low', 'info', null, '目标偏低', 'target low', 'x')",
            [project, project],
        )

    _with_warehouse(s, add_flag)
    time.sleep(0.05)
    write_feedback(s)
    after = _mtimes(s)
    changed = {Path(p).name for p in after if after[p] != before.get(p)}
    # the flag belongs to the project's current submission, as raw._submission_versions
    # decides it (the document's own dates first: the two 新丰 workbooks' saved-at seconds
    # may differ, so which one is current is not always the one loaded last)
    ((current,),) = _query(
        s,
        "select file_name from raw._submission_versions"
        " where project_key = ? and fiscal_year = 2023 and is_current",
        [project],
    )
    stem = Path(current).stem
    assert changed == {f"{stem}{SUFFIX_XLSX}", f"{stem}{SUFFIX_CSV}", "index.json"}, changed
    e = _entry(s, current)
    rows = _table(s.home / e["xlsx"])[1:]
    warning = [r for r in rows if r[0] == "警告 · warning"]
    assert warning == [
        [
            "警告 · warning",
            current,
            "政务系统管理",
            "",
            "用户满意度",
            "",
            "得分低于分值但未说明偏差原因",
            "score below weight without a reason",
            *FLAG_FIXES["missing_deviation_reason"],
            "missing_deviation_reason",
        ]
    ]  # the info flag is not feedback
    assert (e["errors"], e["warnings"]) == (len(rows) - 1, 1)


def test_hostile_department_and_texts_from_the_warehouse_stay_inert(
    corpus: Corpus, tmp_path: Path
) -> None:
    s = _copy(corpus, tmp_path)
    dept = "恶意\u202e部门\x07/../x"

    def poison(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("update raw.submissions set department_name = ?", [dept])
        con.execute(
            "update raw.load_log set file_name = ? where file_name = ?",
            ["坏\u202exslx.表\x07.xlsx", "新丰 bad.xlsx"],
        )
        con.execute(
            "update raw.rejected_rows set message_zh = ?, message_en = ?, expected = ?",
            ["\x07-2+3 说明", "\x1b+cmd|' /C calc'!A0", "@SUM(1)"],
        )

    _with_warehouse(s, poison)
    write_feedback(s)
    e = _entry(s, "坏xslx.表.xlsx")  # the index shows the name without bidi/control chars
    assert Path(e["xlsx"]).name == "坏xslx.表.反馈.xlsx"
    assert e["department"] == "恶意部门/../x"  # shown by the quality report: no bidi/control
    folder = Path(e["xlsx"]).parts[1]
    assert folder == department_folder(dept)
    assert "\u202e" not in folder and "\x07" not in folder and Path(folder).name == folder
    assert folder.startswith("恶意部门") and (s.home / e["xlsx"]).is_file()
    rows = _table(s.home / e["xlsx"])[1:]
    assert {(r[5], r[6], r[7]) for r in rows} == {("'@SUM(1)", "'-2+3 说明", "'+cmd|' /C calc'!A0")}
    for name, xml in _xml_texts(s.home / e["xlsx"]).items():
        assert not _CONTROL.search(xml), name


def test_feedback_command_writes_and_prints_where(corpus: Corpus, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from jixiao.cli.main import app

    s = _copy(corpus, tmp_path)
    shutil.rmtree(s.feedback)
    result = CliRunner().invoke(app, ["feedback"], env={"JIXIAO_HOME": str(s.home)})
    assert result.exit_code == 0, result.output
    assert str(s.feedback) in result.output
    assert len(_index(s)) == 5
    printed = json.loads(result.output[: result.output.rindex("}") + 1])
    assert printed["files"] == 5 and printed["errors"] == 6 + 2 and printed["warnings"] == 1


def test_missing_warehouse_gives_an_empty_index(settings: Settings) -> None:
    settings.warehouse.unlink(missing_ok=True)
    assert write_feedback(settings) == [settings.feedback / "index.json"]
    assert _index(settings) == []
