"""Reading one fiscal year from the marts (读取集市数据).

Reports read ONLY the ``marts`` schema (see docs/architecture.md, mart contract), from the
published DuckDB when it exists, else the working warehouse, always read-only. With
``JIXIAO_WAREHOUSE=postgres`` they read the server's ``published`` schema instead (the same
tables, swapped in by :mod:`jixiao.publish.postgres`), with the same query texts
(:class:`_ServerMarts`), in one read-only snapshot. Everything for
one year is small (hundreds of projects), so it is loaded once into plain dicts and the
report builders never touch the database again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jixiao import rules
from jixiao.config import Settings, duckdb_connect
from jixiao.errors import DataError
from jixiao.warehouse import db

Row = dict[str, Any]

REQUIRED_TABLES: tuple[str, ...] = (
    "dim_project",
    "fct_budget",
    "fct_payments",
    "mart_project_year",
    "mart_level1_scores",
    "mart_department_year",
    "mart_region_year",
    "mart_category_year",
    "mart_spending_rate_distribution",
    "mart_execution_monthly",
    "mart_review_flags",
    "mart_report_labels",
    "mart_report_project_buckets",
    "mart_report_scope_projects",
    "mart_report_project_funds",
    "mart_report_scope_funds",
    "mart_report_scope_monthly",
    "mart_report_spending_distribution",
    "mart_report_scope_buckets",
    "mart_report_scope_grades",
    "mart_report_project_indicators",
    "mart_report_scope_indicators",
)
INDICATOR_TABLES: tuple[str, ...] = ("mart_indicator_results", "fct_indicator_scores")
FUND_SOURCES: tuple[str, ...] = tuple(code for code, _ in rules.fund_sources(with_total=False))
"""The fund sources a project's funds are split into, from seeds/fund_sources.csv (资金来源)."""


class ReportDataError(DataError):
    """The marts cannot feed a report (集市数据不足以生成报告)."""


@dataclass
class YearData:
    """Everything the yearly reports need for one fiscal year (某年度的集市数据)."""

    year: int
    source: Path | str
    projects: list[Row]
    departments: list[Row]
    regions: list[Row]
    budget_total: dict[str, Row]
    budget_by_source: dict[str, dict[str, Row]]
    spent_by_source: dict[str, dict[str, Decimal]]
    indicators: dict[str, list[Row]] = field(default_factory=dict)
    level1: dict[str, list[Row]] = field(default_factory=dict)
    categories: list[Row] = field(default_factory=list)
    flags: dict[str, list[Row]] = field(default_factory=dict)
    goals: dict[str, Row] = field(default_factory=dict)
    labels: list[Row] = field(default_factory=list)
    """marts.mart_report_labels: the Chinese label of every code (代码标签, from the seeds)."""
    project_buckets: dict[str, Row] = field(default_factory=dict)
    """marts.mart_report_project_buckets by project key: each project's own spending bucket."""
    periods: dict[str, list[Row]] = field(default_factory=dict)
    """marts.mart_evaluation_periods covering the year, by project (评价期间: 报告与重算支付率)."""
    output_completion: dict[str, Row] = field(default_factory=dict)
    """marts.mart_output_completion's preferred row of the year, by project (产出完成情况)."""
    acceptance: list[Row] = field(default_factory=list)
    """marts.mart_acceptance_stages per department, for the year and for all years (验收)."""
    published: Row | None = None
    """The latest publish in marts._published_scores (发布批次), when the source has it."""
    scope_members: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """marts.mart_report_scope_projects: the project keys of each (kind, name) scope (报告范围)."""
    scope_funds: dict[tuple[str, str], Row] = field(default_factory=dict)
    """marts.mart_report_scope_funds by (kind, name): the 合计 row of the budget table."""
    scope_monthly: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    """marts.mart_report_scope_monthly by (kind, name): the 月度执行进度 rows, months 1-12."""
    project_indicators: dict[str, Row] = field(default_factory=dict)
    """marts.mart_report_project_indicators per project (三级指标完成情况)."""
    scope_indicators: dict[tuple[str, str], Row] = field(default_factory=dict)
    """marts.mart_report_scope_indicators per (scope kind, scope name)."""
    scope_grades: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    """marts.mart_report_scope_grades rows per (scope kind, scope name) (等级分布)."""
    scope_buckets: dict[tuple[str, str], list[Row]] = field(default_factory=dict)
    """marts.mart_report_scope_buckets rows per (scope kind, scope name) (范围支出率分布)."""
    distribution: list[Row] = field(default_factory=list)
    """marts.mart_report_spending_distribution rows this year's report prints (支出率分布)."""

    def label(self, code_type: str, code: Any) -> str:
        """The Chinese label of ``code`` (代码的中文标签); an unlisted code is shown as is."""
        if code is None:
            return ""
        for r in self.labels:
            if r["code_type"] == code_type and r["code"] == code:
                return str(r["label_zh"])
        return str(code)

    def readable(self, text: Any) -> Any:
        """A mart message with every scoring-rule code in it replaced by its Chinese label."""
        if not isinstance(text, str):
            return text
        for r in self.labels:
            if r["code_type"] == "rule" and r["code"] in text:
                text = text.replace(r["code"], str(r["label_zh"]))
        return text

    def codes(self, code_type: str) -> list[str]:
        """The codes of one type in their display order (代码顺序)."""
        return [r["code"] for r in self.labels if r["code_type"] == code_type]

    def project(self, key: str) -> Row:
        """One project's mart_project_year row (项目年度汇总)."""
        for p in self.projects:
            if p["project_key"] == key:
                return p
        raise KeyError(key)


