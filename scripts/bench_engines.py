"""Benchmark: the same warehouse on DuckDB, PostgreSQL and Spark (三种引擎基准, issue 17 item 5).

At shares of a province-year (10,000 project self-evaluations, as in scripts/bench_night.py:
834 departments x 12 projects of the synth mix, 20 indicators and 100 payments per project),
per engine and share, each stage in its own process (wall, and CPU and peak RSS of that
process, from os.wait4 and the process's own /proc figures):

1. **raw load**: the raw tables of one DuckDB raw warehouse copied into the stage's fresh
   working (staging) file (attach + insert, what the ingest leaves there): on DuckDB that is
   all; on PostgreSQL then COPYed to the server as the ingest does after its files
   (:func:`jixiao.warehouse.postgres.sync_raw`, one transaction per group of 32 load attempts),
   on Spark exported as Parquet parts and registered in the session's ``raw`` database
   (:func:`jixiao.warehouse.spark.load_raw`);
2. **dbt build**: the nightly's :func:`jixiao.pipeline.dbt_build` on that engine (seeds,
   models and data tests; the unit tests are the test suite's): on PostgreSQL with the raw
   layer brought up to date first and the marts secured after, on Spark with the raw layer
   registered in the stage's session and the marts copied back into the DuckDB file;
3. **marts gate**: :func:`jixiao.pipeline.gate_marts` (on PostgreSQL the copy of the server's
   marts into the DuckDB file is part of it);
4. **publish**: :func:`jixiao.pipeline.publish`.

The raw warehouse of the smallest share is made once: its workbooks generated
(:func:`jixiao.samples.synth.generate`) and ingested into DuckDB (the ingest is the same code
for every engine, measured per night in bench_night). A share ``k`` times larger is that raw
warehouse scaled ``k`` times under new keys (bench_night's ``scale_raw``): 10% = 1% x 10.
``--raw`` gives that smallest raw warehouse instead.

PostgreSQL runs on its own server, started on 127.0.0.1 for the run as the tests start theirs
(:func:`tests.e2e.pg_server.running_postgres_server`), one database per share; its CPU and
peak RSS are the client's (the loader, dbt-postgres): the server's processes are not children
of the stage. Spark runs in the stage's process (pyspark, ``method: session``); its JVM is a
child that pyspark does not wait for, so the stage reads the JVM's own peak RSS (VmHWM) and
CPU before it ends: Spark's peak RSS is the Python process's plus the JVM's, its CPU both.
The peak RSS is the stage process's own VmHWM (reset at exec): os.wait4's ru_maxrss never
reports less than the parent's RSS at the fork, which it also gives (``wait4_rss_mib``).

    .venv/bin/python scripts/bench_engines.py [--shares 1,10] [--engines duckdb,postgres,spark]
        [--raw RAW.duckdb] [--workdir DIR] [--keep] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("duckdb", "postgres", "spark")
STAGES = ("load", "build", "gate", "publish")
PROVINCE_PROJECTS = 10_000
PROJECTS_PER_DEPARTMENT = 12
INDICATORS = 20
PAYMENTS = 100


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shares", default="1,10", help="percent of a province-year, comma list")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma list of engines")
    parser.add_argument("--raw", type=Path, help="the smallest share's raw DuckDB warehouse")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shares = [float(x) for x in args.shares.split(",") if x.strip()]
    if not shares or any(s <= 0 for s in shares):
        parser.error(f"--shares: positive percentages, got {args.shares!r}")
    smallest = min(shares)
    for s in shares:
        if abs(s / smallest - round(s / smallest)) > 1e-9:
            parser.error(f"--shares: {s:g} is not a whole multiple of the smallest, {smallest:g}")
    args.shares = sorted(shares)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        parser.error(f"--engines: choose from {', '.join(ENGINES)}, got {args.engines!r}")
    args.engines = engines
    return args


# --------------------------------------------------------------------- one stage (child)
def _peak_mib(pid: int | str = "self") -> float | None:
    """A process's own peak RSS (VmHWM, reset at exec), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def _cpu_seconds(pid: int) -> float | None:
    """A running process's user + system CPU seconds (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _jvm() -> dict[str, float | None]:
    """The Spark JVM's own peak RSS and CPU, when this process started one (pyspark does not
    wait for it, so os.wait4 of this process counts neither)."""
    try:
        from pyspark import SparkContext

        proc = getattr(SparkContext._gateway, "proc", None)
    except ImportError:
        proc = None
    if proc is None:
        return {"jvm_rss_mib": None, "jvm_cpu": None}
    return {"jvm_rss_mib": _peak_mib(proc.pid), "jvm_cpu": _cpu_seconds(proc.pid)}


def run_stage(stage: str, engine: str, home: Path, source: Path) -> dict[str, Any]:
    """One stage on one engine in this process (the environment selects the engine)."""
    from jixiao import pipeline
    from jixiao.config import get_settings

    settings = get_settings(home).ensure()
    run_id = f"bench-{engine}"
    result: dict[str, Any] = {}
    if stage == "load":
        # what the ingest leaves: the raw tables in the DuckDB working (staging) file
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_night import scale_raw

        result["rows"] = scale_raw(source, settings.warehouse, 1)
        if engine == "postgres":
            from jixiao.warehouse import postgres

            synced = postgres.sync_raw(settings)  # what the ingest runs after its files
            result["rows"] = synced["rows"]
            result["groups"] = synced["groups"]
        elif engine == "spark":
            from jixiao.warehouse import spark

            result["rows"] = spark.load_raw(settings)["rows"]
    elif stage == "build":
        # the nightly's build: on PostgreSQL the raw layer brought up to date and the marts
        # secured, on Spark the raw layer registered and the marts copied back to DuckDB
        run = pipeline.dbt_build(settings, run_id)
        result["success"] = bool(run["success"])
        result["nodes"] = run["nodes"]
    elif stage == "gate":
        # the marts gate (on PostgreSQL it first copies the server's marts to DuckDB)
        gate = pipeline.gate_marts(settings, run_id)
        result["success"] = bool(gate["success"])
    elif stage == "publish":
        published = pipeline.publish(settings, run_id)
        result["success"] = bool(published.get("marts_fingerprint"))
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    if engine == "spark":
        result.update(_jvm())
    result["own_rss_mib"] = _peak_mib()
    return result


# --------------------------------------------------------------------- the parent
def child(stage: str, engine: str, home: Path, source: Path, env: dict[str, str]) -> dict:
    """Run one stage in a child process: its wall, CPU and peak RSS (os.wait4)."""
    cmd = [
        sys.executable,
        __file__,
        "--stage",
        stage,
        "--engine",
        engine,
        "--home",
        str(home),
        "--source",
        str(source),
    ]
    out_path = home.parent / f".stage-{engine}-{stage}.out"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "JIXIAO_HOME": str(home), "JIXIAO_STABLE_SECONDS": "0", **env}
    start = time.perf_counter()
    with out_path.open("wb") as out:
        proc = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    text = out_path.read_text(encoding="utf-8", errors="replace")
    lines = [x for x in text.splitlines() if x.startswith("STAGE_RESULT ")]
    result = json.loads(lines[-1].split(" ", 1)[1]) if lines else None
    # os.wait4's ru_maxrss never reports less than this (parent) process's RSS at the fork
    # (Linux counts the forked copy before exec); the child's own VmHWM, reset at exec, is
    # its real peak, so that is the figure, and wait4's is kept beside it
    wait4_rss = usage.ru_maxrss / 1024
    rss = (result or {}).get("own_rss_mib") or wait4_rss
    jvm = (result or {}).get("jvm_rss_mib")
    jvm_cpu = (result or {}).get("jvm_cpu") or 0.0
    return {
        "engine": engine,
        "stage": stage,
        "wall": round(wall, 1),
        "cpu": round(usage.ru_utime + usage.ru_stime + jvm_cpu, 1),
        "jvm_cpu": round(jvm_cpu, 1) if jvm_cpu else None,
        "rss_mib": round(rss),
        "wait4_rss_mib": round(wait4_rss),
        "jvm_rss_mib": round(jvm) if jvm else None,
        "peak_rss_mib": round(rss + (jvm or 0)),
        "returncode": code,
        "ok": code == 0 and (stage == "load" or bool((result or {}).get("success"))),
        "result": result,
        "tail": "" if code == 0 else text[-3000:],
    }


def make_base_raw(work: Path, share: float) -> Path:
    """The smallest share's workbooks generated and ingested into DuckDB (its raw tables)."""
    from jixiao import pipeline
    from jixiao.config import get_settings
    from jixiao.samples.synth import generate

    departments = max(1, round(PROVINCE_PROJECTS * share / 100 / PROJECTS_PER_DEPARTMENT))
    base = work / "base"
    home = base / "home"
    (home / "inbox").mkdir(parents=True)
    files = generate(base / "files", departments, PROJECTS_PER_DEPARTMENT, INDICATORS, PAYMENTS)
    for p in files:
        shutil.copy2(p, home / "inbox" / p.name)
    os.environ["JIXIAO_STABLE_SECONDS"] = "0"
    os.environ["JIXIAO_WAREHOUSE"] = "duckdb"  # the ingest writes the DuckDB raw tables
    settings = get_settings(home).ensure()
    started = time.monotonic()
    pipeline.ingest(pipeline.discover(settings), settings, "bench_engines")
    print(
        f"generated and ingested {share:g}%: {departments} departments, {len(files)} workbooks"
        f" (ingest {time.monotonic() - started:.0f} s)",
        flush=True,
    )
    return settings.warehouse


