"""Gates that cost what changed (增量校验): which rows a gate run must validate.

What changed is decided exactly as the incremental facts decide it
(``dbt_project/macros/incremental_by_submission.sql``): the raw layer is append-only, so the
rows of a submission key ``project|year`` can only change when a file adds rows under it, and
then the key's fingerprint (row count and latest ``loaded_at`` over ``raw.submissions`` and
the raw tables, a row whose submission is another key's counting for that key too) differs
from the one stored. :func:`fingerprint_sql` is that macro's ``submission_fingerprints`` over
every raw table with a project (the project register, which has no year, under ``project|``),
plus one fingerprint per file over ``raw.load_log`` and ``raw.rejected_rows``.

After a passing run the gate stores the fingerprints it validated against
(``quality/gates/state/<gate>[_<year>].parquet`` and ``.json``). The next run compares:

* **row-level** expectations (each row passes or fails on its own values) validate, in GX,
  only the frame's rows in the changed scope (:data:`SCOPES`: the submission key, the
  project, the fiscal year or the file, per frame, see ``Frame.scope``);
* **table-level** expectations (uniqueness, compound-column uniqueness) are evaluated in
  DuckDB SQL on the whole frame, with GX's semantics (nulls ignored by column uniqueness,
  rows whose compound columns are all null ignored), and reported in the same shape;
* a suite holding any other kind of expectation (or ``mostly`` below 1) is validated whole.

A run validates everything (``full``) when there is no stored state, the previous run
failed, a suite or the gate code changed (checksum), the warehouse was rebuilt (raw: the
first load differs; marts: a ``--full-refresh`` or a changed dbt project since the last
gate), or a full run is asked for. The result JSON records the mode and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jixiao.config import PROJECT_ROOT, Settings
from jixiao.warehouse import db

FULL, INCREMENTAL = "full", "incremental"

#: how a frame's rows map to what changed (变更范围): submission key, project, year, file
SCOPES = ("key", "project", "year", "file", "all")

#: expectations decided row by row: on an incremental run GX sees only the changed rows
ROW_LEVEL = frozenset(
    {
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
    }
)
#: expectations over the whole table, evaluated in DuckDB SQL on the whole frame
TABLE_LEVEL_SQL = frozenset(
    {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
)

#: the gate code whose change forces a full run (with every file of ``expectations/``)
GATE_CODE = ("frames.py", "gates.py", "incremental.py")

STATE_KEY_SQL = "coalesce({p}, '') || '|' || coalesce(cast({y} as varchar), '')"


def _key(project: str, year: str) -> str:
    return STATE_KEY_SQL.format(p=project, y=year)


# --- what changed -------------------------------------------------------------------------


def _raw_columns(con: Any) -> dict[str, set[str]]:
    return db.columns(con, "raw", base_tables_only=True)


def fingerprint_sql(con: Any) -> str:
    """Per submission key and per file: row count and latest ``loaded_at`` (键指纹).

    The keys are the macro ``submission_fingerprints``'s, over every raw table that carries a
    project (``raw.projects`` has no year: its rows count for ``project|``).
    """
    columns = _raw_columns(con)
    parts: list[str] = []
    if "submissions" in columns:
        parts.append(
            f"select {_key('trim(project_key)', 'fiscal_year')} as k, loaded_at"
            " from raw.submissions"
        )
    keyed = sorted(
        t
        for t, cols in columns.items()
        if t != "submissions" and {"project_key", "loaded_at"} <= cols
    )
    for t in keyed:
        year = "fiscal_year" if "fiscal_year" in columns[t] else "null"
        parts.append(f"select {_key('trim(project_key)', year)} as k, loaded_at from raw.{t}")
    for t in keyed:
        if "submission_id" not in columns[t] or "submissions" not in columns:
            continue
        year = "r.fiscal_year" if "fiscal_year" in columns[t] else "null"
        # a row whose submission is another key's: that key's submissions count for it too
        parts.append(
            f"""select linked.row_key as k, s.loaded_at
from (
    select distinct {_key("trim(r.project_key)", year)} as row_key,
        {_key("trim(own.project_key)", "own.fiscal_year")} as sub_key
    from raw.{t} as r
    inner join raw.submissions as own on r.submission_id = own.submission_id
) as linked
inner join raw.submissions as s
    on {_key("trim(s.project_key)", "s.fiscal_year")} = linked.sub_key