SERVER_SOURCE = "postgresql:published"
"""The source that means the server's ``published`` schema (服务器上的已发布集市)."""
SERVER_SCHEMA = "published"


def default_source(settings: Settings) -> Path | str:
    """With ``JIXIAO_WAREHOUSE=postgres`` the server's ``published`` schema
    (:data:`SERVER_SOURCE`); else the published marts if they exist, else the working
    warehouse (默认数据源)."""
    if settings.warehouse_engine == "postgres":
        return SERVER_SOURCE
    return settings.published if settings.published.exists() else settings.warehouse


_SCHEMA_RE = re.compile(r"(?<![\w.\"])marts\.")


class _ServerMarts:
    """A psycopg2 connection that answers the report queries as a DuckDB connection does
    (服务器查询适配): the same query text, with ``?`` placeholders as ``%s`` and the file's
    ``marts`` schema read as the server's :data:`SERVER_SCHEMA`. Every query of this module
    is written in SQL both engines accept (positional ``group by 1, 2``, explicit ``nulls
    last`` where a descending order meets nulls); only this translation differs."""

    marts_schema = SERVER_SCHEMA

    def __init__(self, pg: Any) -> None:
        self._pg = pg

    def execute(self, sql: str, params: list[Any] | None = None) -> Any:
        cur = self._pg.cursor()
        cur.execute(_SCHEMA_RE.sub(f"{SERVER_SCHEMA}.", sql).replace("?", "%s"), params or None)
        return cur


def _schema(con: Any) -> str:
    """The schema holding the marts on ``con``: ``marts`` in a DuckDB file."""
    return str(getattr(con, "marts_schema", "marts"))


def _rows(con: Any, sql: str, params: list[Any] | None = None) -> list[Row]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _tables(con: Any) -> set[str]:
    return db.relations(con, _schema(con))


def _columns(con: Any, table: str) -> set[str]:
    return db.columns(con, _schema(con)).get(table, set())


def _group(rows: list[Row], key: str = "project_key") -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return dict(out)


