"""The real scheduler: `airflow standalone` (scheduler, dag-processor, triggerer, api-server with
the LocalExecutor) on 127.0.0.1; the nightly DAG is triggered through the REST API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao.samples.demo import build_demo_inbox
from tests.e2e.net import call_api, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _wait(what: str, fn: Any, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"airflow standalone exited: {log.read_text()[-5000:]}")
        try:
            value = fn()
            if value:
                return value
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what} ({last}): {log.read_text()[-5000:]}")


def _listening(port: int) -> set[str]:
    """The local addresses a TCP socket on ``port`` listens on (from /proc/net/tcp, tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                if len(addr) == 8:  # IPv4, little-endian
                    found.add(".".join(str(int(addr[i : i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add("::" if set(addr) == {"0"} else addr)
    return found


def test_scheduler_runs_nightly_triggered_through_rest_api(  # type: ignore[no-untyped-def]
    rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_demo_inbox(rig.settings.inbox)
    port = free_port()
    # the api-server's address as `make airflow` sets it: 127.0.0.1 by default, port from
    # JIXIAO_AIRFLOW_PORT (jixiao.orchestration.api_address)
    monkeypatch.delenv("JIXIAO_AIRFLOW_HOST", raising=False)
    for key in ("HOST", "PORT", "BASE_URL"):
        monkeypatch.delenv(f"AIRFLOW__API__{key}", raising=False)
    monkeypatch.delenv("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", raising=False)
    monkeypatch.setenv("JIXIAO_AIRFLOW_PORT", str(port))
    env = rig.env(
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="False",
    )
    log = tmp_path / "standalone.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["airflow", "standalone"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait("api-server", lambda: call_api(base, "GET", "/api/v2/monitor/health"), 240, proc, log)
        assert _listening(port) == {"127.0.0.1"}, _listening(port)  # not open to the network
        _wait(
            "DAG parsed",
            lambda: call_api(base, "GET", "/api/v2/dags/jixiao_nightly"),
            240,
            proc,
            log,
        )
        _wait(
            "yearly DAG parsed",
            lambda: call_api(base, "GET", "/api/v2/dags/jixiao_yearly_report"),
            240,
            proc,
            log,
        )
        # both DAGs may already exist, paused, in this metadata DB (dag.test() registers them)
        for dag_id in ("jixiao_nightly", "jixiao_yearly_report"):
            call_api(base, "PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        run = call_api(
            base, "POST", "/api/v2/dags/jixiao_nightly/dagRuns", {"logical_date": None, "conf": {}}
        )
        run_id = run["dag_run_id"]

        def finished() -> Any:
            state = call_api(base, "GET", f"/api/v2/dags/jixiao_nightly/dagRuns/{run_id}")["state"]
            return state if state in ("success", "failed") else None

        state = _wait("the DAG run", finished, 900, proc, log)
        if state != "success":
            tis = call_api(
                base, "GET", f"/api/v2/dags/jixiao_nightly/dagRuns/{run_id}/taskInstances"
            )
            raise AssertionError(f"run {state}: {json.dumps(tis, ensure_ascii=False)[:3000]}")

        # publishing updated the Asset: the scheduler starts the yearly report DAG by itself,
        # for exactly the years whose data changed (all of the sample years on a first night).
        # Unpausing also schedules each DAG's latest missed interval (catchup=False), so wait
        # until every run of both DAGs has settled before judging the asset-triggered ones.
        def settled() -> Any:
            runs = [
                r
                for dag_id in ("jixiao_nightly", "jixiao_yearly_report")
                for r in call_api(base, "GET", f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"]
            ]
            triggered = [
                r
                for r in runs
                if r["dag_id"] == "jixiao_yearly_report" and r["run_type"] == "asset_triggered"
            ]
            busy = [r for r in runs if r["state"] in ("queued", "running")]
            return triggered if triggered and not busy else None

        triggered = _wait("the asset-triggered yearly runs", settled, 900, proc, log)
        assert all(r["state"] == "success" for r in triggered), triggered
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    con = duckdb.connect(str(rig.settings.published), read_only=True)
    try:
        rows = con.execute("select count(*) from marts.mart_project_year").fetchone()
        info = con.execute("select count(*) from marts._publish_info").fetchone()
    finally:
        con.close()
    assert rows is not None and rows[0] > 0
    assert info is not None and info[0] >= 1
    for year in (2019, 2022, 2023):
        assert list((rig.settings.reports / str(year)).rglob("*.xlsx")), year
