"""The nightly and yearly jobs, one function per DAG task (流水线).

DAG files and CLI commands call these functions and nothing else, so the same code runs
under Airflow, from the command line and in tests. Each function takes an optional
``Settings`` (default: from ``JIXIAO_HOME``) and returns a JSON-serialisable dict that
Airflow stores as the task's XCom. Heavy libraries (pandas, duckdb, dbt, GX) are imported
inside the functions so that parsing a DAG file stays cheap.

Each stage function takes a ``run_id`` (the DAG passes Airflow's; a CLI call without one
gets a fresh ``cli__<time>`` id) and records its status and start/end time in
``quality/runs/<run id>.json`` (:mod:`jixiao.runs`), which the stewards' report shows.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jixiao import runs
from jixiao.config import Settings, get_settings
from jixiao.errors import QualityGateBlocked, ReportRefused

log = logging.getLogger(__name__)


def _settings(settings: Settings | None) -> Settings:
    return (settings or get_settings()).ensure()


def discover(settings: Settings | None = None) -> list[str]:
    """Files in the inbox that are new or changed since the last load (新增或变更的工作簿)."""
    from jixiao.ingest.loader import discover as _discover

    return [path_to_text(p) for p in _discover(_settings(settings))]


#: prefix of a path whose name is not valid UTF-8, carried as the hex of its bytes
_FSBYTES = "fsbytes:"


def path_to_text(path: Path) -> str:
    """A path as text any JSON/XCom backend can carry (路径转文本).

    A file name whose bytes are not UTF-8 (a GBK name copied from an old share) decodes to lone
    surrogates, which Airflow cannot serialise; such a path travels as the hex of its bytes.
    """
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _FSBYTES + os.fsencode(path).hex()
    return text


def path_from_text(text: str) -> Path:
    """The inverse of :func:`path_to_text`."""
    if text.startswith(_FSBYTES):
        return Path(os.fsdecode(bytes.fromhex(text[len(_FSBYTES) :])))
    return Path(text)


def ingest(
    paths: list[str] | None = None,
    settings: Settings | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Load workbooks into the raw schema; quarantine what cannot be loaded (载入与隔离)."""
    from jixiao.ingest.loader import ingest_files

    s = _settings(settings)
    with runs.stage(s, run_id or runs.new_run_id(), "ingest") as info:
        summary = ingest_files(s, [path_from_text(p) for p in paths] if paths is not None else None)
        result = dict(summary.to_dict())
        counts = {k: v for k, v in result.items() if isinstance(v, int)}
        info["detail"] = counts
        info["summary"] = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    return result


def _gate(
    gate: str, settings: Settings | None, year: int | None = None, run_id: str | None = None
) -> dict[str, Any]:
    from jixiao.quality.gates import QualityGateFailed, run_gate

    s = _settings(settings)
    rid = run_id or runs.new_run_id()
    with runs.stage(s, rid, f"gate_{gate}") as info:
        try:
            result = run_gate(gate, s, year=year, run_id=rid)
        except QualityGateFailed as exc:
            raise QualityGateBlocked(str(exc)) from exc
        info["detail"] = {
            "critical_failures": len(result.critical_failures),
            "warnings": len(result.warnings),
            "marts_fingerprint": result.marts_fingerprint,
        }
        info["summary"] = (
            f"关键失败 critical {len(result.critical_failures)} · "
            f"警告 warnings {len(result.warnings)}"
        )
    return dict(result.to_dict())