def _budget(con: Any, year: int) -> tuple[dict[str, Row], dict[str, dict[str, Row]]]:
    """Budget per project: the totals of marts.mart_report_project_funds (the total line, else
    the sum of the fund-source lines, as the warehouse decides) and the lines by fund source."""
    rows = _rows(
        con,
        "select project_key, fund_source, sum(initial_yuan) as initial_yuan, "
        "sum(additions_yuan) as additions_yuan, sum(cuts_yuan) as cuts_yuan, "
        "sum(final_yuan) as final_yuan, sum(allocated_yuan) as allocated_yuan "
        "from marts.fct_budget where fiscal_year = ? group by 1, 2 order by 1, 2",
        [year],
    )
    by_source: dict[str, dict[str, Row]] = defaultdict(dict)
    for r in rows:
        by_source[r["project_key"]][r["fund_source"] or "total"] = r
    totals = {
        r["project_key"]: r
        for r in _rows(
            con,
            "select * from marts.mart_report_project_funds where fiscal_year = ? "
            "order by project_key",
            [year],
        )
    }
    return totals, dict(by_source)


ScopeKey = tuple[str, str]
"""(scope_kind, scope_name) of a report scope (报告范围键)."""


def _per_scope(con: Any, table: str, year: int, order: str) -> dict[ScopeKey, list[Row]]:
    """``marts.<table>``'s rows of ``year`` per report scope, in ``order`` within a scope."""
    out: dict[ScopeKey, list[Row]] = defaultdict(list)
    for r in _rows(
        con,
        f"select * from marts.{table} where fiscal_year = ? "
        f"order by scope_kind, scope_name, {order}",
        [year],
    ):
        out[(r["scope_kind"], r["scope_name"])].append(r)
    return dict(out)


def _one_per_scope(con: Any, table: str, year: int) -> dict[ScopeKey, Row]:
    """``marts.<table>``'s one row of ``year`` per report scope."""
    return {key: rows[0] for key, rows in _per_scope(con, table, year, "scope_id").items()}


def _scopes(con: Any, year: int) -> dict[str, Any]:
    """The report scopes of ``year`` (报告范围): members, 合计 row, monthly rows, buckets,
    grades, indicator counts, and the spending distribution the year's reports print."""
    members = _per_scope(con, "mart_report_scope_projects", year, "project_key")
    return {
        "project_indicators": {
            r["project_key"]: r
            for r in _rows(
                con,
                "select * from marts.mart_report_project_indicators where fiscal_year = ? "
                "order by project_key",
                [year],
            )
        },
        "scope_indicators": _one_per_scope(con, "mart_report_scope_indicators", year),
        "scope_members": {k: [r["project_key"] for r in rows] for k, rows in members.items()},
        "scope_grades": _per_scope(con, "mart_report_scope_grades", year, "sort_order"),
        "scope_funds": _one_per_scope(con, "mart_report_scope_funds", year),
        "scope_monthly": _per_scope(con, "mart_report_scope_monthly", year, "month"),
        "scope_buckets": _per_scope(con, "mart_report_scope_buckets", year, "sort_order"),
        "distribution": _rows(
            con,
            "select * from marts.mart_report_spending_distribution where report_year = ? "
            "order by parent_project_key, is_whole_period, sort_order",
            [year],
        ),
    }


def _spent_by_source(con: Any, year: int) -> dict[str, dict[str, Decimal]]:
    """Executed amount per fund source: fct_budget.executed_yuan (the form's 全年执行数)
    where the mart has it, else the sum of fct_payments."""
    if "executed_yuan" in _columns(con, "fct_budget"):
        executed = _rows(
            con,
            "select project_key, fund_source, sum(executed_yuan) as amount_yuan "
            "from marts.fct_budget where fiscal_year = ? and executed_yuan is not null "
            "group by 1, 2 order by 1, 2",
            [year],
        )
        if executed:
            out_b: dict[str, dict[str, Decimal]] = defaultdict(dict)
            for r in executed:
                out_b[r["project_key"]][r["fund_source"] or "total"] = r["amount_yuan"]
            return dict(out_b)
    rows = _rows(
        con,
        "select project_key, coalesce(fund_source, 'total') as fund_source, "
        "sum(amount_yuan) as amount_yuan from marts.fct_payments "
        "where fiscal_year = ? group by 1, 2 order by 1, 2",
        [year],
    )
    out: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for r in rows:
        out[r["project_key"]][r["fund_source"]] = r["amount_yuan"]
    return dict(out)


