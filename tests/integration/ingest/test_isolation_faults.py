"""Per-file fault isolation (issue 11): one bad file is quarantined, the run goes on.

Each test feeds one bad file together with a good one to a single ``ingest_files`` run and
checks: the run returns, the bad file is quarantined with the right reason (a byte-for-byte
copy where it could be read) and a bilingual message without raw exception text in Chinese,
the good file loaded, and rows_read = rows_loaded + rows_rejected.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from tests.integration.ingest import ingest_workbooks as wbk
from tests.integration.ingest.ingest_workbooks import rezip

from jixiao.config import Settings
from jixiao.ingest import loader as loader_mod
from jixiao.ingest import prepare as prepare_mod
from jixiao.ingest.loader import IngestSummary, discover, ingest_files
from jixiao.ingest.security import Limits

HDR = ["项目编码", "年度", "支付日期", "支付金额（万元）", "资金来源", "收款单位", "凭证号"]
FAST = Limits(stable_seconds=0.1)
MiB = 1 << 20


def _good(path: Path, payee: str = "甲", amount: Any = 10) -> Path:
    rows = [["P1", 2023, "2023-01-05", amount, None, payee, "V1"]]
    return wbk.payments_workbook(
        path, rows, caption=None, header=HDR, instructions=False, hidden_extra=False
    )


def _big_grid(path: Path) -> Path:
    """3 KB on disk, a 1160 x 16384 grid (19 M cells, within max_cells) once read: ~770 MB."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "大表"
    ws["A1"] = "项目编码"
    ws["XFD1160"] = 1
    wb.save(path)
    return path


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _assert_isolated(summary: IngestSummary, bad: str, reason: str, good: str = "good.xlsx"):
    """The common outcome: good loaded, bad quarantined with ``reason``, counts add up."""
    by_name = {f.file: f for f in summary.files}
    assert by_name[good].status == "loaded" and by_name[good].rows_loaded == 1
    result = by_name[bad]
    assert (result.status, result.reason_code) == ("quarantined", reason), result
    assert result.message_zh and result.message_en
    assert re.search(r"[\u4e00-\u9fff]", result.message_zh)
    # no raw English exception text inside the Chinese message
    assert not re.search(r"[A-Za-z]*(Error|Exception|errno|Errno)\b", result.message_zh)
    for f in summary.files:
        assert f.rows_read == f.rows_loaded + f.rows_rejected
    assert summary.rows_read == summary.rows_loaded + summary.rows_rejected
    return result


