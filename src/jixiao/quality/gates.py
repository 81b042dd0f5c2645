"""Quality gates (质量闸门): a real GX checkpoint per gate over frames pulled from DuckDB.

``run_gate("raw" | "marts", settings, year=None)`` exports one parquet frame per suite
(see :mod:`jixiao.quality.frames`), runs the gate's checkpoint (``raw_gate`` /
``marts_gate``, with ``UpdateDataDocsAction``), writes ``quality/gates/<gate>[_<year>].json``
and raises :class:`QualityGateFailed` when a *critical* expectation fails. Severity is read
from each expectation's ``meta.severity`` in the suite JSON; warnings never block.

A night on which only some submissions changed validates only their rows for row-level
expectations and evaluates the table-level ones (uniqueness) in DuckDB SQL on the whole
frame; a full validation runs when there is no previous state, the previous run failed, a
suite or the gate code changed, or the warehouse was rebuilt (:mod:`jixiao.quality.incremental`).
The result records ``mode`` (full | incremental) and ``mode_reason``.

The marts gate also records ``marts_fingerprint``: the publisher's content fingerprint of the
warehouse marts, computed on the same read-only connection the frames were exported from, so
``jixiao.publish.publisher.publish`` can refuse any state other than the one validated.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jixiao.config import Settings, duckdb_connect
from jixiao.quality import context as gxctx
from jixiao.quality import incremental as inc
from jixiao.quality.frames import Frame, frames_for
from jixiao.warehouse import db

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5
MISSING_COLUMN = "__missing_relation__"


class QualityGateFailed(RuntimeError):
    """A critical expectation failed: nothing is published (关键校验未通过，禁止发布)."""

    def __init__(self, result: GateResult) -> None:
        self.result = result
        super().__init__(result.failure_message())


@dataclass
class FailedExpectation:
    """One failing expectation with sample rows (未通过的校验项及样例行)."""

    suite: str
    expectation_id: str | None
    expectation_type: str
    severity: str
    column: str | None
    kwargs: dict[str, Any]
    notes_zh: str | None
    notes_en: str | None
    unexpected_count: int | None
    element_count: int | None
    sample_rows: list[dict[str, Any]] = field(default_factory=list)
    exception: str | None = None

    def describe(self) -> str:
        what = self.notes_zh or self.expectation_type
        what_en = self.notes_en or self.expectation_type
        count = f"{self.unexpected_count} 行/rows" if self.unexpected_count is not None else ""
        head = f"[{self.severity}] {self.suite}: {what} / {what_en} {count}".rstrip()
        lines = [head]
        if self.exception:
            lines.append(f"    error: {self.exception}")
        lines += [f"    e.g. {json.dumps(r, ensure_ascii=False)}" for r in self.sample_rows]
        return "\n".join(lines)


@dataclass
class SuiteResult:
    """GX result for one suite (单个校验套件的结果)."""

    suite: str
    success: bool
    critical_success: bool
    evaluated: int
    failed: int
    row_count: int | None
    missing_relations: list[str]
    failures: list[FailedExpectation]
    #: rows GX validated (the changed ones on an incremental run; row_count is the frame's)
    validated_rows: int | None = None


@dataclass
class GateResult:
    """Outcome of one gate run (一次闸门运行结果), serialised to ``gates/<gate>.json``."""

    gate: str
    year: int | None
    success: bool
    gx_success: bool
    run_at: str
    duration_seconds: float
    data_docs: str
    suites: list[SuiteResult]
    run_id: str | None = None
    marts_fingerprint: str | None = None
    #: full | incremental, and why (全量或增量及原因); ``changed``: keys, files, projects, years
    mode: str = inc.FULL
    mode_reason: str = ""
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def critical_failures(self) -> list[FailedExpectation]:
        return [f for s in self.suites for f in s.failures if f.severity == "critical"]

    @property
    def warnings(self) -> list[FailedExpectation]:
        return [f for s in self.suites for f in s.failures if f.severity != "critical"]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["critical_failure_count"] = len(self.critical_failures)
        d["warning_count"] = len(self.warnings)
        return d

    def failure_message(self) -> str:
        scope = f"{self.gate}" + (f" ({self.year})" if self.year is not None else "")
        lines = [
            f"质量闸门 {scope} 未通过：{len(self.critical_failures)} 项关键校验失败 / "
            f"quality gate {scope} failed: {len(self.critical_failures)} critical expectation(s)"
        ]
        lines += [f.describe() for f in self.critical_failures]
        return "\n".join(lines)


def result_path(settings: Settings, gate: str, year: int | None = None) -> Path:
    """``quality/gates/<gate>[_<year>].json``."""
    suffix = f"_{int(year)}" if year is not None else ""
    return settings.quality / "gates" / f"{gate}{suffix}.json"


def history_path(settings: Settings) -> Path:
    """Append-only run history used by the report's trend chart (运行历史)."""
    return settings.quality / "history" / "gate_runs.jsonl"