def _projects(con: Any, year: int) -> list[Row]:
    """mart_project_year plus optional dim_project extras (实施单位, 项目编码, 级次)."""
    dim_cols = _columns(con, "dim_project")
    mart_cols = _columns(con, "mart_project_year")
    extras = [
        c
        for c in ("project_code", "implementing_unit", "project_level", "parent_project_key")
        if c in dim_cols and c not in mart_cols
    ]
    select_extra = "".join(f", d.{c}" for c in extras)
    return _rows(
        con,
        f"select p.*{select_extra} from marts.mart_project_year as p "
        "left join marts.dim_project as d on d.project_key = p.project_key "
        "where p.fiscal_year = ? order by p.department_name, p.project_name, p.project_key",
        [year],
    )


def _indicators(con: Any, year: int, tables: set[str]) -> list[Row]:
    table = next((t for t in INDICATOR_TABLES if t in tables), None)
    if table is None:
        raise ReportDataError(
            "集市缺少指标表 marts.mart_indicator_results / marts.fct_indicator_scores。"
            " / The marts lack an indicator table (mart_indicator_results or"
            " fct_indicator_scores)."
        )
    cols = _columns(con, table)
    order = "row_number, indicator_id" if "row_number" in cols else "indicator_id"
    return _rows(
        con,
        f"select * from marts.{table} where fiscal_year = ? order by project_key, {order}",
        [year],
    )


def _stated_figures(con: Any, year: int, tables: set[str]) -> dict[str, Any]:
    """The issue-18 marts a report shows when the source has them (文件所述数字).

    Evaluation periods covering ``year``, the preferred 产出 grade of each project-year, the
    acceptance stages per department (the year and all years) and the latest publish.
    """
    out: dict[str, Any] = {}
    if "mart_evaluation_periods" in tables:
        out["periods"] = _group(
            _rows(
                con,
                "select * from marts.mart_evaluation_periods "
                "where period_start_year <= ? and ? <= period_end_year "
                "order by project_key, period_start_year, period_end_year",
                [year, year],
            )
        )
    if "mart_output_completion" in tables:
        out["output_completion"] = {
            r["project_key"]: r
            for r in _rows(
                con,
                "select * from marts.mart_output_completion "
                "where fiscal_year = ? and is_preferred order by project_key",
                [year],
            )
        }
    if "mart_acceptance_stages" in tables:
        out["acceptance"] = _rows(
            con,
            "select * from marts.mart_acceptance_stages where grouping_level = 'department' "
            "and (fiscal_year = ? or fiscal_year is null) "
            "order by department_name, fiscal_year nulls last, stage_order",
            [year],
        )
    if "_published_scores" in tables:
        latest = _rows(
            con,
            "select publish_run_id, max(published_at) as published_at "
            "from marts._published_scores group by publish_run_id "
            "order by published_at desc limit 1",
        )
        out["published"] = latest[0] if latest else None
    return out


def load_year(source: Path | str, year: int, settings: Settings) -> YearData:
    """Load one fiscal year from the marts in ``source`` (read-only): a DuckDB file (the
    published file, or any marts file), or :data:`SERVER_SOURCE`, the server's ``published``
    schema (:func:`load_year_from_server`).

    The connection opens with ``settings``' DuckDB resources (:func:`jixiao.config.duckdb_connect`).
    """
    if source == SERVER_SOURCE:
        return load_year_from_server(year, settings)
    path = Path(source)
    if not path.exists():
        raise ReportDataError(
            f"找不到集市数据库 {path}：请先运行 dbt 构建和发布。"
            f" / Mart database {path} not found: run the dbt build and publish first."
        )
    con = duckdb_connect(settings, path, read_only=True)
    try:
        return _load(con, path, year)
    finally:
        con.close()


