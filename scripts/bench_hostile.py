"""Benchmark: peak memory and time of every hostile-corpus case (问题文件语料的内存与耗时).

For each case of :data:`jixiao.samples.bad_inputs.CASES`, a fresh subprocess writes the case
and one good ledger into a fresh home and ingests them as the nightly does (``ingest_files``
with its default isolated workers; a second ingest for cases that need a second night; the
still-growing case keeps growing during the first). The parent reaps it with ``os.wait4`` and
reads its peak RSS (``ru_maxrss``: the largest process among the child and the descendants it
reaped; the child adds its own ``RUSAGE_SELF`` / ``RUSAGE_CHILDREN``), and also samples the
RSS of the whole process tree every 50 ms (workers included, reaped or not). It writes one
table (case, expected and seen outcome, peak RSS MiB, tree peak MiB, seconds) with the
machine, versions, load average and date, and exits 1 if any case reaches 1 GiB.

    flock /tmp/jixiao-heavy.lock .venv/bin/python scripts/bench_hostile.py [--out FILE] [CASE ...]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

LIMIT_MIB = 1024
_RESULT = "BENCH_RESULT "


# ------------------------------------------------------------------ one case (the child)
def run_one(name: str, home: Path) -> dict[str, Any]:
    """Ingest case ``name`` with one good ledger in ``home``; return what happened."""
    import resource

    from jixiao.config import get_settings
    from jixiao.ingest.loader import ingest_files
    from jixiao.ingest.security import DEFAULT_LIMITS
    from jixiao.samples import bad_inputs as bi

    settings = get_settings(home).ensure()
    case = bi.CASES[name]
    good = bi._ledger(settings.inbox / "基准_正常台账.xlsx", "HC-BENCH-GOOD")
    files = case.write(settings.inbox)
    wait = getattr(DEFAULT_LIMITS, "stable_seconds", 0.0) + 0.5
    time.sleep(wait)  # fresh files are "still being written" until they are this old
    stop = threading.Event()
    grower = None
    if name == "still_growing":
        grower = threading.Thread(target=bi.grow, args=(files[-1], stop), daemon=True)
        grower.start()
    seconds = 0.0
    t0 = time.perf_counter()
    summaries = [ingest_files(settings)]
    seconds += time.perf_counter() - t0
    stop.set()
    if grower is not None:
        grower.join()
        bi.finish_growing(files[-1])
    if case.nights == 2:
        if case.second_night is not None:
            files = case.second_night(settings.inbox)
            time.sleep(wait)
        t0 = time.perf_counter()
        summaries.append(ingest_files(settings))
        seconds += time.perf_counter() - t0
    subject = files[-1].name
    seen = []
    for i, summary in enumerate(summaries, start=1):
        for f in summary.files:
            if f.file == good.name and f.status == "loaded":
                continue
            if f.status == "skipped_unchanged":
                continue
            label = f.status + (f"({f.reason_code})" if f.reason_code else "")
            if f.status == "loaded":
                label += f"[{f.rows_loaded}+{f.rows_rejected}r]"
            mark = "" if f.file == subject else f"{f.file}: "
            seen.append(f"n{i} {mark}{label}" if case.nights == 2 else mark + label)
    good_ok = any(f.file == good.name and f.status == "loaded" for f in summaries[0].files)
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seen": "; ".join(seen) or "(nothing logged)",
        "good_loaded": good_ok,
        "seconds": round(seconds, 2),
        "self_kib": self_kib,
        "children_kib": kids_kib,
    }


def _expected(name: str) -> str:
    from jixiao.samples.bad_inputs import CASES

    e = CASES[name].expect
    if e.outcome == "quarantined":
        return f"quarantined({e.reason_code})"
    if e.outcome == "rows_rejected":
        return "rows_rejected(" + ", ".join(f"{c}x{n}" for c, n in e.rejected) + ")"
    return e.outcome + (f"({e.flag})" if e.flag else "")


# ------------------------------------------------------------------ the parent
def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def measure(name: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_hostile_") as tmp:
        out = Path(tmp) / "out.txt"
        with out.open("w") as fh:
            child = subprocess.Popen(
                [sys.executable, __file__, "--one", name, "--home", str(Path(tmp) / "home")],
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        proc = psutil.Process(child.pid)
        peak_tree = 0
        t0 = time.perf_counter()
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid == child.pid:
                break
            peak_tree = max(peak_tree, _tree_rss(proc))
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        text = out.read_text(errors="replace")
    lines = [ln for ln in text.splitlines() if ln.startswith(_RESULT)]
    row: dict[str, Any] = {"case": name, "expected": _expected(name), "wall": round(wall, 1)}
    if not lines:
        row.update(seen=f"CRASHED (exit {child.returncode}): {text[-300:]!r}", good_loaded=False)
        row.update(seconds=None, self_kib=0, children_kib=0)
    else:
        row.update(json.loads(lines[-1].removeprefix(_RESULT)))
    row["tree_mib"] = round(peak_tree / 2**20, 1)
    row["peak_mib"] = round(max(row["self_kib"], row["children_kib"], usage.ru_maxrss) / 1024, 1)
    return row


def _machine() -> list[str]:
    mem = psutil.virtual_memory().total / 2**30
    names = ("duckdb", "python-calamine", "pyarrow", "openpyxl", "apache-airflow", "dbt-duckdb")
    versions = []
    for pkg in names:
        with contextlib.suppress(PackageNotFoundError):  # an absent package is not listed
            versions.append(f"{pkg} {version(pkg)}")
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs "
        f"({len(os.sched_getaffinity(0))} usable), {mem:.1f} GiB RAM",
        f"- Python {platform.python_version()}; " + ", ".join(versions),
        "- load average at start: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    ap.add_argument("--out", type=Path, help="also write the table to this file")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(_RESULT + json.dumps(run_one(args.one, args.home)), flush=True)
        return 0

    from jixiao.samples.bad_inputs import CASES

    names = args.cases or [n for n, c in CASES.items() if c.skip() is None]
    skipped = [(n, c.skip()) for n, c in CASES.items() if c.skip() is not None]
    head = _machine()
    rows = []
    for name in names:
        row = measure(name)
        rows.append(row)
        print(
            f"{name:28s} {row['peak_mib']:8.1f} MiB {row['tree_mib']:8.1f} MiB "
            f"{row['seconds']} s  {row['seen']}",
            flush=True,
        )
    head.append("- load average at end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))
    table = [
        "| case | expected | seen (ingest with one good file) | good file | peak RSS MiB "
        "| tree peak MiB | ingest s |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        seen = str(r["seen"]).replace("|", "\\|")
        table.append(
            f"| {r['case']} | {r['expected']} | {seen} | "
            f"{'loaded' if r['good_loaded'] else 'NOT loaded'} | {r['peak_mib']} | "
            f"{r['tree_mib']} | {r['seconds']} |"
        )
    over = [r["case"] for r in rows if max(r["peak_mib"], r["tree_mib"]) >= LIMIT_MIB]
    tail = [
        "",
        f"Cases: {len(rows)} measured; largest peak RSS "
        f"{max((r['peak_mib'] for r in rows), default=0)} MiB, largest tree peak "
        f"{max((r['tree_mib'] for r in rows), default=0)} MiB; "
        + (f"OVER {LIMIT_MIB} MiB: {', '.join(over)}" if over else f"all below {LIMIT_MIB} MiB"),
    ]
    tail += [f"Skipped: {n}: {why}" for n, why in skipped]
    text = "\n".join([*head, "", *table, *tail]) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