def run_gate(
    gate: str,
    settings: Settings,
    year: int | None = None,
    run_id: str | None = None,
    *,
    full: bool = False,
) -> GateResult:
    """Run the ``raw`` or ``marts`` gate; raise :class:`QualityGateFailed` on critical failures.

    ``run_id`` names the pipeline run the result belongs to (shown by the stewards' report).
    ``full`` validates every row even when an incremental run would do (全量校验).
    """
    frames = frames_for(gate)
    started = time.monotonic()
    run_at = dt.datetime.now(dt.UTC)
    with gxctx.locked(settings):
        root = gxctx.prepare(settings)
        if gate == "marts" and settings.warehouse_engine == "postgres":
            _copy_server_marts(settings)
        export = _export_frames(settings, frames, year, gate == "marts", gate=gate, force_full=full)
        for suite, table_level in export.in_sql.items():
            inc.strip_runtime_suite(root, suite, table_level)
        checkpoint_result = _run_checkpoint(root, gate, year, run_at)
        suites = [_suite_result(frame, checkpoint_result, export, settings) for frame in frames]
        success = all(s.critical_success for s in suites)
        inc.save_state(settings, gate, year, export.plan, success)
    result = GateResult(
        gate=gate,
        year=year,
        success=success,
        gx_success=bool(checkpoint_result.success)
        and all(o.success for outs in export.sql.values() for o in outs),
        run_at=run_at.isoformat(timespec="seconds"),
        duration_seconds=round(time.monotonic() - started, 3),
        data_docs=str(gxctx.data_docs_index(settings)),
        suites=suites,
        run_id=run_id,
        marts_fingerprint=export.fingerprint,
        mode=export.plan.mode,
        mode_reason=export.plan.reason,
        changed=dict(export.plan.changed),
    )
    _write(settings, result)
    for failure in result.warnings:
        log.warning("%s", failure.describe())
    if not result.success:
        log.error("%s", result.failure_message())
        raise QualityGateFailed(result)
    log.info("quality gate %s passed (%d suites)", gate, len(suites))
    return result


def _copy_server_marts(settings: Settings) -> None:
    """On PostgreSQL, the marts the gate validates are the server's (服务器上的集市): one
    consistent snapshot of its ``marts`` and ``quality`` schemas replaces the working DuckDB
    file's (:func:`jixiao.warehouse.postgres.copy_marts_from_server`, exact types and values),
    and the frames, the incremental plan and the marts fingerprint are read from that copy
    with the same queries as on DuckDB. Publish publishes exactly this copy: the fingerprint
    the gate records is the copy's, so a build on the server after the gate cannot slip an
    unvalidated state into the published file."""
    from jixiao.warehouse import postgres

    copied = postgres.copy_marts_from_server(settings)
    log.info(
        "集市闸门读取 PostgreSQL 集市 / marts gate reads the PostgreSQL marts: %d tables, "
        "%d rows, %.1f s",
        len(copied["rows"]),
        sum(copied["rows"].values()),
        copied["seconds"],
    )


def latest_result(
    settings: Settings, gate: str = "marts", year: int | None = None
) -> dict[str, Any] | None:
    """The latest run of ``gate`` covering ``year`` (per-year or all-years file), or None."""
    candidates = [result_path(settings, gate, None)]
    if year is not None:
        candidates.insert(0, result_path(settings, gate, year))
    latest: dict[str, Any] | None = None
    for path in candidates:
        if not path.is_file():
            continue
        data = load_result(path)
        if latest is None or data["run_at"] > latest["run_at"]:
            latest = data
    return latest


