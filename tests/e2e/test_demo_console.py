"""``jixiao demo`` through real Airflow keeps its console quiet and truthful (安静、如实的控制台).

The demo for one year (the nightly DAG, then the 2023 yearly report DAG) runs as a newcomer
runs it, in a process of its own. Its stdout holds one line per stage with a time and the
bilingual summary with each gate's result and warnings; what the libraries say (GX's
"Skipping registering function", fontTools' subsetting, Airflow's task log lines) is in the
log file under the home that the summary names, not on the console.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

CHATTER = ("Skipping registering function", "subsetting", "subset", "INFO - ", "Running with dbt")


def test_demo_prints_stages_and_summary_and_logs_the_chatter(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "JIXIAO_HOME": str(home)}
    exe = Path(sys.executable).with_name("jixiao")
    proc = subprocess.run(
        [str(exe), "demo", "--year", "2023"],
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert [c for c in CHATTER if c in out] == []
    assert [c for c in CHATTER if c in proc.stderr] == []
    assert len(out.splitlines()) < 60, out

    # one timed line per stage, the nightly's own stages among them
    for label in (
        "样例工作簿",
        "Airflow 初始化",
        "载入 Ingest",
        "原始层闸门 Raw gate",
        "dbt 构建 dbt build",
        "集市层闸门 Marts gate",
        "发布 Publish",
        "夜间 DAG nightly",
        "年度报告 yearly report 2023",
    ):
        lines = [line for line in out.splitlines() if label in line]
        assert lines and re.search(r"\d+\.\d s", lines[0]), (label, out)

    # the summary: Chinese labels, every gate with its result and warnings, where things are
    assert "== jixiao 运行摘要 / summary ==" in out
    assert "files_loaded" not in out and "已载入文件 files loaded" in out
    gates = [line for line in out.splitlines() if "闸门" in line and "警告 warnings" in line]
    assert any("原始层闸门 raw gate" in g for g in gates), out
    assert any("集市层闸门 marts gate" in g for g in gates), out
    assert all("通过 passed" in g for g in gates), gates
    warned = sum(int(re.search(r"警告 warnings (\d+)", g).group(1)) for g in gates)  # type: ignore[union-attr]
    assert warned >= 1  # the demo's own data raises a warning (unknown category)
    assert "category" in out  # and the summary says which
    log = home / "logs" / "demo.log"
    assert f"日志 log (Airflow, dbt, GX): {log}" in out

    text = log.read_text(encoding="utf-8")
    assert "Skipping registering function" in text or "INFO - " in text
    assert "dags test jixiao_nightly" in text and "jixiao_yearly_report" in text
    assert (home / "published" / "jixiao.duckdb").exists()
    assert list((home / "reports" / "2023").rglob("*.xlsx"))
