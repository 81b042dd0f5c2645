"""The nightly and yearly jobs, one function per DAG task (流水线).

DAG files and CLI commands call these functions and nothing else, so the same code runs
under Airflow, from the command line and in tests. Each function takes an optional
``Settings`` (default: from ``JIXIAO_HOME``) and returns a JSON-serialisable dict that
Airflow stores as the task's XCom. Heavy libraries (pandas, duckdb, dbt, GX) are imported
inside the functions so that parsing a DAG file stays cheap.

Each stage function takes a ``run_id`` (the DAG passes Airflow's; a CLI call without one
gets a fresh ``cli__<time>`` id) and records its status and start/end time in
``quality/runs/<run id>.json`` (:mod:`jixiao.runs`), which the stewards' report shows.

What a night does is decided here, in one place (:func:`plan_night`): a night on which
nothing was loaded and nothing of the dbt project or the gates changed since the last
published build skips the raw gate, dbt, the marts gate and publish; :func:`dbt_build` reloads
the seeds only when they changed and rebuilds with ``--full-refresh`` when the project did.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jixiao import runs
from jixiao.config import Settings, get_settings
from jixiao.errors import QualityGateBlocked, ReportRefused
from jixiao.warehouse import db

log = logging.getLogger(__name__)


def _settings(settings: Settings | None) -> Settings:
    return (settings or get_settings()).ensure()


def pull(settings: Settings | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Fetch new and changed workbooks from the departments' sources into the inbox (拉取).

    The sources file (:mod:`jixiao.ingest.pull`) lists folders and SFTP servers; without one
    the stage passes and the local inbox is read as before. A source that is down fails only
    its own pull: the stage records it (``warning``) and the other sources' files still load.
    A wrong sources file is a data error (fix the file).
    """
    from jixiao.ingest.pull import pull as _pull
    from jixiao.ingest.pull import sources_file

    s = _settings(settings)
    with runs.stage(s, run_id or runs.new_run_id(), "pull") as info:
        results = _pull(s)
        failed = [r for r in results if r.status != "passed"]
        pulled = sum(len(r.pulled) for r in results)
        out = {
            "sources_file": str(sources_file(s)),
            "sources": [dataclasses.asdict(r) for r in results],
            "files_pulled": pulled,
            "sources_failed": len(failed),
        }
        if not results:
            info["summary"] = "未配置来源，只读本地收件箱 / no sources configured: the local inbox"
        else:
            info["summary"] = (
                f"{len(results)} 个来源、拉取 {pulled} 个文件、失败 {len(failed)} 个来源 / "
                f"{len(results)} sources, {pulled} files pulled, {len(failed)} sources failed"
                + "".join(f"; {r.name}: {r.error}" for r in failed)
            )
        info["detail"] = {"files_pulled": pulled, "sources_failed": len(failed)}
        if failed:
            info["status"] = runs.WARNING
            log.warning("来源拉取失败 / sources failed: %s", [(r.name, r.error) for r in failed])
    return out


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
    """Load workbooks into the raw schema; quarantine what cannot be loaded (载入与隔离).

    The files go into the DuckDB staging file (``settings.warehouse``) as always. On
    ``JIXIAO_WAREHOUSE=postgres`` the new load attempts' rows are then copied to the server
    (:func:`jixiao.warehouse.postgres.sync_raw`), on ``spark`` written as new Parquet parts
    (:func:`jixiao.warehouse.spark.export_raw_incremental`); the stage detail records the rows,
    attempts and seconds (``raw_sync``). A server that is down or a folder that cannot be
    written does not fail the ingest: the files are committed to the staging file, the stage
    is a warning, and the next sync (``dbt_build`` on PostgreSQL, its raw load on Spark)
    catches up.
    """
    from jixiao.ingest.loader import ingest_files

    s = _settings(settings)
    with runs.stage(s, run_id or runs.new_run_id(), "ingest") as info:
        summary = ingest_files(s, [path_from_text(p) for p in paths] if paths is not None else None)
        result = dict(summary.to_dict())
        counts = {k: v for k, v in result.items() if isinstance(v, int)}
        info["detail"] = counts
        info["summary"] = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        if s.warehouse_engine in ("postgres", "spark"):
            synced = _write_raw_to_engine(s)
            result["raw_sync"] = synced
            info["detail"]["raw_sync"] = synced
            # not written, or written whole because the target held other attempts: warn
            if synced["status"] == "failed" or "reason" in synced:
                info["status"] = runs.WARNING
            info["summary"] += f" · {synced['summary']}"
            if "reason" in synced:
                info["summary"] += f" · {synced['reason']}"
    return result


