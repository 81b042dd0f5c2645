"""A BI-like reader run as a separate process by test_publish_concurrency.py (并发读者).

Usage: reader_loop.py PUBLISHED_DIR OUT_JSON STOP_FILE MAX_SECONDS

Until STOP_FILE appears (then one last read) it repeatedly opens the published DuckDB file
read-only and checks that every table's ``run_id`` and row count agree with
``marts._publish_info``; it does the same for the Parquet export, resolving the ``parquet``
link once per read. Writes ``OUT_JSON.ready`` after its first read and OUT_JSON at the end:
reads, the run ids seen in order of first sighting, and every error or inconsistency.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import duckdb


def read_database(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True)
    try:
        info = con.execute(
            "select run_id, table_name, row_count from marts._publish_info"
        ).fetchall()
        run_ids = {r[0] for r in info}
        if len(run_ids) != 1:
            raise AssertionError(f"_publish_info has several run ids: {run_ids}")
        run_id = next(iter(run_ids))
        for _, table, expected in info:
            seen = con.execute(f'select distinct run_id from marts."{table}"').fetchall()
            count = con.execute(f'select count(*) from marts."{table}"').fetchone()[0]
            if seen != [(run_id,)] or count != expected:
                raise AssertionError(
                    f"duckdb {table}: run ids {seen}, {count} rows; info says {run_id}, {expected}"
                )
        return str(run_id)
    finally:
        con.close()


def read_parquet(published_dir: Path) -> str:
    root = os.path.realpath(published_dir / "parquet")  # resolve the version once
    con = duckdb.connect()
    try:
        info = con.execute(
            "select run_id, table_name, row_count "
            f"from read_parquet('{root}/_publish_info/*.parquet')"
        ).fetchall()
        run_id = info[0][0]
        for _, table, expected in info:
            rows = con.execute(
                f"select run_id, count(*) from read_parquet('{root}/{table}/**/*.parquet', "
                "hive_partitioning = false) group by run_id"
            ).fetchall()
            if rows != [(run_id, expected)]:
                raise AssertionError(f"parquet {table}: {rows}; info says {run_id}, {expected}")
        return str(run_id)
    finally:
        con.close()


def main() -> None:
    published_dir, out, stop, max_seconds = (
        Path(sys.argv[1]),
        Path(sys.argv[2]),
        Path(sys.argv[3]),
        float(sys.argv[4]),
    )
    seen: list[str] = []
    errors: list[str] = []
    reads = 0
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        last = stop.exists()
        for reader in (
            lambda: read_database(published_dir / "jixiao.duckdb"),
            lambda: read_parquet(published_dir),
        ):
            try:
                run_id = reader()
                if run_id not in seen:
                    seen.append(run_id)
            except Exception as exc:  # every failure is a finding, keep going
                errors.append(f"{type(exc).__name__}: {exc}")
        reads += 1
        if reads == 1:
            Path(f"{out}.ready").touch()
        if last:
            break
    out.write_text(json.dumps({"reads": reads, "seen": seen, "errors": errors[:20]}))


if __name__ == "__main__":
    main()