def _log(settings: Settings, name: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(
            "select status, reason_code, quarantine_path, message_zh, message_en "
            "from raw.load_log where file_name = ? order by loaded_at",
            [name],
        ).fetchall()


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail instead of hanging forever (a FIFO opened for reading blocks)."""

    def boom(*_a: Any) -> None:
        raise TimeoutError("ingest blocked")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(120)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ------------------------------------------------------------------ 1. any exception


def test_an_unexpected_exception_quarantines_that_file_as_parse_error(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = _good(settings.inbox / "bad.xlsx", payee="乙")
    _good(settings.inbox / "good.xlsx")
    original = bad.read_bytes()
    real = prepare_mod.extract

    def extract(workbook: Any, *a: Any, **kw: Any) -> Any:
        if workbook.name == "bad.xlsx":
            raise ZeroDivisionError("a reader bug")
        return real(workbook, *a, **kw)

    monkeypatch.setattr(prepare_mod, "extract", extract)
    summary = ingest_files(settings, limits=FAST, workers=0)  # in-process: the catch-all holds

    result = _assert_isolated(summary, "bad.xlsx", "parse_error")
    assert "ZeroDivisionError" in (result.message_en or "")
    assert "send the file to the data team" in (result.message_en or "").lower()
    assert "数据组" in (result.message_zh or "") and "a reader bug" not in (result.message_zh or "")
    assert Path(result.quarantine_path or "").read_bytes() == original


def test_a_write_error_rolls_back_that_file_only(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, query: Any
) -> None:
    bad = _good(settings.inbox / "bad.xlsx", payee="乙")
    _good(settings.inbox / "good.xlsx")
    original = bad.read_bytes()
    real = loader_mod._Loader._insert_arrow

    def insert(self: Any, table: str, arrow: pa.Table) -> None:
        real(self, table, arrow)  # payments of the bad file go in first, then are rolled back
        if table == "submissions" and "bad.xlsx" in arrow.column("file_name").to_pylist():
            raise duckdb.ConversionException("Conversion Error: cannot cast")

    monkeypatch.setattr(loader_mod._Loader, "_insert_arrow", insert)
    summary = ingest_files(settings, limits=FAST)

    result = _assert_isolated(summary, "bad.xlsx", "parse_error")
    assert "ConversionException" in (result.message_en or "")
    assert "写入数据仓库" in (result.message_zh or "")
    assert Path(result.quarantine_path or "").read_bytes() == original
    for table in ("payments", "submissions", "rejected_rows"):
        assert query(f"select count(*) from raw.{table} where file_name = 'bad.xlsx'") == [(0,)]
    assert query("select payee from raw.payments") == [("甲",)]
    assert [r[:2] for r in _log(settings, "bad.xlsx")] == [("quarantined", "parse_error")]


def test_an_amount_too_wide_for_its_column_is_a_rejected_row(
    settings: Settings, query: Any
) -> None:
    """1e14 万元 = 1e18 元 does not fit DECIMAL(18,2): the row is rejected, the file loads."""
    path = settings.inbox / "wide.xlsx"
    wbk.payments_workbook(
        path,
        [
            ["P1", 2023, "2023-01-05", 10, None, "甲", "V1"],
            ["P1", 2023, "2023-01-06", 1e14, None, "乙", "V2"],
        ],
        caption=None,
        header=HDR,
        instructions=False,
        hidden_extra=False,
    )
    _good(settings.inbox / "good.xlsx", payee="丙")
    summary = ingest_files(settings, limits=FAST)
    by_name = {f.file: f for f in summary.files}
    assert [by_name[n].status for n in ("wide.xlsx", "good.xlsx")] == ["loaded", "loaded"]
    wide = by_name["wide.xlsx"]
    assert (wide.rows_loaded, wide.rows_rejected, wide.rows_read) == (1, 1, 2)
    assert summary.rows_read == summary.rows_loaded + summary.rows_rejected
    rows = query(
        "select reason_code, sheet_name, row_number, message_zh, message_en "
        "from raw.rejected_rows where file_name = 'wide.xlsx'"
    )
    assert len(rows) == 1
    code, sheet, row, zh, en = rows[0]
    assert (code, sheet, row) == ("value_out_of_range", "支付", 3)
    # values.py may refuse it first (its own wording); the loader's guard holds on its own
    # (tests/unit/ingest/test_isolation_units.py): either way one clear row, never a crash
    assert "支付" in zh and "100000000000000" in zh and en
    assert query("select payee from raw.payments order by payee") == [("丙",), ("甲",)]


# ------------------------------------------------------------------ unreadable, names


def test_a_file_that_cannot_be_read_is_logged_without_a_copy(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PermissionError while hashing (discover) and snapshotting (plan): an entry, no crash."""
    locked = _good(settings.inbox / "locked.xlsx", payee="乙")
    _good(settings.inbox / "good.xlsx")
    real_open = os.open

    def deny(path: Any, flags: int, *a: Any, **kw: Any) -> int:
        if os.fspath(path).endswith("locked.xlsx"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(loader_mod.os, "open", deny)
    seed = _good(settings.home / "seed.xlsx", payee="丙")
    ingest_files(settings, [seed], limits=FAST)  # a warehouse exists: discover() hashes
    assert locked in discover(settings)  # never raises; the load will say what happened

    summary = ingest_files(settings, limits=FAST)
    result = _assert_isolated(summary, "locked.xlsx", "unreadable_file", good="good.xlsx")
    assert result.quarantine_path is None
    assert "无法复制到隔离区" in (result.message_zh or "")
    assert "no copy" in (result.message_en or "") and "PermissionError" in result.message_en
    assert not any(settings.quarantine.iterdir())
    assert [r[:3] for r in _log(settings, "locked.xlsx")] == [
        ("quarantined", "unreadable_file", None)
    ]
    # logged once: the same unreadable entry is not logged again every night
    assert locked not in discover(settings)
    again = ingest_files(settings, limits=FAST)
    assert {f.file: f.status for f in again.files}["locked.xlsx"] == "skipped_unchanged"
    # once it can be read, it loads
    monkeypatch.setattr(loader_mod.os, "open", real_open)
    fixed = ingest_files(settings, limits=FAST)
    assert {f.file: f.status for f in fixed.files}["locked.xlsx"] == "loaded"


def test_non_utf8_file_names_load_and_quarantine_with_their_bytes(
    settings: Settings, query: Any
) -> None:
    raw_good = "支付明细".encode("gbk") + b".xlsx"  # not UTF-8: a GBK name from a Windows zip
    raw_bad = "错误".encode("gbk") + b".xlsx"
    inbox = os.fsencode(settings.inbox)
    good = Path(os.fsdecode(os.path.join(inbox, raw_good)))
    bad = Path(os.fsdecode(os.path.join(inbox, raw_bad)))
    _good(good)
    bad.write_bytes("项目编码,金额\nP1,10\n".encode("gbk"))
    summary = ingest_files(settings, limits=FAST)

    printable_good = raw_good.decode("utf-8", "replace")
    printable_bad = raw_bad.decode("utf-8", "replace")
    assert "\ufffd" in printable_good
    result = _assert_isolated(summary, printable_bad, "csv_file", good=printable_good)
    names = {n for (n,) in query("select file_name from raw.load_log")}
    assert names == {printable_good, printable_bad}
    assert query("select file_name from raw.payments") == [(printable_good,)]
    # the quarantine copy keeps the original bytes, name and content
    qdir = os.fsencode(settings.quarantine / result.sha256)
    assert raw_bad in os.listdir(qdir)
    assert Path(os.fsdecode(os.path.join(qdir, raw_bad))).read_bytes() == bad.read_bytes()


# ------------------------------------------------------------------ 2. bounded memory


def test_a_merge_bomb_is_refused_before_any_grid_is_built(settings: Settings) -> None:
    """A 3 KB workbook with one merged range A1000:XFD1048576 (17 billion cells)."""
    src = _good(settings.home / "src.xlsx", payee="乙")

    def merge(xml: bytes) -> bytes:
        return xml.replace(
            b"</sheetData>",
            b'</sheetData><mergeCells count="1"><mergeCell ref="A1000:XFD1048576"/></mergeCells>',
        )

    bomb = rezip(
        src, settings.inbox / "merge-bomb.xlsx", replace={"xl/worksheets/sheet1.xml": merge}
    )
    assert bomb.stat().st_size < 10_000
    _good(settings.inbox / "good.xlsx")
    original = bomb.read_bytes()
    summary = ingest_files(settings, limits=FAST, workers=0)  # in-process: the check holds here

    result = _assert_isolated(summary, "merge-bomb.xlsx", "absurd_dimensions")
    assert (result.sheet, result.cell) == ("支付", "A1000:XFD1048576")
    assert "A1000:XFD1048576" in (result.message_zh or "") and "合并" in (result.message_zh or "")
    assert Path(result.quarantine_path or "").read_bytes() == original
    why = json.loads((Path(result.quarantine_path or "").parent / "reason.json").read_text())
    assert why["reason_code"] == "absurd_dimensions" and why["sheet"] == "支付"
    print(f"peak RSS of the loading process: {_peak_rss_mib():.0f} MiB")  # information only


def test_a_file_over_the_memory_budget_is_resource_limit(settings: Settings) -> None:
    """The parse runs in a worker capped at 300 MB; the file needs ~770 MB; the next loads."""
    big = _big_grid(settings.inbox / "big.xlsx")
    _good(settings.inbox / "good.xlsx")  # after the big one: a fresh worker parses it
    original = big.read_bytes()
    rss_before = _peak_rss_mib()
    summary = ingest_files(settings, limits=Limits(stable_seconds=0.1, max_worker_memory=300 * MiB))

    result = _assert_isolated(summary, "big.xlsx", "resource_limit")
    assert "300 MiB" in (result.message_zh or "") and "300 MiB" in (result.message_en or "")
    assert Path(result.quarantine_path or "").read_bytes() == original
    print(f"peak RSS of the loading process: {rss_before:.0f} -> {_peak_rss_mib():.0f} MiB")


def test_a_file_over_the_time_budget_is_resource_limit(settings: Settings) -> None:
    big = _big_grid(settings.inbox / "slow.xlsx")  # > 2 s to read on any machine
    _good(settings.inbox / "good.xlsx")
    limits = Limits(stable_seconds=0.1, max_parse_seconds=1.5, max_worker_memory=4 << 30)
    started = time.monotonic()
    summary = ingest_files(settings, limits=limits)
    took = time.monotonic() - started

    result = _assert_isolated(summary, "slow.xlsx", "resource_limit")
    assert "1.5" in (result.message_zh or "") and "time budget" in (result.message_en or "")
    assert Path(result.quarantine_path or "").read_bytes() == big.read_bytes()
    print(f"run took {took:.1f} s with a 1.5 s budget")  # information only


def test_the_pool_is_replaced_after_a_worker_dies_and_innocent_files_load(
    settings: Settings,
) -> None:
    """Three files in flight in two workers; the middle one kills its worker."""
    _good(settings.inbox / "a.xlsx", payee="甲")
    _big_grid(settings.inbox / "b-big.xlsx")
    _good(settings.inbox / "c.xlsx", payee="丙")
    limits = Limits(stable_seconds=0.1, max_worker_memory=300 * MiB)
    summary = ingest_files(settings, limits=limits, workers=2)
    by_name = {f.file: (f.status, f.reason_code) for f in summary.files}
    assert by_name == {
        "a.xlsx": ("loaded", None),
        "b-big.xlsx": ("quarantined", "resource_limit"),
        "c.xlsx": ("loaded", None),
    }


# ------------------------------------------------------------------ 3. snapshots


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_file_is_parsed_from_a_snapshot_that_is_removed(
    settings: Settings, query: Any
) -> None:
    good = _good(settings.inbox / "good.xlsx")
    bad = settings.inbox / "bad.xlsx"
    bad.write_bytes(b"")
    summary = ingest_files(settings, limits=FAST)
    _assert_isolated(summary, "bad.xlsx", "empty_file")
    assert query("select file_hash from raw.load_log where file_name = 'good.xlsx'") == [
        (_sha(good),)
    ]
    assert list(settings.staging.iterdir()) == []  # every snapshot removed


def test_a_file_still_being_written_is_left_for_the_next_run(
    settings: Settings, tmp_path: Path
) -> None:
    data = _good(tmp_path / "whole.xlsx", payee="乙").read_bytes()
    growing = settings.inbox / "growing.xlsx"
    _good(settings.inbox / "good.xlsx")
    growing.write_bytes(data[:100])
    done = threading.Event()

    def write_slowly() -> None:
        with growing.open("ab") as fh:
            for i in range(100, len(data), max(1, len(data) // 20)):
                time.sleep(0.1)
                fh.write(data[i : i + max(1, len(data) // 20)])
                fh.flush()
        done.set()

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        summary = ingest_files(settings, limits=Limits(stable_seconds=0.5))
    finally:
        writer.join()
    assert done.is_set()
    by_name = {f.file: f.status for f in summary.files}
    assert by_name == {"good.xlsx": "loaded", "growing.xlsx": "skipped_unstable"}
    assert summary.files_skipped_unstable == 1
    assert summary.to_dict()["files_skipped_unstable"] == 1
    assert _log(settings, "growing.xlsx") == []  # not logged: not seen, not quarantined
    assert not any(settings.quarantine.iterdir())
    assert growing.read_bytes() == data

    # a recent mtime alone (a writer that paused) is also left alone
    future = time.time() + 30
    os.utime(growing, (future, future))
    later = ingest_files(settings, limits=Limits(stable_seconds=0.3))
    assert {f.file: f.status for f in later.files}["growing.xlsx"] == "skipped_unstable"

    past = time.time() - 60
    os.utime(growing, (past, past))
    nxt = ingest_files(settings, limits=Limits(stable_seconds=0.3))
    assert {f.file: f.status for f in nxt.files} == {
        "good.xlsx": "skipped_unchanged",
        "growing.xlsx": "loaded",
    }


# ------------------------------------------------------------------ 4. symlinks, FIFOs


def test_symlinks_and_fifos_are_logged_never_followed(
    settings: Settings, tmp_path: Path, query: Any, alarm: None
) -> None:
    secret = _good(tmp_path / "outside.xlsx", payee="机密")
    link = settings.inbox / "link.xlsx"
    link.symlink_to(secret)
    fifo = settings.inbox / "pipe.xlsx"
    os.mkfifo(fifo)
    _good(settings.inbox / "good.xlsx")

    assert {p.name for p in discover(settings)} == {"link.xlsx", "pipe.xlsx", "good.xlsx"}
    summary = ingest_files(settings, limits=FAST)

    result = _assert_isolated(summary, "link.xlsx", "symlink")
    assert result.quarantine_path is None and "符号链接" in (result.message_zh or "")
    piped = _assert_isolated(summary, "pipe.xlsx", "unreadable_file")
    assert piped.quarantine_path is None and "不是普通文件" in (piped.message_zh or "")
    assert not any(settings.quarantine.iterdir())  # nothing copied, the target never read
    assert query("select payee from raw.payments") == [("甲",)]
    assert [r[:2] for r in _log(settings, "link.xlsx")] == [("quarantined", "symlink")]
    # logged once, not every night
    again = ingest_files(settings, limits=FAST)
    assert {f.file: f.status for f in again.files} == {
        "link.xlsx": "skipped_unchanged",
        "pipe.xlsx": "skipped_unchanged",
        "good.xlsx": "skipped_unchanged",
    }


def test_when_workers_cannot_start_the_run_parses_in_process_and_says_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(loader_mod._Pool, "started", lambda self, timeout=0.0: False)
    _good(settings.inbox / "good.xlsx")
    (settings.inbox / "bad.xlsx").write_text("项目编码,金额\n", encoding="utf-8")
    summary = ingest_files(settings, limits=FAST)
    _assert_isolated(summary, "bad.xlsx", "csv_file")
    assert "isolated parse workers could not start" in caplog.text
