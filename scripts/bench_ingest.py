"""Benchmark: python-calamine raw read vs full jixiao ingest (载入性能基准).

Writes N payment-ledger workbooks of R rows (default 100 x 2,000), then times
(1) calamine reading every cell of every sheet, (2) ``ingest_files`` into a fresh DuckDB
(security scan + read + parse + Arrow insert, one transaction per file), once per pool size
in ``--workers`` (default: one isolated worker, then what ``ingest_files`` picks; 0 is
in-process), each into its own warehouse.

    .venv/bin/python scripts/bench_ingest.py [--files 100] [--rows 2000] [--workers 1,auto]
        [--profile]

``--profile`` adds one more in-process ingest (into its own warehouse) and prints its time
per file split into scan (``check_file``: sniff, zip/XML safety scan), read (``read_workbook``:
calamine), parse (the rest of ``prepare_file``: layouts, values, Arrow) and write (the rest of
``ingest_files``: snapshots, DuckDB), then the top of cProfile for an ingest of 20 files.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import random
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import python_calamine

from jixiao.config import get_settings
from jixiao.ingest.loader import ingest_files
from jixiao.ingest.security import Limits

HEADER = [
    "项目编码",
    "年度",
    "支付日期",
    "支付金额（万元）",
    "资金来源",
    "收款单位",
    "凭证号",
    "摘要",
    "支出类别",
]
CATEGORIES = ["基础设施", "营商环境", "政务服务", "民生保障", "社会治理", "政府协同和部门管理"]


def write_workbooks(folder: Path, files: int, rows: int, seed: int = 7) -> list[Path]:
    """``files`` workbooks of ``rows`` payments each (write_only openpyxl, deterministic)."""
    rng = random.Random(seed)  # noqa: S311
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("支付")
        ws.append(HEADER)
        for j in range(rows):
            ws.append(
                [
                    f"P{i:03d}-{j % 20:02d}",
                    2023,
                    f"2023-{1 + j % 12:02d}-{1 + j % 28:02d}",
                    rng.randint(1, 10_000_00) / 100,
                    rng.choice(["当年财政拨款", "上年结转资金"]),
                    f"收款单位{j % 50}",
                    f"记-{i}-{j}",
                    "运维服务费",
                    rng.choice(CATEGORIES),
                ]
            )
        path = folder / f"payments_{i:03d}.xlsx"
        wb.save(path)
        paths.append(path)
    return paths


def calamine_read(paths: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds of calamine reading every cell of every sheet (the floor)."""
    cpu, start = _cpu(), time.perf_counter()
    cells = 0
    for p in paths:
        wb = python_calamine.CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            for row in wb.get_sheet_by_name(name).to_python():
                cells += len(row)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    print(f"calamine raw read: {elapsed:.2f} s, {cpu:.2f} CPU s ({cells} cells)")
    return elapsed, cpu


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (pool workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def full_ingest(paths: list[Path], home: Path, workers: int | None) -> float:
    settings = get_settings(home).ensure()
    cpu, start = _cpu(), time.perf_counter()
    # no settle wait: the benchmark's files are complete; the wait is a fixed 2 s, not reading
    summary = ingest_files(settings, paths, workers=workers, limits=Limits(stable_seconds=0))
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        row = con.execute("select count(*) from raw.payments").fetchone()
    label = "auto" if workers is None else str(workers)
    n = row[0] if row else 0
    print(
        f"full ingest, workers={label}: {elapsed:.2f} s, {cpu:.2f} CPU s "
        f"({summary.files_loaded} files, {n} rows)"
    )
    return elapsed


def profiled_ingest(paths: list[Path], home: Path, top: int = 25, profiled: int = 20) -> None:
    """Per-stage times of one in-process ingest, then cProfile of another (``--profile``).

    The stage split comes from a run without the profiler (cProfile inflates Python-heavy
    stages such as the parse two- to three-fold); the profile is of a second ingest of the
    first ``profiled`` files into a fresh warehouse.
    """
    from jixiao.ingest import loader, prepare

    spent = {"scan": 0.0, "read": 0.0, "prepare": 0.0}

    def timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - start

        return wrapper

    originals = (prepare.check_file, prepare.read_workbook, loader.prepare_file)
    prepare.check_file = timed("scan", prepare.check_file)
    prepare.read_workbook = timed("read", prepare.read_workbook)
    loader.prepare_file = timed("prepare", loader.prepare_file)
    start = time.perf_counter()
    try:
        settings = get_settings(home / "timed").ensure()
        ingest_files(settings, paths, workers=0, limits=Limits(stable_seconds=0))
    finally:
        prepare.check_file, prepare.read_workbook, loader.prepare_file = originals
    total = time.perf_counter() - start
    n = max(len(paths), 1)
    parse = spent["prepare"] - spent["scan"] - spent["read"]
    write = total - spent["prepare"]
    print(
        f"stages (in-process, ms per file): scan {spent['scan'] / n * 1e3:.1f}"
        f" | read {spent['read'] / n * 1e3:.1f} | parse {parse / n * 1e3:.1f}"
        f" | write {write / n * 1e3:.1f} | total {total / n * 1e3:.1f}"
    )
    settings = get_settings(home / "profiled").ensure()
    profiler = cProfile.Profile()
    profiler.enable()
    ingest_files(settings, paths[:profiled], workers=0, limits=Limits(stable_seconds=0))
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(f"cProfile of an in-process ingest of {min(profiled, len(paths))} files:")
    print(out.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument(
        "--workers",
        default="1,auto",
        help="comma-separated pool sizes to time: 0 = in-process, N = N isolated workers, "
        "auto = what ingest_files picks",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="one more in-process ingest: scan/read/parse/write per file, then cProfile",
    )
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    paths = write_workbooks(work / "inbox", args.files, args.rows)
    print(
        f"{platform.platform()} | Python {platform.python_version()} | "
        f"duckdb {duckdb.__version__} | python-calamine {version('python-calamine')}"
    )
    import pyarrow

    # Process start-up is not ingest cost: pyarrow imports pandas lazily on its first
    # conversion from Python objects (~0.3 s once per process), so trigger it here.
    pyarrow.array([1])

    raw, _raw_cpu = calamine_read(paths)
    for w in args.workers.split(","):
        workers = None if w == "auto" else int(w)
        full = full_ingest(paths, work / f"home-{w}", workers)
        print(f"ratio full/raw (workers={w}): {full / raw:.2f}x")
    if args.profile:
        profiled_ingest(paths, work / "home-profile")
    if not args.workdir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