where linked.row_key <> linked.sub_key"""
        )
    selects = []
    if parts:
        union = "\nunion all\n".join(parts)
        selects.append(
            "select 'key' as scope, k as key, count(*) as row_count,"
            f" max(loaded_at) as last_loaded_at from (\n{union}\n) group by k"
        )
    files = [
        f"select file_hash, loaded_at from raw.{t}"
        for t in ("load_log", "rejected_rows")
        if t in columns
    ]
    if files:
        selects.append(
            "select 'file' as scope, file_hash as key, count(*) as row_count,"
            " max(loaded_at) as last_loaded_at from ("
            + " union all ".join(files)
            + ") group by file_hash"
        )
    if not selects:
        return (
            "select cast(null as varchar) as scope, cast(null as varchar) as key,"
            " cast(null as bigint) as row_count, cast(null as timestamp) as last_loaded_at"
            " where false"
        )
    return "\nunion all\n".join(selects)


# --- the plan ---------------------------------------------------------------------------


@dataclass
class Plan:
    """How this gate run validates (本次闸门运行的方式)."""

    mode: str
    reason: str
    checksum: str
    identity: str | None
    build_marker: str | None
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def incremental(self) -> bool:
        return self.mode == INCREMENTAL


def state_paths(settings: Settings, gate: str, year: int | None) -> tuple[Path, Path]:
    """Where the last passing run's fingerprints (parquet) and meta (json) are kept."""
    suffix = f"_{int(year)}" if year is not None else ""
    base = settings.quality / "gates" / "state" / f"{gate}{suffix}"
    return base.with_suffix(".parquet"), base.with_suffix(".json")


