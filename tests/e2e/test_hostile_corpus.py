"""The hostile corpus (问题文件语料) through the real nightly DAG, mixed with the demo's good files.

ALL cases of :data:`jixiao.samples.bad_inputs.CASES` and the five demo workbooks go into one
inbox; ``jixiao_nightly`` runs once through Airflow (``dag.test``), then a second time for the
cases that need a second night (an older resubmission arriving later, a file that was still
being written). Each case is its own test reading the one shared pair of runs, and asserts
the outcome its registry entry derives from the case itself: a byte-identical quarantine copy
with the reason code and an actionable bilingual message, or the exact rejected rows, or the
rows loaded; the DAG runs never abort; every good file loads as it does alone; and
rows_read = rows_loaded + rows_rejected for every file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao.config import Settings, get_settings
from jixiao.ingest.loader import DATA_TABLES, ingest_files
from jixiao.samples.bad_inputs import (
    CASES,
    Case,
    case_code,
    finish_growing,
    grow,
    write_corpus,
)
from jixiao.samples.demo import build_demo_inbox
from tests.e2e.conftest import AirflowRig

# two nights of ~80 files through Airflow, dbt and both gates: more than the 900 s default
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(3600)]

#: raw English exception text inside a Chinese message: a Python exception name, a
#: traceback or an errno anywhere ...
_EXCEPTION_NAME = re.compile(r"Traceback|Errno|errno|\b[A-Z]\w*(?:Error|Exception)\b")
#: ... or four ASCII words in a row ("File is not a zip file") outside the closing bilingual
#: gloss of the expectation ("应为：不小于 0 的金额 / an amount of 0 or more ...")
_ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,']+[A-Za-z]+){3,}\b")  # (codes use "-")
_GLOSS = re.compile(r"\s?/ [A-Za-z].*$", re.DOTALL)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode) and os.access(path, os.R_OK)
    except OSError:
        return False


@dataclass
class Night:
    """What one run left behind (一晚的结果)."""

    result: dict[str, Any]
    load_log: list[dict[str, Any]]
    rejected: dict[str, dict[str, int]]  # file_hash -> reason_code -> rows
    data_rows: dict[str, int]  # file_hash -> rows in the raw data tables
    flags: list[tuple[str, str]] = field(default_factory=list)  # (project_key, flag_code)
    spent: dict[str, Decimal] = field(default_factory=dict)  # project_key -> spent_yuan


@dataclass
class CorpusRun:
    settings: Settings
    files: dict[str, list[Path]]  # case -> the files it wrote for night 1
    second: dict[str, list[Path]]  # case -> the files it wrote for night 2
    digest: dict[Path, str]  # regular files -> sha256 of the bytes written
    demo: list[Path]
    alone: dict[str, tuple[int, int]]  # demo file -> (rows_loaded, rows_rejected) alone
    nights: list[Night]


def _snapshot(settings: Settings, result: dict[str, Any]) -> Night:
    if not settings.warehouse.exists():  # the run died before ingest wrote anything
        return Night(result, [], {}, {})
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        cur = con.execute("select * from raw.load_log")
        cols = [d[0] for d in cur.description]
        log = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        rejected: dict[str, dict[str, int]] = {}
        for h, code, n in con.execute(
            "select file_hash, reason_code, count(*) from raw.rejected_rows group by all"
        ).fetchall():
            rejected.setdefault(h, {})[code] = n
        data_rows: dict[str, int] = {}
        for table in DATA_TABLES:
            for h, n in con.execute(
                f"select file_hash, count(*) from raw.{table} group by all"
            ).fetchall():
                data_rows[h] = data_rows.get(h, 0) + n
    finally:
        con.close()
    night = Night(result, log, rejected, data_rows)
    if settings.published.exists():
        pub = duckdb.connect(str(settings.published), read_only=True)
        try:
            night.flags = [
                (str(k), str(c))
                for k, c in pub.execute(
                    "select project_key, flag_code from marts.mart_review_flags"
                ).fetchall()
            ]
            night.spent = {
                str(k): Decimal(str(v))
                for k, v in pub.execute(
                    "select project_key, sum(spent_yuan) from marts.mart_project_year "
                    "where fiscal_year = 2023 group by all"
                ).fetchall()
                if v is not None
            }
        finally:
            pub.close()
    return night


def _selected() -> list[str]:
    """All cases; a diagnostic run may leave some out with JIXIAO_CORPUS_EXCEPT=a,b (their
    tests then skip and say so). The suite and the lead's runs use every case."""
    left_out = {n for n in os.environ.get("JIXIAO_CORPUS_EXCEPT", "").split(",") if n}
    unknown = left_out - set(CASES)
    assert not unknown, f"unknown cases in JIXIAO_CORPUS_EXCEPT: {sorted(unknown)}"
    return [n for n in CASES if n not in left_out]


