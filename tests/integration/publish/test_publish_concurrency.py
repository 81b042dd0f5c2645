"""Readers in other processes query the marts while several publishes happen (发布期间的并发读取).

Asserts: no reader error, no blocked or slowed-down writer, and every read sees exactly one
version (each table's run_id and row count match that version's ``_publish_info``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from jixiao.config import Settings
from jixiao.publish.publisher import publish

MakeMarts = Callable[..., Settings]
READER = Path(__file__).with_name("reader_loop.py")
N_READERS = 2
N_PUBLISHES = 4


def _wait_for(paths: list[Path], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, f"readers did not start: {paths}"
        time.sleep(0.05)


def test_readers_never_see_a_partial_publish(make_marts: MakeMarts, tmp_path: Path) -> None:
    settings = make_marts("run-0", 3)
    publish(settings, run_id="run-0")

    stop = tmp_path / "stop"
    outs = [tmp_path / f"reader{i}.json" for i in range(N_READERS)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(READER), str(settings.published_dir), str(out), str(stop), "60"]
        )
        for out in outs
    ]
    try:
        _wait_for([Path(f"{o}.ready") for o in outs], 30)
        durations = []
        for i in range(1, N_PUBLISHES + 1):
            make_marts(f"run-{i}", 3 + 2 * i)  # every version has different row counts
            started = time.monotonic()
            result = publish(settings, run_id=f"run-{i}")
            durations.append(time.monotonic() - started)
            assert result.row_counts["fct_budget"] == 2 * (3 + 2 * i)
            time.sleep(0.3)  # let the readers read this version
        stop.touch()
        codes = [p.wait(timeout=30) for p in procs]
    finally:
        stop.touch()
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert codes == [0] * N_READERS

    # the writer is never blocked by readers: each publish of this tiny warehouse is quick
    assert max(durations) < 10, durations
    published = [f"run-{i}" for i in range(N_PUBLISHES + 1)]
    for out in outs:
        report = json.loads(out.read_text())
        assert report["errors"] == [], report["errors"]
        assert report["reads"] > N_PUBLISHES
        # the readers were reading across the swaps and saw versions in publish order
        assert report["seen"][0] == "run-0" and report["seen"][-1] == f"run-{N_PUBLISHES}"
        assert report["seen"] == sorted(report["seen"], key=published.index)
        assert len(report["seen"]) >= 3, report["seen"]