def _write_raw_to_engine(s: Settings) -> dict[str, Any]:
    """The staging file's new load attempts to the engine's raw layer, after ingest (原始层
    写入引擎); never raises for a server that is down or a folder that cannot be written."""
    engine = s.warehouse_engine
    try:
        if engine == "postgres":
            from jixiao.warehouse import postgres

            try:
                out = postgres.sync_raw(s)
            except postgres.sync_errors() as exc:
                return _sync_failed(engine, exc)
            where = "PostgreSQL"
        else:
            from jixiao.warehouse import spark

            try:
                out = spark.export_raw_incremental(s)
            except spark.export_errors() as exc:
                return _sync_failed(engine, exc)
            where = "Parquet"
    except ImportError as exc:  # the engine's driver is not installed
        return _sync_failed(engine, exc)
    rows = sum(out["rows"].values())
    synced = {
        "status": "passed",
        "engine": engine,
        "mode": out["mode"],
        "rows": rows,
        "attempts": out["attempts"],
        "groups": out["groups"],
        "seconds": out["seconds"],
        "summary": f"{where}：写入原始层 {out['attempts']} 个批次 {rows} 行 / raw to {where}: "
        f"{out['attempts']} attempts, {rows} rows ({out['mode']})",
    }
    if "reason" in out:
        synced["reason"] = out["reason"]
    if "orphans_removed" in out:
        synced["orphans_removed"] = out["orphans_removed"]
    return synced


#: what writes the raw layer again after a failed write at ingest, per engine
_CATCH_UP = {
    "postgres": ("dbt_build 时再同步", "dbt_build syncs again"),
    "spark": (
        "下次导出（dbt_build 载入原始层时）补写",
        "the next export (dbt_build's spark.load_raw) catches up",
    ),
}


def _sync_failed(engine: str, exc: BaseException) -> dict[str, Any]:
    log.warning("原始层未能写入 %s / the raw layer was not written to %s: %s", engine, engine, exc)
    message = " ".join(str(exc).split())
    zh, en = _CATCH_UP[engine]
    return {
        "status": "failed",
        "engine": engine,
        "error": message,
        "summary": (
            f"原始层未能写入 {engine}，文件已载入暂存库，{zh} / the raw layer was not written "
            f"to {engine} ({type(exc).__name__}: {message}); the files are loaded in the "
            f"staging file and {en}"
        ),
    }


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
            "mode": result.mode,
            "mode_reason": result.mode_reason,
        }
        info["summary"] = (
            f"关键失败 critical {len(result.critical_failures)} · "
            f"警告 warnings {len(result.warnings)} · {result.mode}: {result.mode_reason}"
        )
    return dict(result.to_dict())