def _digests(paths: list[Path]) -> dict[Path, str]:
    return {p: _sha(p) for p in paths if _regular(p)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, airflow_home: Path) -> CorpusRun:
    # the good files alone: what each must load in the mixed run too
    baseline = get_settings(tmp_path_factory.mktemp("alone")).ensure()
    build_demo_inbox(baseline.inbox)
    alone = {
        f.file: (f.rows_loaded, f.rows_rejected) for f in ingest_files(baseline, workers=0).files
    }

    settings = get_settings(tmp_path_factory.mktemp("hostile") / "home").ensure()
    rig = AirflowRig(settings=settings, airflow_home=airflow_home)
    demo = build_demo_inbox(settings.inbox)
    files = write_corpus(settings.inbox, _selected())
    digest = _digests(demo + [p for ps in files.values() for p in ps])

    growing = [p for name, ps in files.items() if name == "still_growing" for p in ps]
    stop = threading.Event()
    growers = [threading.Thread(target=grow, args=(p, stop), daemon=True) for p in growing]
    for t in growers:
        t.start()
    try:
        # the nightly's own settle time (the suite's conftest shortens it): a file growing a
        # byte every 0.5 s must never look stable
        first = rig.run("jixiao_nightly", JIXIAO_STABLE_SECONDS="2")
    finally:
        stop.set()
        for t in growers:
            t.join()
    nights = [_snapshot(settings, first)]

    for p in growing:
        finish_growing(p)
    second: dict[str, list[Path]] = {}
    for name, case in CASES.items():
        if case.second_night is not None and name in files:
            second[name] = case.second_night(settings.inbox)
    digest.update(_digests(growing + [p for ps in second.values() for p in ps]))
    if any(CASES[name].nights == 2 for name in files):
        nights.append(_snapshot(settings, rig.run("jixiao_nightly")))
    return CorpusRun(settings, files, second, digest, demo, alone, nights)


# ------------------------------------------------------------------ helpers
def _entries(night: Night, run: CorpusRun, path: Path) -> list[dict[str, Any]]:
    """The load_log rows that decided ``path`` (loaded or quarantined) in ``night``."""
    h = run.digest.get(path)
    rows = [r for r in night.load_log if r["status"] in ("loaded", "quarantined")]
    if h is not None:
        return [r for r in rows if r["file_hash"] == h]
    return [r for r in rows if r["file_name"] == path.name]


def _entry(night: Night, run: CorpusRun, path: Path) -> dict[str, Any]:
    rows = _entries(night, run, path)
    assert len(rows) == 1, f"{path.name}: expected one loaded/quarantined entry, got {rows}"
    return rows[0]


def _check_message(zh: str | None, en: str | None, where: str) -> None:
    assert zh and en, f"{where}: message_zh / message_en missing ({zh!r}, {en!r})"
    bad = _EXCEPTION_NAME.search(zh) or _ENGLISH_RUN.search(_GLOSS.sub("", zh))
    assert bad is None, f"{where}: English exception text {bad.group(0)!r} in message_zh {zh!r}"


def _check_quarantined(case: Case, run: CorpusRun, night: Night, path: Path) -> None:
    e = case.expect
    entry = _entry(night, run, path)
    assert (entry["status"], entry["reason_code"]) == ("quarantined", e.reason_code), entry
    assert entry["rows_loaded"] == 0
    zh, en = entry["message_zh"], entry["message_en"]
    _check_message(zh, en, case.name)
    for s in e.message_zh_has:
        assert s in zh, f"{case.name}: {s!r} not in message_zh {zh!r}"
    for s in e.message_en_has:
        assert s in en, f"{case.name}: {s!r} not in message_en {en!r}"
    for s in e.message_en_not:
        assert s not in en and s not in zh, f"{case.name}: unhelpful {s!r} in {en!r}"
    quarantine = run.settings.quarantine
    if e.copy:
        h = run.digest[path]
        assert night.data_rows.get(h, 0) == 0, f"{case.name}: data rows loaded from a quarantine"
        folder = quarantine / h
        copies = [p for p in folder.iterdir() if p.name != "reason.json"]
        assert len(copies) == 1, copies
        assert os.fsencode(copies[0].name) == os.fsencode(path.name)
        assert _sha(copies[0]) == h, f"{case.name}: the quarantine copy differs from the input"
        why = json.loads((folder / "reason.json").read_text(encoding="utf-8"))
        assert why["reason_code"] == e.reason_code
        assert (why["message_zh"], why["message_en"]) == (zh, en)
        assert why["expected"], f"{case.name}: reason.json says nothing about what was expected"
        if e.sheet is not None:
            assert why["sheet"] == e.sheet, why
        if e.cell is not None:
            assert why["cell"] == e.cell, why
    else:
        # nothing read, nothing copied: no quarantined file is a link or holds a target's bytes
        targets = {
            _sha(p) for p in path.parent.parent.glob(path.parent.name + "_outside/*") if _regular(p)
        }
        for p in quarantine.rglob("*"):
            assert not p.is_symlink(), f"{case.name}: a link was copied into quarantine: {p}"
            if p.is_file():
                assert _sha(p) not in targets, f"{case.name}: the link's target was copied: {p}"