def gate_passed(settings: Settings, gate: str = "marts", year: int | None = None) -> bool:
    """Did the latest run of ``gate`` (for ``year``, or over all years) pass? (闸门是否通过)."""
    latest = latest_result(settings, gate, year)
    return bool(latest and latest["success"])


def gate_summary(settings: Settings, gate: str = "marts", year: int | None = None) -> str:
    """Human-readable state of the latest gate run, listing critical failures (闸门摘要)."""
    latest = latest_result(settings, gate, year)
    if latest is None:
        return f"质量闸门 {gate} 尚未运行 / quality gate {gate} has not run yet"
    state = "通过 passed" if latest["success"] else "未通过 failed"
    lines = [f"质量闸门 {gate} ({latest['run_at']}): {state}"]
    for suite in latest["suites"]:
        for f in suite["failures"]:
            if f["severity"] == "critical":
                lines.append(
                    f"[critical] {f['suite']}: {f.get('notes_zh') or f['expectation_type']}"
                    f" / {f.get('notes_en') or ''} ({f.get('unexpected_count')} rows)"
                )
                lines += [f"    e.g. {json.dumps(r, ensure_ascii=False)}" for r in f["sample_rows"]]
    return "\n".join(lines)


def load_result(path: Path) -> dict[str, Any]:
    """Read a gate result JSON written by :func:`run_gate`."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# --- frames -------------------------------------------------------------------------------


def _existing_relations(con: Any) -> set[str]:
    return db.relations(con)


@dataclass
class Export:
    """What :func:`_export_frames` wrote and decided (导出结果)."""

    plan: inc.Plan
    missing: dict[str, list[str]] = field(default_factory=dict)
    fingerprint: str | None = None
    #: per suite, the table-level expectations evaluated in SQL (taken out of GX's copy)
    in_sql: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sql: dict[str, list[inc.SqlOutcome]] = field(default_factory=dict)
    #: per suite, the rows of the whole frame (when GX saw only the changed ones)
    row_counts: dict[str, int] = field(default_factory=dict)


def _export_frames(
    settings: Settings,
    frames: list[Frame],
    year: int | None,
    fingerprint: bool = False,
    *,
    gate: str | None = None,
    force_full: bool = False,
) -> Export:
    """Write one parquet per suite (the changed rows only on an incremental run, see
    :mod:`jixiao.quality.incremental`); return the relations each frame was missing, the
    plan, the SQL-evaluated expectations and, when ``fingerprint``, the marts' content
    fingerprint read on the same connection (集市指纹)."""
    from jixiao.publish.publisher import marts_fingerprint_of

    out, full_out = gxctx.frames_dir(settings), gxctx.full_frames_dir(settings)
    gate = gate or frames[0].gate
    if not settings.warehouse.is_file():
        raise FileNotFoundError(
            f"找不到数据仓库文件 {settings.warehouse} / warehouse file not found: "
            f"{settings.warehouse} (run ingest first)"
        )
    con = duckdb_connect(settings, settings.warehouse, read_only=True)
    try:
        plan = inc.decide(settings, gate, year, con, force_full=force_full)
        export = Export(plan)
        inc.prepare_scope(con, plan, inc.state_paths(settings, gate, year)[0])
        if fingerprint:
            export.fingerprint = marts_fingerprint_of(con, settings.warehouse.stem)
        existing = _existing_relations(con)
        for frame in frames:
            target = str(out / f"{frame.suite}.parquet").replace("'", "''")
            absent = [t for t in frame.tables if t not in existing]
            if absent:
                export.missing[frame.suite] = absent
                con.execute(f"copy (select 1 as {MISSING_COLUMN}) to '{target}' (format parquet)")
                continue
            full = str(full_out / f"{frame.suite}.parquet").replace("'", "''")
            query = frame.render(year)
            scoped, table_level = inc.split_suite(inc.suite_expectations(settings, frame.suite))
            if plan.incremental and scoped and frame.scope != "all":
                export.in_sql[frame.suite] = table_level
                export.sql[frame.suite] = [
                    inc.evaluate_table_level(con, query, e, SAMPLE_ROWS) for e in table_level
                ]
                total = con.execute(f"select count(*) from ({query})").fetchone()
                export.row_counts[frame.suite] = int(total[0]) if total else 0
                query = f"select * from ({query}) as f where {inc.scope_predicate(frame.scope)}"
            con.execute(f"copy ({query}) to '{full}' (format parquet)")
            columns = [r[0] for r in con.execute(f"describe select * from '{full}'").fetchall()]
            keep = checked_columns(frame.suite, columns, settings)
            # insertion order is preserved: row i of the GX frame is row i of the full one
            select = ", ".join('"' + c.replace('"', '""') + '"' for c in keep)
            con.execute(f"copy (select {select} from '{full}') to '{target}' (format parquet)")
    finally:
        con.close()
    return export


def checked_columns(suite: str, columns: list[str], settings: Settings) -> list[str]:
    """The frame's columns its suite's expectations name, in frame order (被校验的列).

    A column counts when any string in an expectation's kwargs (column, column_list, a row
    condition's column or text) is that column's name or contains it as a word; a suite that
    names none keeps the first column, so the row count is still validated.
    """
    path = settings.expectations_dir / "expectations" / f"{suite}.json"
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            names.add(value)
            names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    for expectation in json.loads(path.read_text(encoding="utf-8")).get("expectations", []):
        walk(expectation.get("kwargs", {}))
    keep = [c for c in columns if c in names]
    return keep or columns[:1]


# --- checkpoint ---------------------------------------------------------------------------


def _run_checkpoint(root: Path, gate: str, year: int | None, run_at: dt.datetime) -> Any:
    """Run the gate's checkpoint, then build Data Docs once for all of its results.

    The checkpoints carry no ``update_data_docs`` action: GX runs that action once per
    validation result and rebuilds the site's index each time (ten index builds for the marts
    gate, 14 of a small gate's 22 CPU s). One build with every result of this run gives the
    same pages (数据文档一次构建).
    """
    context = gxctx.open_context(root)
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    checkpoint = context.checkpoints.get(f"{gate}_gate")
    run_name = f"{gate}_{year if year is not None else 'all'}"
    result = checkpoint.run(run_id=RunIdentifier(run_name=run_name, run_time=run_at))
    identifiers: list[Any] = []
    for identifier, validation in result.run_results.items():
        identifiers += [identifier, ExpectationSuiteIdentifier(name=validation.suite_name)]
    context.build_data_docs(resource_identifiers=identifiers, build_index=True)
    return result


def _suite_result(
    frame: Frame, checkpoint_result: Any, export: Export, settings: Settings
) -> SuiteResult:
    validation = next(
        v for v in checkpoint_result.run_results.values() if v.suite_name == frame.suite
    )
    missing = export.missing.get(frame.suite, [])
    outcomes = export.sql.get(frame.suite, [])
    parquet = gxctx.frames_dir(settings) / f"{frame.suite}.parquet"
    full = gxctx.full_frames_dir(settings) / f"{frame.suite}.parquet"
    failures: list[FailedExpectation] = []
    if missing:
        failures.append(_missing_failure(frame, missing))
    else:
        failures = [_failure(frame.suite, r, full) for r in validation.results if not r.success]
        failures += [_sql_failure(frame.suite, o) for o in outcomes if not o.success]
        if outcomes:  # the suite's order, as a full run reports them
            order = {
                e.get("id"): i for i, e in enumerate(inc.suite_expectations(settings, frame.suite))
            }
            failures.sort(key=lambda f: order.get(f.expectation_id, len(order)))
    validated = None if missing else _row_count(parquet)
    row_count = export.row_counts.get(frame.suite, validated) if not missing else None
    return SuiteResult(
        suite=frame.suite,
        success=bool(validation.success) and not missing and all(o.success for o in outcomes),
        critical_success=not any(f.severity == "critical" for f in failures),
        evaluated=len(validation.results) + len(outcomes),
        failed=len(failures),
        row_count=row_count,
        missing_relations=missing,
        failures=failures,
        validated_rows=validated,
    )


def _sql_failure(suite: str, outcome: inc.SqlOutcome) -> FailedExpectation:
    """A table-level expectation that failed in SQL, reported as GX reports one (表级校验)."""
    e = outcome.expectation
    meta = dict(e.get("meta") or {})
    kwargs = {k: _jsonable(v) for k, v in dict(e.get("kwargs") or {}).items() if k != "batch_id"}
    return FailedExpectation(
        suite=suite,
        expectation_id=str(e["id"]) if e.get("id") else None,
        expectation_type=str(e["type"]),
        severity=str(meta.get("severity") or "critical"),
        column=kwargs.get("column"),
        kwargs=kwargs,
        notes_zh=meta.get("notes_zh"),
        notes_en=meta.get("notes_en"),
        unexpected_count=outcome.unexpected_count,
        element_count=outcome.element_count,
        sample_rows=[{str(k): _jsonable(v) for k, v in r.items()} for r in outcome.sample_rows],
    )


def _missing_failure(frame: Frame, missing: list[str]) -> FailedExpectation:
    names = ", ".join(missing)
    return FailedExpectation(
        suite=frame.suite,
        expectation_id=None,
        expectation_type="relation_exists",
        severity="critical",
        column=None,
        kwargs={"relations": missing},
        notes_zh=f"缺少数据表 {names}（dbt 是否已构建？）",
        notes_en=f"missing relation(s) {names} (has dbt built them?)",
        unexpected_count=None,
        element_count=None,
    )


def _failure(suite: str, r: Any, parquet: Path) -> FailedExpectation:
    config = r.expectation_config
    meta = dict(config.meta or {})
    severity = str(meta.get("severity") or "critical")
    kwargs = {k: _jsonable(v) for k, v in dict(config.kwargs).items() if k != "batch_id"}
    result = dict(r.result or {})
    exception = None
    if r.exception_info and r.exception_info.get("raised_exception"):
        exception = str(r.exception_info.get("exception_message"))
    return FailedExpectation(
        suite=suite,
        expectation_id=str(config.id) if config.id else None,
        expectation_type=config.type,
        severity=severity,
        column=kwargs.get("column"),
        kwargs=kwargs,
        notes_zh=meta.get("notes_zh"),
        notes_en=meta.get("notes_en"),
        unexpected_count=result.get("unexpected_count"),
        element_count=result.get("element_count"),
        sample_rows=_sample_rows(parquet, result.get("partial_unexpected_index_list") or []),
        exception=exception,
    )


def _sample_rows(parquet: Path, index: list[Any]) -> list[dict[str, Any]]:
    """Rows of the frame behind the first failing indexes, every column (样例行).

    ``parquet`` is the full frame; GX's indexes are positions in its column subset, which
    holds the same rows in the same order. Only those rows are read (not the whole file).
    """
    if not index:
        return []
    import duckdb

    positions = [int(i) for i in index[:SAMPLE_ROWS] if isinstance(i, int | float)]
    if not positions:
        return []
    path = str(parquet).replace("'", "''")
    with duckdb.connect() as con:
        cur = con.execute(
            "select * exclude (file_row_number)"
            f" from read_parquet('{path}', file_row_number = true)"
            " where file_row_number in (select unnest(?)) order by file_row_number",
            [positions],
        )
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    return [{str(k): _jsonable(v) for k, v in zip(names, row, strict=True)} for row in rows]


def _row_count(parquet: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(parquet).metadata.num_rows)


def _jsonable(value: Any) -> Any:
    """JSON-safe value: Decimal and dates as text, NaN as null (money stays exact)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, str | int | bool):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return str(value)


def _write(settings: Settings, result: GateResult) -> None:
    path = result_path(settings, result.gate, result.year)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    history = history_path(settings)
    history.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "gate": result.gate,
        "year": result.year,
        "run_id": result.run_id,
        "run_at": result.run_at,
        "success": result.success,
        "critical_failures": len(result.critical_failures),
        "warnings": len(result.warnings),
    }
    with history.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