def suites_checksum(settings: Settings) -> str:
    """SHA-256 over every file of ``expectations/`` and the gate code (校验套件校验和)."""
    h = hashlib.sha256()
    src = settings.expectations_dir
    files = sorted(p for p in src.rglob("*") if p.is_file())
    here = PROJECT_ROOT / "src" / "jixiao" / "quality"
    for path in files + [here / name for name in GATE_CODE]:
        if not path.is_file():
            continue
        h.update(path.name.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _scalar(con: Any, sql: str) -> Any:
    try:
        row = con.execute(sql).fetchone()
    except Exception:  # a missing table: no identity / no marker
        return None
    return row[0] if row else None


def warehouse_identity(con: Any) -> str | None:
    """The first load of the raw warehouse: a recreated warehouse has another (原始层身份)."""
    first = _scalar(con, "select cast(min(loaded_at) as varchar) from raw.load_log")
    return None if first is None else str(first)


def build_marker(con: Any) -> str | None:
    """What the marts were last built from: the dbt project's fingerprint and the time of
    the last ``--full-refresh`` (recorded by ``pipeline.dbt_build``), else None."""
    state = _scalar(con, "select state from jixiao_state.builds where kind = 'dbt_build'")
    if state is None:
        return None
    data = json.loads(state)
    return f"{data.get('project')}|{data.get('full_refresh_at')}"


def decide(
    settings: Settings,
    gate: str,
    year: int | None,
    con: Any,
    *,
    force_full: bool = False,
) -> Plan:
    """Full or incremental, and why (全量或增量及原因)."""
    checksum = suites_checksum(settings)
    identity = warehouse_identity(con)
    marker = build_marker(con) if gate == "marts" else None
    plan = Plan(FULL, "", checksum, identity, marker)
    parquet, meta_path = state_paths(settings, gate, year)
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError:
            meta = {}
    if force_full:
        plan.reason = "要求全量校验 / a full validation was asked for"
    elif identity is None or (gate == "marts" and marker is None):
        plan.reason = (
            "无法判断变更范围（原始层无载入记录或集市无构建记录）/ what changed cannot be told "
            "(no load record in the raw warehouse or no build record of the marts)"
        )
    elif not meta or not parquet.is_file():
        plan.reason = "没有上一次闸门运行的状态 / no state of a previous gate run"
    elif not meta.get("success"):
        plan.reason = "上一次闸门运行未通过 / the previous gate run failed"
    elif meta.get("checksum") != checksum:
        plan.reason = "校验套件或闸门代码已变更 / a suite or the gate code changed"
    elif meta.get("identity") != identity:
        plan.reason = "原始层已重建 / the raw warehouse was recreated"
    elif meta.get("build_marker") != marker:
        plan.reason = (
            "数据仓库已全量重建或 dbt 项目已变更 / the warehouse was fully rebuilt "
            "(--full-refresh) or the dbt project changed"
        )
    else:
        plan.mode = INCREMENTAL
    return plan


def prepare_scope(con: Any, plan: Plan, previous: Path) -> None:
    """Register on ``con`` the current fingerprints and, when incremental, what changed.

    ``_gate_fingerprints`` (every key and file now, also written beside ``previous`` as
    ``.pending``: :func:`save_state` keeps it when the run passes), and for an incremental plan
    ``_gate_changed`` (scope, key), ``_gate_changed_projects`` (projects of changed keys,
    with their parents and sub-projects) and ``_gate_changed_years``.
    """
    current = con.sql(fingerprint_sql(con)).to_arrow_table()
    con.register("_gate_fingerprints", current)
    previous.parent.mkdir(parents=True, exist_ok=True)
    pending = str(_pending(previous)).replace("'", "''")
    con.execute(f"copy (select * from _gate_fingerprints) to '{pending}' (format parquet)")
    if not plan.incremental:
        return
    prev = str(previous).replace("'", "''")
    changed = con.sql(
        f"""
select coalesce(c.scope, p.scope) as scope, coalesce(c.key, p.key) as key
from _gate_fingerprints as c
full outer join read_parquet('{prev}') as p on c.scope = p.scope and c.key = p.key
where c.key is null or p.key is null or c.row_count <> p.row_count
    or c.last_loaded_at is distinct from p.last_loaded_at"""
    ).to_arrow_table()
    con.register("_gate_changed", changed)
    tables = db.relations(con)
    links = []
    if "raw.projects" in tables:
        links.append(
            "select trim(project_key) as child, trim(parent_project_key) as parent"
            " from raw.projects where parent_project_key is not null"
        )
    if "marts.dim_project" in tables:
        links.append(
            "select trim(project_key), trim(parent_project_key) from marts.dim_project"
            " where parent_project_key is not null"
        )
    base = (
        "select distinct split_part(key, '|', 1) as project_key"
        " from _gate_changed where scope = 'key'"
    )
    projects_sql = base
    if links:
        link = " union all ".join(links)
        projects_sql = f"""
with base as ({base}), links as ({link})
select project_key from base
union select l.parent from links as l inner join base as b on l.child = b.project_key
union select l.child from links as l inner join base as b on l.parent = b.project_key"""
    projects = con.sql(projects_sql).to_arrow_table()
    con.register("_gate_changed_projects", projects)
    years_sql = (
        "select distinct try_cast(split_part(key, '|', 2) as integer) as fiscal_year"
        " from _gate_changed where scope = 'key' and split_part(key, '|', 2) <> ''"
    )
    if "raw.submissions" in tables:
        years_sql += (
            " union select distinct fiscal_year from raw.submissions"
            " where trim(project_key) in (select project_key from _gate_changed_projects)"
        )
    con.register("_gate_changed_years", con.sql(years_sql).to_arrow_table())
    counts = con.execute(
        "select"
        " (select count(*) from _gate_changed where scope = 'key'),"
        " (select count(*) from _gate_changed where scope = 'file'),"
        " (select count(*) from _gate_changed_projects),"
        " (select count(*) from _gate_changed_years)"
    ).fetchone()
    plan.changed = dict(zip(("keys", "files", "projects", "years"), map(int, counts), strict=True))
    plan.reason = (
        f"自上次通过以来变更：{plan.changed['keys']} 个报送键、{plan.changed['files']} 个文件 / "
        f"changed since the last passing run: {plan.changed['keys']} submission key(s), "
        f"{plan.changed['files']} file(s)"
    )


def scope_predicate(scope: str, alias: str = "f") -> str:
    """SQL predicate: a row of the frame (as ``alias``) is in the changed scope (变更范围)."""
    if scope == "key":
        return (
            f"{_key(f'trim({alias}.project_key)', f'{alias}.fiscal_year')}"
            " in (select key from _gate_changed where scope = 'key')"
        )
    if scope == "project":
        return (
            f"({alias}.project_key is null or trim({alias}.project_key) in"
            " (select project_key from _gate_changed_projects))"
        )
    if scope == "year":
        return (
            f"({alias}.fiscal_year is null or {alias}.fiscal_year in"
            " (select fiscal_year from _gate_changed_years))"
        )
    if scope == "file":
        return f"{alias}.file_hash in (select key from _gate_changed where scope = 'file')"
    if scope == "all":
        return "true"
    raise ValueError(f"未知的变更范围 {scope!r} / unknown change scope {scope!r}")


def _pending(parquet: Path) -> Path:
    return parquet.with_suffix(".parquet.pending")


def save_state(settings: Settings, gate: str, year: int | None, plan: Plan, success: bool) -> None:
    """Keep what this run validated against: the fingerprints (only when it passed) and
    the meta the next run decides on (保存闸门状态); a failed run forces the next one full."""
    parquet, meta_path = state_paths(settings, gate, year)
    parquet.parent.mkdir(parents=True, exist_ok=True)
    pending = _pending(parquet)
    if success and pending.is_file():
        pending.replace(parquet)
    else:
        pending.unlink(missing_ok=True)
    meta = {
        "success": success,
        "checksum": plan.checksum,
        "identity": plan.identity,
        "build_marker": plan.build_marker,
        "mode": plan.mode,
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    tmp_meta = meta_path.with_suffix(".json.tmp")
    tmp_meta.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp_meta.replace(meta_path)


# --- expectations -------------------------------------------------------------------------


def suite_expectations(settings: Settings, suite: str) -> list[dict[str, Any]]:
    path = settings.expectations_dir / "expectations" / f"{suite}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("expectations", []))


def split_suite(expectations: list[dict[str, Any]]) -> tuple[bool, list[dict[str, Any]]]:
    """(can the suite run on changed rows, its table-level expectations for SQL)."""
    table_level = []
    for e in expectations:
        kwargs = e.get("kwargs") or {}
        if kwargs.get("mostly") not in (None, 1, 1.0):
            return False, []
        if e["type"] in TABLE_LEVEL_SQL:
            table_level.append(e)
        elif e["type"] not in ROW_LEVEL:
            return False, []
    return True, table_level


def strip_runtime_suite(root: Path, suite: str, remove: list[dict[str, Any]]) -> None:
    """Take the SQL-evaluated expectations out of the runtime copy of ``suite`` (GX then
    validates the changed rows on the row-level ones only); ``expectations/`` is untouched."""
    if not remove:
        return
    path = root / "expectations" / f"{suite}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = {e.get("id") for e in remove}
    data["expectations"] = [e for e in data["expectations"] if e.get("id") not in ids]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class SqlOutcome:
    """A table-level expectation evaluated in SQL (在 SQL 中评估的表级校验)."""

    expectation: dict[str, Any]
    success: bool
    unexpected_count: int
    element_count: int
    sample_rows: list[dict[str, Any]]


def evaluate_table_level(
    con: Any, frame_sql: str, expectation: dict[str, Any], samples: int
) -> SqlOutcome:
    """Evaluate a uniqueness expectation on the whole frame, as GX's pandas engine does.

    Column uniqueness ignores nulls; compound uniqueness ignores rows whose columns are all
    null (GX's default ``ignore_row_if``) and counts null as a value. ``unexpected_count``
    is every row of a duplicated value, ``element_count`` the frame's rows.
    """
    kwargs = expectation.get("kwargs") or {}
    if expectation["type"] == "expect_column_values_to_be_unique":
        cols = [str(kwargs["column"])]
        keep = f"{_ident(cols[0])} is not null"
    else:
        cols = [str(c) for c in kwargs["column_list"]]
        ignore = kwargs.get("ignore_row_if", "all_values_are_missing")
        if ignore == "any_value_is_missing":
            keep = " and ".join(f"{_ident(c)} is not null" for c in cols)
        elif ignore == "never":
            keep = "true"
        else:
            keep = "not (" + " and ".join(f"{_ident(c)} is null" for c in cols) + ")"
    listed = ", ".join(_ident(c) for c in cols)
    match = " and ".join(f"f.{_ident(c)} is not distinct from d.{_ident(c)}" for c in cols)
    body = f"""
with f as materialized ({frame_sql}),
d as (select {listed} from f where {keep} group by all having count(*) > 1)"""
    row = con.execute(
        body
        + f"""
select (select count(*) from f),
       (select count(*) from f where {keep} and exists (select 1 from d where {match}))"""
    ).fetchone()
    total, unexpected = int(row[0]), int(row[1])
    rows: list[dict[str, Any]] = []
    if unexpected:
        cur = con.execute(
            body + f" select * from f where {keep} and exists (select 1 from d where {match})"
            f" limit {int(samples)}"
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return SqlOutcome(expectation, unexpected == 0, unexpected, total, rows)