def gate_raw(settings: Settings | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Great Expectations gate on the raw schema (原始层质量闸门)."""
    return _gate("raw", settings, run_id=run_id)


def dbt_build(settings: Settings | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Seed, run and test the dbt project against the working warehouse (dbt 构建)."""
    from jixiao.warehouse.dbt import build

    s = _settings(settings)
    with runs.stage(s, run_id or runs.new_run_id(), "dbt_build") as info:
        result = build(s)
        info["summary"] = f"{len(result.nodes)} 个节点通过 / nodes passed"
        info["detail"] = dict(result.to_dict())
    return dict(result.to_dict())


def gate_marts(settings: Settings | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Great Expectations gate on the marts, before publishing (集市层质量闸门)."""
    return _gate("marts", settings, run_id=run_id)


YEAR_FINGERPRINT_SQL = """
select fiscal_year, count(*) as n, bit_xor(hash(t)) as h
from marts.mart_project_year as t
where fiscal_year is not null
group by fiscal_year
"""


def _year_fingerprints(db: Path) -> dict[int, tuple[int, int]]:
    """Per fiscal year, a fingerprint of that year's rows in mart_project_year (年度指纹)."""
    import duckdb

    if not db.exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(YEAR_FINGERPRINT_SQL).fetchall()
    except duckdb.CatalogException:
        return {}
    finally:
        con.close()
    return {int(y): (int(n), int(h)) for y, n, h in rows}


def publish(
    settings: Settings | None = None,
    run_id: str | None = None,
    *,
    override_gate: bool = False,
    override_reason: str | None = None,
    override_by: str | None = None,
) -> dict[str, Any]:
    """Swap the validated marts into the published file for BI readers (发布).

    The publisher refuses unless the last marts gate passed on exactly these marts;
    ``override_gate`` with a non-empty ``override_reason`` publishes anyway and is recorded.
    The result names the fiscal years whose project marts changed against the previously
    published version (``years_changed``): the yearly report DAG regenerates those years.
    """
    from jixiao.publish.publisher import publish as _publish

    s = _settings(settings)
    rid = run_id or runs.new_run_id()
    try:
        with runs.stage(s, rid, "publish") as info:
            before = _year_fingerprints(s.published)
            result = dict(
                _publish(
                    s,
                    run_id=rid,
                    override_gate=override_gate,
                    override_reason=override_reason,
                    override_by=override_by,
                ).to_dict()
            )
            after = _year_fingerprints(s.published)
            result["years_changed"] = sorted(
                y for y in set(before) | set(after) if before.get(y) != after.get(y)
            )
            keys = ("marts_fingerprint", "gate_status", "override", "years_changed")
            info["detail"] = {k: result[k] for k in keys}
            override = result.get("override")
            by = ""
            if override:
                by = f" · 人工越过 OVERRIDDEN by {override['by']}: {override['reason']}"
            info["summary"] = f"闸门状态 gate {result['gate_status']}" + by
    finally:
        _refresh_report(s, rid)
    return result


def _refresh_report(s: Settings, run_id: str) -> None:
    """Rebuild an existing quality report after publishing, pass or refusal (刷新质量报告).

    In the nightly the report task and publish both follow the marts gate and may run in
    either order; rebuilding here means the report never shows this night's publish as not
    run once it has run. A missing report is left to the report task.
    """
    if not (s.quality / "index.html").exists():
        return
    from jixiao.quality.report import build_quality_report

    try:
        build_quality_report(s, run_id=run_id)
    except Exception:  # the publish outcome stands; the report task will try again
        log.exception("refreshing the quality report after publish failed")


def quality_report(settings: Settings | None = None, run_id: str | None = None) -> str:
    """Write the data stewards' quality report site for run ``run_id`` (default: the latest
    recorded run) (质量报告)."""
    from jixiao.quality.report import build_quality_report
    from jixiao.reports.feedback import write_feedback

    s = _settings(settings)
    # the departments' feedback first: the report links it; a failure still leaves a report
    try:
        write_feedback(s)
    except Exception:
        log.exception("writing the departments' feedback failed")
        build_quality_report(s, run_id=run_id)
        raise
    return str(build_quality_report(s, run_id=run_id))


def check_year_gate(year: int, settings: Settings | None = None) -> None:
    """Refuse unless the mart gate passed for ``year`` (年度报告前置检查)."""
    from jixiao.quality.gates import gate_passed, gate_summary

    s = _settings(settings)
    if not gate_passed(s, gate="marts", year=year):
        detail = gate_summary(s, gate="marts", year=year)
        raise ReportRefused(
            f"{year} 年度集市质量闸门未通过，拒绝生成年度报告。"
            f" / The mart quality gate for {year} has not passed; the yearly report is refused."
            f"\n{detail}"
        )


def year_in_shanghai(moment: datetime) -> int:
    """The calendar year of ``moment`` in Asia/Shanghai (北京时间的年份).

    Airflow hands over pendulum datetimes for scheduled runs and plain aware datetimes for
    asset-triggered ones; both work. A naive datetime is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).year


def report_years(
    param_year: int | None,
    asset_event_extras: list[dict[str, Any]] | None,
    run_after_year: int,
) -> list[int]:
    """Which fiscal years a yearly-report run covers (报告年度).

    An explicit ``year`` wins; a run triggered by published-marts events covers exactly the
    years those events say changed (possibly none); a scheduled run after the fiscal year
    closes covers the year before the run date.
    """
    if param_year:
        return [int(param_year)]
    if asset_event_extras is not None:
        return sorted(
            {int(y) for extra in asset_event_extras for y in (extra or {}).get("years_changed", [])}
        )
    return [run_after_year - 1]


def yearly_report(
    year: int, department: str | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    """Produce the yearly reports from the marts, only after the gate passed (年度报告)."""
    from jixiao.reports.yearly import build_reports

    s = _settings(settings)
    check_year_gate(year, s)
    paths = build_reports(s, year, department=department)
    return {"year": year, "department": department, "files": [str(p) for p in paths]}


def _table_counts(db: Path, schema: str) -> dict[str, int]:
    import duckdb

    if not db.exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "order by 1",
                [schema],
            ).fetchall()
        ]
        counts = {}
        for name in names:
            if not name.startswith("_"):
                row = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
                counts[name] = int(row[0]) if row else 0
        return counts
    finally:
        con.close()


def _file_outcomes(db: Path) -> dict[str, int]:
    import duckdb

    if not db.exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        has_log = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = 'load_log'"
        ).fetchone()
        if not has_log or not has_log[0]:
            return {}
        rows = con.execute(
            "select status, count(*) from raw.load_log group by status order by status"
        ).fetchall()
        out = {f"files_{k}": int(v) for k, v in rows}
        totals = con.execute(
            "select coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0) "
            "from raw.load_log"
        ).fetchone()
        if totals:
            out["rows_loaded"], out["rows_rejected"] = int(totals[0]), int(totals[1])
        return out
    finally:
        con.close()


def summary(settings: Settings | None = None) -> dict[str, Any]:
    """What the runs produced: files, rows per mart, where things are (运行摘要)."""
    s = _settings(settings)
    marts_db = s.published if s.published.exists() else s.warehouse
    return {
        "warehouse": str(s.warehouse),
        "published": str(s.published),
        "reports": str(s.reports),
        "quality_report": str(s.quality / "index.html"),
        "files": _file_outcomes(s.warehouse),
        "marts": _table_counts(marts_db, "marts"),
    }
