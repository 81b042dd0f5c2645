"""A BI client that opened the published file read-write (and crashed, or is still open).

Real DuckDB processes: one writes through a read-write connection and is killed before a
checkpoint, leaving ``jixiao.duckdb.wal`` beside the published file; another keeps a
read-write connection open while the publish runs.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from jixiao.config import Settings
from jixiao.publish.publisher import (
    STALE_WAL_DIR,
    PublishRefused,
    connect_readonly,
    current,
    publish,
    rollback,
)

MakeMarts = Callable[..., Settings]

CRASHING_WRITER = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1])  # read-write, as a misconfigured BI client would
con.execute("set checkpoint_threshold = '1GB'")
con.execute("create table marts.bi_scratch as select 42 as x")
os._exit(9)  # crash: no checkpoint, the WAL stays
"""

OPEN_WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
time.sleep(120)
"""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _run_id(settings: Settings) -> str:
    con = connect_readonly(settings)
    try:
        return str(con.execute("select distinct run_id from marts._publish_info").fetchone()[0])
    finally:
        con.close()


def test_published_file_is_read_only_on_disk_and_the_swap_still_works(
    make_marts: MakeMarts,
) -> None:
    settings = make_marts("run-1", 3)
    publish(settings, run_id="run-1")
    assert _mode(settings.published) == 0o444
    make_marts("run-2", 4)
    publish(settings, run_id="run-2")  # replacing a 0444 file works
    assert _mode(settings.published) == 0o444
    assert _run_id(settings) == "run-2"
    rollback(settings)
    assert _mode(settings.published) == 0o444
    assert _run_id(settings) == "run-1"
    if os.geteuid() != 0:  # root ignores file modes
        with pytest.raises(PermissionError):
            open(settings.published, "r+b").close()


def test_stale_wal_from_a_crashed_read_write_client_is_moved_aside(
    make_marts: MakeMarts,
) -> None:
    settings = make_marts("run-1", 3)
    publish(settings, run_id="run-1")
    os.chmod(settings.published, 0o644)  # a client (or root) writing despite the mode
    proc = subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(settings.published)])
    assert proc.returncode == 9
    wal = settings.published.with_name(settings.published.name + ".wal")
    assert wal.exists(), "the crashed client left no WAL; the test did not set up its case"
    stale = wal.read_bytes()

    make_marts("run-2", 4)
    publish(settings, run_id="run-2")

    assert not wal.exists()
    kept = list((settings.published_dir / STALE_WAL_DIR).glob("jixiao.duckdb.*.wal"))
    assert [p.read_bytes() for p in kept] == [stale]  # kept for inspection, not replayed
    # readers open the new version without "WAL does not match database file"
    assert _run_id(settings) == "run-2"
    assert current(settings).row_counts["fct_budget"] == 8
    assert _mode(settings.published) == 0o444


def test_publish_refuses_while_a_client_holds_the_file_read_write(
    make_marts: MakeMarts,
) -> None:
    settings = make_marts("run-1", 3)
    publish(settings, run_id="run-0")
    publish(settings, run_id="run-1")  # a previous version exists, so rollback could run
    os.chmod(settings.published, 0o644)
    before = _sha(settings.published)
    holder = subprocess.Popen(
        [sys.executable, "-c", OPEN_WRITER, str(settings.published)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        make_marts("run-2", 4)
        with pytest.raises(PublishRefused, match=rf"进程 {holder.pid}.*read_only=True"):
            publish(settings, run_id="run-2")
        with pytest.raises(PublishRefused, match="读写方式打开"):
            rollback(settings)
        assert _sha(settings.published) == before
        assert not list(settings.published_dir.glob(".jixiao.*"))
    finally:
        holder.kill()
        holder.wait()
    publish(settings, run_id="run-2")  # the client is gone: the publish goes through
    assert _run_id(settings) == "run-2"