def _check_loaded(case: Case, run: CorpusRun, night: Night, path: Path) -> dict[str, Any]:
    e = case.expect
    entry = _entry(night, run, path)
    assert entry["status"] == "loaded", entry
    assert entry["rows_loaded"] == e.rows_loaded, entry
    h = entry["file_hash"]
    want = dict(e.rejected)
    assert night.rejected.get(h, {}) == want, f"{case.name}: rejected rows by reason"
    assert entry["rows_rejected"] == sum(want.values()), entry
    return entry


def _check_companions(case: Case, run: CorpusRun) -> None:
    for p in run.files[case.name][:-1] if case.second_night is None else run.files[case.name]:
        entry = _entry(run.nights[0], run, p)
        assert entry["status"] == "loaded" and entry["rows_rejected"] == 0, entry


# ------------------------------------------------------------------ the tests
def test_both_nights_succeed(corpus: CorpusRun) -> None:
    """0 runs aborted: every task of every night succeeded."""
    for i, night in enumerate(corpus.nights, start=1):
        assert night.result["state"] == "success", (i, night.result["log"][-6000:])
        assert all(s == "success" for s in night.result["tasks"].values()), (
            i,
            night.result["tasks"],
        )


def test_good_files_load_as_they_do_alone(corpus: CorpusRun) -> None:
    assert len(corpus.alone) == len(corpus.demo) == 5
    for path in corpus.demo:
        entry = _entry(corpus.nights[0], corpus, path)
        assert entry["status"] == "loaded", entry
        assert (entry["rows_loaded"], entry["rows_rejected"]) == corpus.alone[path.name], path.name


def test_rows_read_balance_for_every_file(corpus: CorpusRun) -> None:
    for night in corpus.nights:
        for r in night.load_log:
            assert r["rows_read"] == r["rows_loaded"] + r["rows_rejected"], r
            got = sum(night.rejected.get(r["file_hash"], {}).values())
            if r["status"] == "loaded":
                assert r["rows_rejected"] == got, r


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", list(CASES))
def test_case(name: str, corpus: CorpusRun) -> None:
    case = CASES[name]
    why = case.skip()
    if why is not None:
        pytest.skip(why)
    if name not in corpus.files:
        pytest.skip(f"{name} left out of this run by JIXIAO_CORPUS_EXCEPT")
    e = case.expect
    _check_companions(case, corpus)
    if case.second_night is not None:
        subject, night = corpus.second[name][-1], corpus.nights[e.night - 1]
    else:
        subject, night = corpus.files[name][-1], corpus.nights[e.night - 1]

    if e.outcome == "quarantined":
        _check_quarantined(case, corpus, night, subject)
    elif e.outcome in ("rows_rejected", "loaded"):
        _check_loaded(case, corpus, night, subject)
    elif e.outcome == "loaded_with_flag":
        entry = _check_loaded(case, corpus, night, subject)
        assert e.flag is not None
        kind, _, what = e.flag.partition(":")
        if kind == "sheet_ignored":
            ignored = json.loads(entry["sheets_ignored"] or "[]")
            assert any(i.get("sheet") == what for i in ignored), ignored
        else:
            assert kind == "review_flag", e.flag
            code = case_code(name)
            assert (code, what) in night.flags, f"{name}: no {what} flag for {code}"
            if e.spent_yuan is not None:
                assert night.spent.get(code) == e.spent_yuan, night.spent.get(code)
    else:
        assert e.outcome == "skipped_unstable"
        first = corpus.nights[0]
        rows = [r for r in first.load_log if r["file_name"] == subject.name]
        assert all(r["status"] == "skipped_unstable" for r in rows), rows
        assert not list(corpus.settings.quarantine.rglob(subject.name)), "quarantined"
        _check_loaded(case, corpus, corpus.nights[1], subject)

    if e.outcome != "quarantined":
        entry = _entry(
            night if e.outcome != "skipped_unstable" else corpus.nights[1], corpus, subject
        )
        for r in _rejected_messages(corpus, entry["file_hash"]):
            _check_message(r[0], r[1], f"{name} row {r[2]}")


def _rejected_messages(run: CorpusRun, file_hash: str) -> list[tuple[str, str, int]]:
    con = duckdb.connect(str(run.settings.warehouse), read_only=True)
    try:
        rows = con.execute(
            "select message_zh, message_en, row_number from raw.rejected_rows where file_hash = ?",
            [file_hash],
        ).fetchall()
    finally:
        con.close()
    return [(str(a), str(b), int(c)) for a, b, c in rows]
