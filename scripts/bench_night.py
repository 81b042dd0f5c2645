"""Benchmark: what a night costs, stage by stage, at a share of a province-year (夜间运行基准).

A *province-year* here is 10,000 project self-evaluations: 834 departments x 12 projects of the
seeded realistic mix (:func:`jixiao.samples.synth.generate`: per department a payment ledger,
a 项目支出绩效自评表 workbook and a 指标评分表 workbook; 20 indicators and 100 payments per
project), 2,502 workbooks. ``--shares 1,5`` runs 1% and 5% of it (9 and 42 departments).

For each share, in a fresh ``JIXIAO_HOME``:

1. the floor: python-calamine reading every cell of every sheet of the same files;
2. night 1 (everything new), night 2 (nothing new) and night 3 (1% of the files resubmitted
   as corrected versions, at least one file): each stage of the nightly DAG runs in its own
   process, as Airflow runs a task (``pipeline.discover`` + ``ingest``, ``plan_night``,
   ``gate_raw``, ``dbt_build``, ``gate_marts``, ``publish``, ``quality_report``); a stage
   ``plan_night`` skips is not run, as the DAG's short-circuit does.

Per stage it prints wall seconds, CPU seconds (the process and what it waited for) and peak
RSS, the ingest's CPU as a ratio to the floor, and each night's total as a share of night 1.

    .venv/bin/python scripts/bench_night.py [--shares 1,5] [--workdir DIR] [--keep]
        [--stage-rss-limit-gib 2] [--raw RAW.duckdb [--scale-raw 20]]

``--raw`` also runs the stages after ingest (raw gate, dbt build, marts gate, publish) on a copy
of a given raw warehouse, e.g. a whole province-year made by scaling a share's raw tables:
generating 2,500 workbooks takes longer than the night. ``--scale-raw 20`` makes that copy:
every raw row 20 times, each copy under its own file, submission, project and department keys.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

PROVINCE_PROJECTS = 10_000
PROJECTS_PER_DEPARTMENT = 12
INDICATORS = 20
PAYMENTS = 100
NIGHT_STAGES = (
    "ingest",
    "plan_night",
    "gate_raw",
    "dbt_build",
    "gate_marts",
    "publish",
    "quality_report",
)


# --------------------------------------------------------------------- one stage (child)
def run_stage(stage: str, home: Path, run_id: str) -> dict[str, Any]:
    """Run one stage of the nightly DAG the way its Airflow task does (一个阶段)."""
    from jixiao import pipeline
    from jixiao.config import get_settings

    s = get_settings(home)
    if stage == "ingest":
        paths = pipeline.discover(s)
        result = pipeline.ingest(paths, s, run_id)
        return {"discovered": len(paths), **{k: v for k, v in result.items() if isinstance(v, int)}}
    if stage == "plan_night":
        return pipeline.plan_night(s, run_id)
    if stage == "quality_report":
        return {"report": pipeline.quality_report(s, run_id)}
    result = getattr(pipeline, stage)(s, run_id=run_id)
    keep = ("success", "full_refresh", "seeds_reloaded", "years_changed", "published")
    return {k: result[k] for k in keep if isinstance(result, dict) and k in result}


# --------------------------------------------------------------------- the parent
def child(stage: str, home: Path, run_id: str) -> dict[str, Any]:
    """Run ``stage`` in a child process: its wall, CPU and peak RSS (from os.wait4)."""
    env = {**os.environ, "JIXIAO_HOME": str(home), "JIXIAO_STABLE_SECONDS": "0"}
    cmd = [sys.executable, __file__, "--stage", stage, "--home", str(home), "--run-id", run_id]
    out_path = home.parent / f".stage-{run_id}-{stage}.out"
    start = time.perf_counter()
    with out_path.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = out_path.read_text(encoding="utf-8", errors="replace")
    line = [x for x in text.splitlines() if x.startswith("STAGE_RESULT ")]
    return {
        "stage": stage,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,
        "returncode": proc.returncode,
        "result": json.loads(line[-1].split(" ", 1)[1]) if line else None,
        "tail": "" if proc.returncode == 0 else text[-3000:],
    }


def night(home: Path, run_id: str) -> list[dict[str, Any]]:
    """One night: every stage in its own process, skipping what plan_night skips."""
    rows = []
    skip = False
    for stage in NIGHT_STAGES:
        if skip and stage in ("gate_raw", "dbt_build", "gate_marts", "publish"):
            rows.append({"stage": stage, "skipped": True})
            continue
        row = child(stage, home, run_id)
        rows.append(row)
        if row["returncode"] != 0:
            print(f"  !! {stage} failed (exit {row['returncode']}):\n{row['tail']}", flush=True)
        if stage == "plan_night" and row["result"]:
            skip = bool(row["result"].get("nothing_to_do"))
    return rows


def resubmit(paths: list[Path], inbox: Path, share: float) -> list[Path]:
    """Resubmit ``share`` of the files as corrected versions (at least one) (重新报送).

    A ledger's first payment amount gains one yuan; a form or scoring table is saved again
    (a new file: new bytes, a later modified time). The corrected file replaces the original
    in the inbox under the same name, as a department re-uploading would.
    """
    import openpyxl

    count = max(1, math.ceil(len(paths) * share))
    picked = sorted(paths)[:: max(1, len(paths) // count)][:count]
    for p in picked:
        wb = openpyxl.load_workbook(p)
        changed = False
        for ws in wb.worksheets:
            if changed:
                break
            for row in ws.iter_rows(min_row=2, max_row=min(ws.max_row, 60)):
                cell = next(
                    (
                        c
                        for c in row
                        if isinstance(c.value, int | float)
                        and c.value > 1000
                        and not isinstance(c.value, bool)
                    ),
                    None,
                )
                if cell is not None and "支付" in ws.title:
                    cell.value = cell.value + 1
                    changed = True
                    break
        wb.save(inbox / p.name)
        later = time.time() + 60
        os.utime(inbox / p.name, (later, later))
    return picked


def calamine_floor(paths: list[Path]) -> tuple[float, float]:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_ingest import calamine_read

    return calamine_read(paths)


def fmt_night(label: str, rows: list[dict[str, Any]], floor_cpu: float) -> dict[str, float]:
    wall = sum(r.get("wall", 0.0) for r in rows)
    cpu = sum(r.get("cpu", 0.0) for r in rows)
    print(f"  {label}: total wall {wall:.1f} s, CPU {cpu:.1f} s")
    for r in rows:
        if r.get("skipped"):
            print(f"    {r['stage']:<15} skipped (nothing new)")
            continue
        extra = ""
        if r["stage"] == "ingest" and floor_cpu:
            extra = f"  ratio to calamine read {r['cpu'] / floor_cpu:.1f}x CPU"
        res = json.dumps(r.get("result"), ensure_ascii=False)[:140]
        print(
            f"    {r['stage']:<15} wall {r['wall']:6.1f} s  CPU {r['cpu']:6.1f} s  "
            f"peak RSS {r['rss_mib']:6.0f} MiB{extra}  {res}"
        )
    return {
        "wall": wall,
        "cpu": cpu,
        "max_rss": max((r.get("rss_mib", 0) for r in rows), default=0),
    }


def one_share(pct: float, work: Path, limit_gib: float) -> dict[str, Any]:
    from jixiao.samples.synth import generate

    departments = max(1, round(PROVINCE_PROJECTS * pct / 100 / PROJECTS_PER_DEPARTMENT))
    base = work / f"share-{pct:g}"
    if base.exists():
        shutil.rmtree(base)
    home = base / "home"
    (home / "inbox").mkdir(parents=True)
    files = generate(base / "files", departments, PROJECTS_PER_DEPARTMENT, INDICATORS, PAYMENTS)
    for p in files:
        shutil.copy2(p, home / "inbox" / p.name)
    print(
        f"\n== {pct:g}% of a province-year: {departments} departments, "
        f"{departments * PROJECTS_PER_DEPARTMENT} projects, {len(files)} workbooks",
        flush=True,
    )
    _, floor_cpu = calamine_floor(files)
    n1 = night(home, "bench_night_1")
    t1 = fmt_night("night 1, everything new", n1, floor_cpu)
    n2 = night(home, "bench_night_2")
    t2 = fmt_night("night 2, nothing new", n2, 0)
    picked = resubmit(files, home / "inbox", 0.01)
    n3 = night(home, "bench_night_3")
    t3 = fmt_night(f"night 3, {len(picked)} of {len(files)} files resubmitted", n3, 0)
    print(
        f"  night 2 = {t2['wall']:.1f} s wall ({100 * t2['wall'] / t1['wall']:.1f}% of night 1);"
        f" night 3 = {100 * t3['wall'] / t1['wall']:.1f}% of night 1 wall,"
        f" {100 * t3['cpu'] / t1['cpu']:.1f}% of its CPU"
    )
    worst = max(t1["max_rss"], t2["max_rss"], t3["max_rss"])
    print(
        f"  peak RSS of any stage: {worst:.0f} MiB (limit {limit_gib:g} GiB: "
        f"{'met' if worst < limit_gib * 1024 else 'NOT met'})"
    )
    failed = [r["stage"] for r in n1 + n2 + n3 if r.get("returncode", 0) != 0]
    return {"share": pct, "failed": failed, "nights": [t1, t2, t3]}


def resubmit_raw(warehouse: Path, share: float) -> int:
    """Resubmit ``share`` of the submissions in the raw tables as newer versions (原始层重报).

    What a night's ingest of corrected files writes: for each picked submission a new file
    (hash + "~v2") whose rows are the old ones with payments 1% higher, loaded a day later
    and filled in a day later, with its load_log entry. Returns the number picked.
    """
    import duckdb

    with duckdb.connect(str(warehouse)) as c:
        c.execute(
            "create temp table picked as select submission_id, file_hash from raw.submissions"
            f" where hash(submission_id) % 10000 < {int(share * 10000)}"
        )
        tables = [
            r[0]
            for r in c.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'raw' and table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        for t in tables:
            cols = [
                r[0]
                for r in c.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [t],
                ).fetchall()
            ]
            later = ("received_at", "loaded_at", "arrived_at", "document_modified_at")
            exprs = []
            for col in cols:
                if col in ("file_hash", "submission_id", "load_id"):
                    exprs.append(f"{col} || '~v2'")
                elif col in later:
                    exprs.append(f"{col} + interval 1 day")
                elif col == "document_filled_on":
                    exprs.append(f"{col} + 1")
                elif col == "amount_yuan" and t == "payments":
                    exprs.append(f"cast({col} * 1.01 as decimal(18, 2))")
                else:
                    exprs.append(col)
            if t == "load_log":
                where = "file_hash in (select file_hash from picked) and status = 'loaded'"
            elif "submission_id" in cols:
                where = "submission_id in (select submission_id from picked)"
            else:
                continue
            c.execute(f"insert into raw.{t} select {', '.join(exprs)} from raw.{t} where {where}")
        return int(c.execute("select count(*) from picked").fetchone()[0])  # type: ignore[index]


#: raw columns that identify a file, a submission, a project or a department: a scaled copy
#: gives each its own value, so copies neither supersede nor duplicate one another
SCALED_KEYS = (
    "load_id",
    "file_hash",
    "file_name",
    "submission_id",
    "project_key",
    "project_code",
    "parent_project_key",
    "department_name",
)


def scale_raw(src: Path, dst: Path, copies: int) -> dict[str, int]:
    """Write ``dst``: the raw tables of ``src`` ``copies`` times, copy ``i`` > 0 under keys
    suffixed ``-S<i>`` (原始层放大). A share's raw warehouse scaled 20x stands in for a whole
    province-year, whose workbooks take longer to generate than the night to load. Returns
    the row counts of the scaled payments, indicators and submissions."""
    import duckdb

    from jixiao.ingest.loader import ensure_raw_schema

    dst.unlink(missing_ok=True)
    with duckdb.connect(str(dst)) as con:
        ensure_raw_schema(con)
        con.execute(f"attach '{src}' as src (read_only)")
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'src'"
                " and schema_name = 'raw' order by 1"
            ).fetchall()
        ]
        for t in tables:
            cols = [
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'src'"
                    " and schema_name = 'raw' and table_name = ? order by column_index",
                    [t],
                ).fetchall()
            ]
            exprs = [
                f"case when copy.i = 0 or {c} is null then {c} else {c} || '-S' || copy.i end"
                if c in SCALED_KEYS
                else c
                for c in cols
            ]
            con.execute(
                f"insert into raw.{t} ({', '.join(cols)}) select {', '.join(exprs)}"
                f" from src.raw.{t}, range({int(copies)}) as copy(i)"
            )
        counts = {
            t: int(con.execute(f"select count(*) from raw.{t}").fetchone()[0])  # type: ignore[index]
            for t in ("payments", "indicators", "submissions")
        }
        con.execute("detach src")
    return counts


def from_raw(raw: Path, work: Path, limit_gib: float) -> dict[str, Any]:
    """The stages after ingest on a copy of a large raw warehouse (大规模原始层上的夜间阶段).

    Generating a whole province-year of workbooks takes longer than the night itself, so
    ``--raw`` takes a raw warehouse (for example one scaled by duplicating every submission
    under new keys) and runs a first night's stages after ingest on a copy, each in its own
    process: the gates', dbt's and publish's wall, CPU and peak RSS at that size.
    """
    import duckdb

    from jixiao.config import get_settings
    from jixiao.ingest.loader import ensure_raw_schema

    base = work / "from-raw"
    if base.exists():
        shutil.rmtree(base)
    settings = get_settings(base / "home").ensure()
    shutil.copy2(raw, settings.warehouse)
    with duckdb.connect(str(settings.warehouse)) as con:
        schemas = con.execute(
            "select distinct schema_name from information_schema.schemata"
            " where catalog_name = current_database()"
            " and schema_name not in ('raw', 'main', 'information_schema', 'pg_catalog')"
        ).fetchall()
        for (schema,) in schemas:  # a first night: nothing built yet
            con.execute(f'drop schema "{schema}" cascade')
        ensure_raw_schema(con)
        counts = {
            t: con.execute(f"select count(*) from raw.{t}").fetchone()[0]  # type: ignore[index]
            for t in ("submissions", "payments", "indicators", "budget_lines")
        }
    print(f"\n== stages after ingest on {raw}: {counts}", flush=True)
    rows = [
        child(stage, settings.home, "bench_raw_1")
        for stage in ("gate_raw", "dbt_build", "gate_marts", "publish")
    ]
    total = fmt_night("first night after ingest", rows, 0)
    picked = resubmit_raw(settings.warehouse, 0.01)
    again = [
        child(stage, settings.home, "bench_raw_2")
        for stage in ("plan_night", "gate_raw", "dbt_build", "gate_marts", "publish")
    ]
    second = fmt_night(f"night with {picked} submissions (1%) resubmitted in raw", again, 0)
    print(f"  that night = {100 * second['wall'] / total['wall']:.1f}% of the first night's wall")
    total["max_rss"] = max(total["max_rss"], second["max_rss"])
    rows += again
    print(
        f"  peak RSS of any stage: {total['max_rss']:.0f} MiB (limit {limit_gib:g} GiB: "
        f"{'met' if total['max_rss'] < limit_gib * 1024 else 'NOT met'})"
    )
    return {"share": "raw", "failed": [r["stage"] for r in rows if r["returncode"] != 0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shares", default="1,5", help="percent of a province-year, comma list")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--stage-rss-limit-gib", type=float, default=2.0)
    parser.add_argument(
        "--raw", type=Path, help="also run the stages after ingest on a copy of this raw warehouse"
    )
    parser.add_argument(
        "--scale-raw",
        type=int,
        default=1,
        help="with --raw: first scale its raw tables this many times under new keys",
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--run-id", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        result = run_stage(args.stage, args.home, args.run_id)
        print("STAGE_RESULT " + json.dumps(result, ensure_ascii=False, default=str), flush=True)
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="jixiao-bench-night-"))
    print(
        f"machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}; "
        f"Python {platform.python_version()}, duckdb {version('duckdb')}, "
        f"dbt-core {version('dbt-core')}, great_expectations {version('great_expectations')}, "
        f"python-calamine {version('python-calamine')}"
    )
    print(
        f"date {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    summaries = [
        one_share(float(x), work, args.stage_rss_limit_gib)
        for x in args.shares.split(",")
        if x.strip()
    ]
    if args.raw:
        raw = args.raw
        if args.scale_raw > 1:
            work.mkdir(parents=True, exist_ok=True)
            raw = work / f"raw-x{args.scale_raw}.duckdb"
            started = time.monotonic()
            counts = scale_raw(args.raw, raw, args.scale_raw)
            took = time.monotonic() - started
            print(f"scaled {args.raw} x{args.scale_raw}: {counts} in {took:.0f} s")
        summaries.append(from_raw(raw, work, args.stage_rss_limit_gib))
    print("\nload average at the end " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if not args.keep and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any(s["failed"] for s in summaries) else 0


if __name__ == "__main__":
    sys.exit(main())
