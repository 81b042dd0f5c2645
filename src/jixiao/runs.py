"""Per-run stage records for the stewards' report (每次运行的各阶段记录).

Every pipeline stage (ingest, raw gate, dbt build, marts gate, publish) records its own status
and start/end time in ``<settings.runs>/<run id>.json``. The nightly DAG passes Airflow's run
id, so all its tasks write into one record; a CLI call gets a fresh id (``cli__<UTC time>``).
A stage with no entry in the record did not run in that run, and the report says so instead
of showing an older run's result as current.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jixiao.config import Settings
from jixiao.locks import file_lock

#: The stages of a nightly run, in order, with their bilingual labels (运行阶段).
STAGES: dict[str, str] = {
    "pull": "拉取 Pull",
    "ingest": "载入 Ingest",
    "gate_raw": "原始层闸门 Raw gate",
    "dbt_build": "dbt 构建 dbt build",
    "gate_marts": "集市层闸门 Marts gate",
    "publish": "发布 Publish",
}
PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"
WARNING = "warning"
"""A stage that did its work but reports a problem (e.g. one source of several was down)."""
RUN_FILE_SUFFIX = ".json"


def now() -> str:
    """Current UTC time, ISO 8601 to the second (当前 UTC 时间)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_run_id(prefix: str = "cli") -> str:
    """A fresh run id for a command-line call, e.g. ``cli__20261201T213000123456Z``."""
    return f"{prefix}__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}"


def run_path(settings: Settings, run_id: str) -> Path:
    """``quality/runs/<run id>.json`` (file name made safe) (运行记录文件)."""
    safe = re.sub(r"[^A-Za-z0-9._+-]+", "_", run_id)[:150]
    return settings.runs / f"{safe}{RUN_FILE_SUFFIX}"


@contextlib.contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    with file_lock(settings.runs / ".lock"):
        yield


def load_run(settings: Settings, run_id: str) -> dict[str, Any] | None:
    """The record of ``run_id``, or None when that run recorded nothing (读取运行记录)."""
    path = run_path(settings, run_id)
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def latest_run(settings: Settings) -> dict[str, Any] | None:
    """The most recently started run's record (最近一次运行)."""
    if not settings.runs.is_dir():
        return None
    runs = []
    for path in settings.runs.glob(f"*{RUN_FILE_SUFFIX}"):
        try:
            runs.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    if not runs:
        return None
    latest: dict[str, Any] = max(runs, key=lambda r: (r.get("started_at") or "", r["run_id"]))
    return latest


def record_stage(settings: Settings, run_id: str, stage: str, entry: dict[str, Any]) -> None:
    """Write one stage's entry into the run's record (记录一个阶段)."""
    with _locked(settings):
        path = run_path(settings, run_id)
        data = load_run(settings, run_id) or {"run_id": run_id, "started_at": now(), "stages": {}}
        previous = data["stages"].get(stage) or {}
        entry = {**entry, "attempt": int(previous.get("attempt", 0)) + 1}
        data["stages"][stage] = entry
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), "utf-8")
        tmp.replace(path)


@contextlib.contextmanager
def stage(settings: Settings, run_id: str, name: str) -> Iterator[dict[str, Any]]:
    """Record stage ``name`` of ``run_id``: running, then passed or failed with the error.

    The body may fill the yielded dict (``summary``, ``detail``) and may set ``status`` (e.g.
    ``skipped``). An exception records ``failed`` with its message (and any ``detail`` it
    carries, see :func:`failure_detail`) and propagates.
    """
    info: dict[str, Any] = {}
    started = now()
    record_stage(settings, run_id, name, {"status": "running", "started_at": started})
    try:
        yield info
    except BaseException as exc:
        detail = {**info.get("detail", {}), **failure_detail(exc)}
        record_stage(
            settings,
            run_id,
            name,
            {
                "status": FAILED,
                "started_at": started,
                "ended_at": now(),
                "summary": info.get("summary", ""),
                "error": str(exc) or type(exc).__name__,
                "detail": detail,
            },
        )
        raise
    record_stage(
        settings,
        run_id,
        name,
        {
            "status": info.get("status", PASSED),
            "started_at": started,
            "ended_at": now(),
            "summary": info.get("summary", ""),
            "detail": info.get("detail", {}),
        },
    )


def failure_detail(exc: BaseException) -> dict[str, Any]:
    """What a failure says about itself: dbt's failing nodes, a gate's failure count."""
    from jixiao.warehouse.dbt import DbtBuildFailed

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DbtBuildFailed):
            failed = [n for n in seen.result.failed if n.status != "skipped"]
            return {
                "failed_nodes": [
                    {"node": n.unique_id, "status": n.status, "message": n.message or ""}
                    for n in failed
                ],
                "skipped_nodes": len(seen.result.failed) - len(failed),
            }
        result = getattr(seen, "result", None)
        if result is not None and hasattr(result, "critical_failures"):
            return {"critical_failures": len(result.critical_failures)}
        seen = seen.__cause__
    return {}


def stage_rows(run: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every stage of ``run`` in order, with ``not run`` for stages it never reached.

    A stage that did not run after an earlier stage failed says so (``blocked_by``).
    """
    stages = (run or {}).get("stages", {})
    rows = []
    first_failure: str | None = None
    empty: dict[str, Any] = {
        "started_at": None,
        "ended_at": None,
        "summary": "",
        "detail": {},
        "error": None,
    }
    for name, label in STAGES.items():
        entry = stages.get(name)
        if entry is None:
            rows.append(
                {
                    **empty,
                    "stage": name,
                    "label": label,
                    "status": NOT_RUN,
                    "blocked_by": first_failure,
                }
            )
            continue
        row = {**empty, "stage": name, "label": label, "blocked_by": None, **entry}
        if entry.get("status") == FAILED and first_failure is None:
            first_failure = label
        rows.append(row)
    return rows