def gate_raw(settings: Settings | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Great Expectations gate on the raw schema (原始层质量闸门)."""
    return _gate("raw", settings, run_id=run_id)


# --- what a night does (今晚做什么) ------------------------------------------------------

#: stages a night with nothing new skips (无新增时跳过的阶段), in order
SKIPPABLE_STAGES = ("gate_raw", "dbt_build", "gate_marts", "publish")
SKIP_SUMMARY = "skipped: nothing new / 无新增或变更文件，跳过"
#: the kinds of build state the warehouse remembers (jixiao.warehouse.db.read_state)
BUILD, NIGHT = "dbt_build", "published_night"


def _gates_fingerprint(s: Settings) -> str:
    """The expectation suites and the gate code (质量闸门指纹): a changed gate re-runs."""
    from jixiao.config import PROJECT_ROOT
    from jixiao.warehouse.dbt import fingerprint_files

    files = [p for p in s.expectations_dir.rglob("*") if p.is_file()]
    files += (PROJECT_ROOT / "src" / "jixiao" / "quality").glob("*.py")
    return fingerprint_files(files, PROJECT_ROOT)


def fingerprints(s: Settings) -> dict[str, str]:
    """The current fingerprints a night is planned on (当前指纹): raw, project, seeds, gates."""
    from jixiao.warehouse.dbt import project_fingerprint

    return {
        "raw": db.raw_fingerprint(s),
        **project_fingerprint(s),
        "gates": _gates_fingerprint(s),
        "target": build_target(s),
    }


DEFAULT_TARGET = "duckdb"
"""The build target a state recorded before targets were remembered was built on."""


def build_target(s: Settings) -> str:
    """Where dbt builds (构建目标): ``duckdb`` (the working file), ``postgres:<host>:<port>/<db>``
    or ``spark:<spark dir>``. A night on another target than the last build's rebuilds in
    full and reloads the seeds there, and is never "nothing new"."""
    engine = s.warehouse_engine
    if engine == "postgres":
        from jixiao.warehouse.postgres import connection_settings

        address = connection_settings()
        return f"postgres:{address.host}:{address.port}/{address.dbname}"
    if engine == "spark":
        from jixiao.warehouse.spark import spark_dir

        return f"spark:{spark_dir(s)}"
    return DEFAULT_TARGET


def build_state(s: Settings) -> dict[str, dict[str, Any]]:
    """What the warehouse remembers (构建状态): ``dbt_build`` (fingerprints of the last
    successful dbt build) and ``published_night`` (those of the build last published)."""
    return db.read_state(s)


def nothing_to_do(s: Settings, current: dict[str, str] | None = None) -> bool:
    """True when raw, the dbt project and the gates are exactly as they were when the
    published marts were built (无事可做): the night would rebuild the same marts."""
    night = build_state(s).get(NIGHT)
    if not night:
        return False
    now = current or fingerprints(s)
    if night.get("target", DEFAULT_TARGET) != now["target"]:
        return False
    return all(night.get(k) == now[k] for k in ("raw", "project", "gates"))


def plan_night(
    settings: Settings | None = None,
    run_id: str | None = None,
    *,
    discovered: int | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Decide what tonight does, after ingest (今晚的计划); the one place this is decided.

    Nothing new (``nothing_to_do``): no file was loaded or quarantined since the published
    build and neither the dbt project nor the gates changed. Then the raw gate, dbt build,
    marts gate and publish are recorded ``skipped`` in this run's stage records with
    :data:`SKIP_SUMMARY`, and the DAG skips them; the quality report still records the night.
    ``force`` runs everything anyway. A night after a failed build or a refused publish is
    never "nothing new": the published night is recorded only when publish succeeds.
    """
    s = _settings(settings)
    rid = run_id or runs.new_run_id()
    current = fingerprints(s)
    state = build_state(s)
    skip = not force and nothing_to_do(s, current)
    last = state.get(BUILD) or {}
    moved = last.get("target", DEFAULT_TARGET) != current["target"]
    plan: dict[str, Any] = {
        "run_id": rid,
        "nothing_to_do": skip,
        "forced": force,
        "discovered": discovered,
        "raw_changed": (state.get(NIGHT) or {}).get("raw") != current["raw"],
        "full_refresh": moved or last.get("project") != current["project"],
        "reload_seeds": moved or last.get("seeds") != current["seeds"],
    }
    if skip:
        at = runs.now()
        for name in SKIPPABLE_STAGES:
            runs.record_stage(
                s,
                rid,
                name,
                {
                    "status": runs.SKIPPED,
                    "started_at": at,
                    "ended_at": at,
                    "summary": SKIP_SUMMARY,
                    "detail": {"reason": "nothing_new", "discovered": discovered},
                },
            )
        log.info(
            "无新增或变更文件，dbt 项目与质量闸门均未变更：跳过原始层闸门、dbt 构建、集市层闸门"
            "与发布 / nothing new: no file loaded, the dbt project and the gates unchanged "
            "since the published build; skipping %s",
            ", ".join(SKIPPABLE_STAGES),
        )
    else:
        log.info("今晚照常运行 / tonight runs every stage: %s", plan)
    return plan


RAW_DOWNSTREAM = "source:*+"
"""The nightly's dbt selection when neither the seeds nor the dbt project changed (原始层下游):
every node downstream of a raw table, with the data tests on them (dbt's eager indirect
selection also takes a test between such a node and a seed-only one). Seeds, the models built
from seeds alone (dim_fund_source, dim_evaluation_scheme, mart_report_labels) and their tests
are left as the last build made and tested them."""


def dbt_build(
    settings: Settings | None = None, run_id: str | None = None, *, full_refresh: bool = False
) -> dict[str, Any]:
    """Run and test the dbt project against the working warehouse (dbt 构建).

    The nightly build: dbt unit tests are left out (the test suite runs them); the seeds are
    reloaded only when the seed files changed since the last successful build (or the
    warehouse has none); a changed dbt project rebuilds with ``--full-refresh``, so
    incremental models stay equal to a full build. With neither changed, only the nodes
    downstream of a raw table run (:data:`RAW_DOWNSTREAM`). ``full_refresh`` forces both. A
    successful build records its fingerprints in the warehouse; a failed one records nothing.

    With ``JIXIAO_WAREHOUSE=postgres`` the build runs on the server: first the DuckDB file's
    raw tables are brought up to date there (:func:`jixiao.warehouse.postgres.sync_raw`: ingest
    already copied its new attempts, so this is a no-op or the catch-up after a server that was
    down; the DuckDB file stays the staging store), after the build the readers' grants and
    row-level security are put back (``secure_marts``). The marts gate then validates a copy
    of the server's marts and publish publishes that copy (docs/warehouse.md, "On PostgreSQL").
    With ``JIXIAO_WAREHOUSE=spark`` the Parquet raw tables are brought up to date and registered
    in this process's Spark session (:func:`jixiao.warehouse.spark.load_raw`), dbt builds
    there, and the built marts are copied back into the DuckDB working file in this same
    process (:mod:`jixiao.warehouse.spark_marts`) for the marts gate and publish ("On Spark").
    """
    from jixiao.warehouse.dbt import build

    s = _settings(settings)
    forced = full_refresh
    on_server = s.warehouse_engine == "postgres"
    on_spark = s.warehouse_engine == "spark"
    with runs.stage(s, run_id or runs.new_run_id(), "dbt_build") as info:
        current = fingerprints(s)
        last = build_state(s).get(BUILD) or {}
        # another engine or server than the last build's holds neither its seeds nor its
        # incremental facts: everything is built there afresh (换了引擎即全量重建)
        moved = last.get("target", DEFAULT_TARGET) != current["target"]
        full_refresh = forced or moved or last.get("project") != current["project"]
        seeds = forced or moved or last.get("seeds") != current["seeds"]
        exclude = ("unit_test",) if seeds else ("unit_test", "seed")
        # seeds and project unchanged: what reads no raw table cannot have changed, so only
        # the nodes downstream of a raw table are rebuilt and tested (只重建原始层下游)
        select = None if (seeds or full_refresh) else RAW_DOWNSTREAM
        server: dict[str, Any] = {}
        if on_server:
            from jixiao.warehouse import postgres

            # the DuckDB file is the staging store: ingest synced its new attempts to the
            # server; again here, a no-op or the catch-up after a server that was down
            loaded = postgres.sync_raw(s)
            server["raw_rows_loaded"] = sum(loaded["rows"].values())
            server["raw_attempts_loaded"] = loaded["attempts"]
            server["raw_sync_mode"] = loaded["mode"]
            if "reason" in loaded:
                server["raw_sync_reason"] = loaded["reason"]
            server["load_raw_seconds"] = loaded["seconds"]
        elif on_spark:
            from jixiao.warehouse import spark

            # the raw layer as Parquet, registered in this process's Spark session, which
            # dbt-spark (method: session) then builds in
            loaded = spark.load_raw(s)
            server["raw_rows_loaded"] = sum(loaded["rows"].values())
            server["load_raw_seconds"] = loaded["seconds"]
        result = build(s, select=select, full_refresh=full_refresh, exclude_resource_types=exclude)
        if on_spark:
            from jixiao.warehouse import spark_marts

            # the gate and publish read DuckDB: the built marts come back in this process,
            # the one holding the Spark session and its metastore (集市复制回 DuckDB)
            back = spark_marts.copy_marts_from_spark(s)
            server["marts_tables_copied"] = len(back["rows"])
            server["copy_marts_seconds"] = back["seconds"]
        if on_server:
            # dbt recreates table models without policies: readers and RLS after every build
            with postgres.connect() as con:
                access = postgres.secure_marts(con)
            server["secured_tables"] = {
                "filtered": len(access.filtered),
                "shared": len(access.shared),
                "withheld": len(access.withheld),
            }
        # the marts gate validates in full after a full refresh (质量闸门据此全量校验)
        refreshed = datetime.now(UTC).isoformat() if full_refresh else last.get("full_refresh_at")
        built = {k: current[k] for k in ("raw", "project", "seeds", "target")}
        db.record_state(s, BUILD, {**built, "full_refresh_at": refreshed})
        mode = []
        if full_refresh:
            mode.append("全量重建 full refresh")
        mode.append("重新载入种子 seeds reloaded" if seeds else "种子未变 seeds unchanged")
        if select:
            mode.append("只建原始层下游 raw-downstream nodes only")
        if on_server:
            mode.append(
                f"PostgreSQL：复制原始层 {server['raw_rows_loaded']} 行，集市已加行级安全 / "
                f"raw copied ({server['raw_rows_loaded']} rows), marts secured"
            )
        if on_spark:
            mode.append(
                f"Spark：载入原始层 {server['raw_rows_loaded']} 行，"
                f"{server['marts_tables_copied']} 张集市表复制回 DuckDB / raw loaded "
                f"({server['raw_rows_loaded']} rows), {server['marts_tables_copied']} marts "
                "tables copied back to DuckDB"
            )
        info["summary"] = f"{len(result.nodes)} 个节点通过 / nodes passed · " + " · ".join(mode)
        info["detail"] = {
            **result.to_dict(),
            "full_refresh": full_refresh,
            "seeds_reloaded": seeds,
            "excluded": list(exclude),
            "select": select,
            **server,
        }
    return {
        **result.to_dict(),
        "full_refresh": full_refresh,
        "seeds_reloaded": seeds,
        "select": select,
        "engine": s.warehouse_engine,
        **server,
    }


def gate_marts(settings: Settings | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Great Expectations gate on the marts, before publishing (集市层质量闸门)."""
    return _gate("marts", settings, run_id=run_id)


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
    published version (``years_changed``, which the publisher computes while it copies): the
    yearly report DAG regenerates those years.

    With ``JIXIAO_WAREHOUSE=postgres`` the version just published (and only after that
    succeeded) is also swapped into the server's ``published`` schema, which BI readers read
    (:func:`jixiao.publish.postgres.publish_to_server`; ``result["server"]``). If that fails,
    the stage fails, the server keeps its previous version, and the next publish puts both
    in step again.
    """
    from jixiao.publish.publisher import publish as _publish

    s = _settings(settings)
    rid = run_id or runs.new_run_id()
    try:
        with runs.stage(s, rid, "publish") as info:
            result = dict(
                _publish(
                    s,
                    run_id=rid,
                    override_gate=override_gate,
                    override_reason=override_reason,
                    override_by=override_by,
                ).to_dict()
            )
            keys = ("marts_fingerprint", "gate_status", "override", "years_changed")
            info["detail"] = {k: result[k] for k in keys}
            override = result.get("override")
            by = ""
            if override:
                by = f" · 人工越过 OVERRIDDEN by {override['by']}: {override['reason']}"
            info["summary"] = f"闸门状态 gate {result['gate_status']}" + by
            if s.warehouse_engine == "postgres":
                from jixiao.publish.postgres import publish_to_server

                # the version just published, gate-checked, swapped in on the server too
                server = publish_to_server(
                    s,
                    run_id=result["run_id"],
                    marts_fingerprint=result["marts_fingerprint"],
                    gate_status=result["gate_status"],
                ).to_dict()
                result["server"] = server
                info["detail"]["server"] = server
                info["summary"] += (
                    f" · PostgreSQL：{server['tables']} 张表已切换到 published 模式 / "
                    f"{server['tables']} tables swapped into schema published"
                )
        _record_published_night(s)
    finally:
        _refresh_report(s, rid)
    return result


def _record_published_night(s: Settings) -> None:
    """After a successful publish, remember what the published marts were built from
    (记录已发布的构建): the last build's raw and project fingerprints and today's gates. The
    next night with nothing new compares with this. If it cannot be written, the next night
    simply runs in full."""
    build = build_state(s).get(BUILD)
    if not build:
        return
    try:
        db.record_state(s, NIGHT, {**build, "gates": _gates_fingerprint(s)})
    except Exception:
        log.exception("recording the published night failed; the next night runs in full")


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
    year: int,
    department: str | None = None,
    settings: Settings | None = None,
    unit: str | None = None,
) -> dict[str, Any]:
    """Produce the yearly reports from the marts, only after the gate passed (年度报告).

    ``unit`` is the money unit of the department and region reports (``wan`` 万元 or ``yuan``
    元); without it ``$JIXIAO_REPORT_UNIT``, else 万元.
    """
    from jixiao.reports.yearly import build_reports

    s = _settings(settings)
    check_year_gate(year, s)
    paths = build_reports(s, year, department=department, unit=unit)  # type: ignore[arg-type]
    return {
        "year": year,
        "department": department,
        "unit": unit,
        "files": [str(p) for p in paths],
    }


def summary(settings: Settings | None = None) -> dict[str, Any]:
    """What the runs produced: files, rows per mart, where things are (运行摘要)."""
    s = _settings(settings)
    marts_db = s.published if s.published.exists() else s.warehouse
    return {
        "warehouse": str(s.warehouse),
        "published": str(s.published),
        "reports": str(s.reports),
        "quality_report": str(s.quality / "index.html"),
        "files": db.file_outcomes(s, s.warehouse),
        "marts": db.table_counts(s, marts_db, "marts"),
    }