def load_year_from_server(year: int, settings: Settings, address: Any | None = None) -> YearData:
    """Load one fiscal year from the server's ``published`` schema (从服务器读取集市), with the
    same queries as from a DuckDB file (:class:`_ServerMarts`), in one REPEATABLE READ,
    read-only transaction as the publisher's own role (the tables' owner: every department).
    Its first statement reads a published table, so a publish swapping ``published`` waits
    for the load to end and the year is one version. ``address`` defaults to the configured
    server (``JIXIAO_PG_*``)."""
    from jixiao.warehouse import postgres

    addr = address or postgres.connection_settings()
    label = f"postgresql://{addr.host}:{addr.port}/{addr.dbname} ({SERVER_SCHEMA})"
    with postgres.connect(addr) as pg:
        pg.set_session(isolation_level="REPEATABLE READ", readonly=True)
        server = _ServerMarts(pg)
        try:
            server.execute("select count(*) from marts.mart_project_year").fetchall()
        except Exception as exc:
            raise ReportDataError(
                f"服务器 {label} 上没有已发布的集市：请先运行 jixiao publish。"
                f" / The server {label} has no published marts: run jixiao publish first"
                f" ({exc})."
            ) from exc
        try:
            return _load(server, label, year)
        finally:
            pg.rollback()


def _load(con: Any, source: Path | str, year: int) -> YearData:
    """The queries of :func:`load_year` on an open connection (DuckDB or :class:`_ServerMarts`)."""
    tables = _tables(con)
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise ReportDataError(
            f"{source} 的 marts 模式缺少表：{', '.join(missing)}。"
            f" / Schema marts in {source} lacks tables: {', '.join(missing)}."
        )
    projects = _projects(con, year)
    if not projects:
        raise ReportDataError(
            f"{source} 的 marts.mart_project_year 中没有 {year} 年度的项目。"
            f" / marts.mart_project_year in {source} has no projects for {year}."
        )
    totals, by_source = _budget(con, year)
    goals = {
        r["project_key"]: r
        for r in (
            _rows(
                con,
                "select project_key, expected_goal, actual_outcome "
                "from marts.fct_project_goals where fiscal_year = ? order by 1, 2, 3",
                [year],
            )
            if "fct_project_goals" in tables
            else []
        )
    }
    return YearData(
        **_stated_figures(con, year, tables),
        **_scopes(con, year),
        labels=_rows(
            con,
            "select code_type, code, label_zh, label_en, sort_order "
            "from marts.mart_report_labels order by code_type, sort_order, code",
        ),
        project_buckets={
            r["project_key"]: r
            for r in _rows(
                con,
                "select * from marts.mart_report_project_buckets where fiscal_year = ? "
                "order by project_key",
                [year],
            )
        },
        goals=goals,
        year=year,
        source=source,
        projects=projects,
        departments=_rows(
            con,
            "select * from marts.mart_department_year where fiscal_year = ? "
            "order by department_name",
            [year],
        ),
        regions=_rows(
            con,
            "select * from marts.mart_region_year where fiscal_year = ? "
            "order by province nulls first, city nulls first, county nulls first",
            [year],
        ),
        budget_total=totals,
        budget_by_source=by_source,
        spent_by_source=_spent_by_source(con, year),
        indicators=_group(_indicators(con, year, tables)),
        level1=_group(
            _rows(
                con,
                # in the customary order of seeds/report_code_labels.csv (level1), the
                # names it does not list after those it does (一级指标的惯常顺序)
                "select s.* from marts.mart_level1_scores as s "
                "left join marts.mart_report_labels as l "
                "on l.code_type = 'level1' and l.code = s.level1_name "
                "where s.fiscal_year = ? "
                "order by s.project_key, s.evaluation_type, coalesce(l.sort_order, 9), "
                "s.level1_name",
                [year],
            )
        ),
        categories=_rows(
            con,
            "select * from marts.mart_category_year "
            "where fiscal_year = ? or fiscal_year is null "
            "order by parent_project_key nulls first, fiscal_year nulls last, "
            "amount_yuan desc nulls last, category",
            [year],
        ),
        flags=_group(
            _rows(
                con,
                "select * from marts.mart_review_flags where fiscal_year = ? "
                "order by project_key, severity, flag_code, flag_id",
                [year],
            )
        ),
    )