def versions() -> dict[str, str]:
    names = ("duckdb", "dbt-core", "dbt-duckdb", "dbt-postgres", "dbt-spark", "pyspark")
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except Exception:  # a missing package is reported as such
            found[name] = "missing"
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
        found["java"] = (java.stderr.splitlines() or ["?"])[0]
    except OSError:
        found["java"] = "missing"
    return found


def table(rows: list[dict[str, Any]], shares: list[float], engines: list[str]) -> str:
    """The results as a Markdown table: a row per engine and stage, a column per share."""
    head = "| engine | stage | " + " | ".join(f"{s:g}%" for s in shares) + " |"
    lines = [head, "| --- | --- | " + " | ".join("---" for _ in shares) + " |"]
    for engine in engines:
        for stage in STAGES:
            cells = []
            for s in shares:
                r = next(
                    (
                        x
                        for x in rows
                        if x["engine"] == engine and x["stage"] == stage and x["share"] == s
                    ),
                    None,
                )
                if r is None:
                    cells.append("not run")
                elif not r["ok"]:
                    cells.append(f"FAILED after {r['wall']:.0f} s")
                else:
                    rss = f"{r['peak_rss_mib']:,} MiB"
                    if r["jvm_rss_mib"]:
                        rss += f" (JVM {r['jvm_rss_mib']:,})"
                    cells.append(f"{r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, {rss}")
            lines.append(f"| {engine} | {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.stage:
        result = run_stage(args.stage, args.engine, args.home, args.source)
        print("STAGE_RESULT " + json.dumps(result, ensure_ascii=False, default=str), flush=True)
        return 0
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_night import scale_raw

    work = args.workdir or Path(tempfile.mkdtemp(prefix="jixiao-bench-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(meta, ensure_ascii=False), flush=True)
    smallest = args.shares[0]
    base = args.raw or make_base_raw(work, smallest)
    rows: list[dict[str, Any]] = []
    with ExitStack() as stack:
        server = None
        if "postgres" in args.engines:
            from tests.e2e.pg_server import create_database, running_postgres_server

            server = stack.enter_context(running_postgres_server())
            print(f"PostgreSQL on 127.0.0.1:{server.port}", flush=True)
        for share in args.shares:
            copies = round(share / smallest)
            raw = work / f"raw-{share:g}.duckdb"
            started = time.monotonic()
            counts = scale_raw(base, raw, copies)
            print(
                f"\n== {share:g}%: raw x{copies} {counts} ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
            for engine in args.engines:
                home = work / f"{engine}-{share:g}" / "home"
                env = {"JIXIAO_WAREHOUSE": engine}
                if engine == "postgres" and server is not None:
                    dbname = f"bench_{str(share).replace('.', '_')}"
                    create_database(server, dbname)
                    env = server.env(dbname)
                if engine == "spark":
                    env["JIXIAO_SPARK_DIR"] = str(home.parent / "spark")
                for stage in STAGES:
                    r = {"share": share, "payments": counts.get("payments")}
                    r.update(child(stage, engine, home, raw, env))
                    rows.append(r)
                    print(
                        f"  {engine:<8} {stage:<5} wall {r['wall']:7.1f} s  CPU {r['cpu']:7.1f} s"
                        f"  peak RSS {r['peak_rss_mib']:6} MiB"
                        + (f" (JVM {r['jvm_rss_mib']})" if r["jvm_rss_mib"] else "")
                        + ("" if r["ok"] else f"  FAILED\n{r['tail']}"),
                        flush=True,
                    )
                    if not r["ok"]:
                        break
    meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print("\n" + table(rows, args.shares, args.engines))
    print(f"\nload average at the end {meta['load_average_end']}")
    if args.json:
        args.json.write_text(
            json.dumps({"meta": meta, "rows": rows}, indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    if not args.keep and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any(not r["ok"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
