"""Validation frames (校验数据帧): the DuckDB query behind each GX suite.

Each suite ``<layer>__<name>`` in ``expectations/expectations/`` validates one pandas frame
pulled from DuckDB (GX's SQL datasource fails on DuckDB, see docs/quality.md). The rules
themselves (and their severity) live in the suites; a frame only says which rows they see.

The marts gate runs after ``dbt build``: its frames are a mart as it is, or a column
difference beside it (``reported_score - weight``), and a cross-table check is a dbt model
in the ``quality`` schema (``models/marts/quality/qa_*.sql``: payment reconciliation, budget
coverage) that the frame selects. The raw gate runs before ``dbt build``, so its few
computed frames (a key's versions, an indicator group's weights) are SQL here, over the
raw views that define the current submission.

Raw frames only see *current* submissions: raw is append-only, so a superseded file's rows
stay in ``raw.*`` forever and must not block every later night. Which submission is current
is defined once, in ``src/jixiao/ingest/raw_schema.sql``: the views
``raw._submission_versions`` (each file's version of a key, ordered by the document's own
time) and ``raw._submission_tables`` (per raw table, the newest file among those that
delivered rows of it). The raw gate runs before ``dbt build``, so it cannot read a dbt
model; dbt reads the same views as sources (``int_submissions_ranked`` and the
``latest_submission_rows`` macro), so the gate checks exactly the rows the marts are built
from.
"""

from __future__ import annotations

from dataclasses import dataclass

GATES = ("raw", "marts")

VERSIONS = "raw._submission_versions"
CURRENT_TABLES = "raw._submission_tables"


def current_rows(table: str, alias: str = "t") -> str:
    """Predicate: a row of ``raw.<table>`` (as ``alias``) belongs to a current submission.

    Rows with a submission follow ``raw._submission_tables``; rows without one (they carry no
    department to rank them by) count unless a submission for the same project and fiscal
    year was loaded after them, exactly as dbt's ``latest_submission_rows`` macro says. The
    project register has no fiscal year: its unattributed rows always count (dbt merges the
    register's versions attribute by attribute in ``int_projects_deduplicated``).
    """
    unattributed = f"{alias}.submission_id is null"
    if table != "projects":
        unattributed += (
            f" and not exists (select 1 from raw.submissions as later"
            f" where later.project_key = {alias}.project_key"
            f" and later.fiscal_year = {alias}.fiscal_year"
            f" and later.loaded_at > {alias}.loaded_at)"
        )
    return (
        f"(({unattributed}) or {alias}.submission_id in (select submission_id"
        f" from {CURRENT_TABLES} where table_name = '{table}' and is_current))"
    )


def _current(table: str, extra: str = "*") -> str:
    """Rows of ``raw.<table>`` that belong to a current submission (当前版本)."""
    return f"""
select {extra}
from raw.{table} as t
where {current_rows(table)}
  {{year_filter}}"""


@dataclass(frozen=True)
class Frame:
    """The query behind one suite (一个校验数据帧).

    ``sql`` may contain ``{year_filter}``: replaced by ``and <year_predicate>`` for a
    per-year gate run (that bounds the batch size on large warehouses), else by nothing.
    ``tables`` are the relations the query needs; a missing one fails the gate.
    ``scope`` says which of its rows an incremental gate run validates
    (:mod:`jixiao.quality.incremental`): ``key`` the rows of a changed submission key
    (project, year), ``project`` every row of a project with a changed key (its parent and
    sub-projects too), ``year`` every row of a fiscal year with one, ``file`` the rows of a
    file loaded since, ``all`` every row.
    """

    suite: str
    sql: str
    tables: tuple[str, ...]
    year_predicate: str = "fiscal_year = {year}"
    scope: str = "key"

    @property
    def gate(self) -> str:
        return self.suite.split("__", 1)[0]

    def render(self, year: int | None) -> str:
        year_filter = ""
        if year is not None:
            year_filter = "and " + self.year_predicate.format(year=int(year))
        return self.sql.replace("{year_filter}", year_filter)


RAW_FRAMES = [
    Frame("raw__load_log", "select * from raw.load_log", ("raw.load_log",), scope="file"),
    Frame(
        "raw__rejected_rows",
        "select * from raw.rejected_rows",
        ("raw.rejected_rows",),
        scope="file",
    ),
    Frame(
        "raw__submissions",
        f"""
-- one row per (key, file): a ledger file delivers one submission per sheet, and all of them
-- together are that file's version of the key; the current version of each key, and any
-- version tied with it on every date signal and load time (an ambiguous key: two rows)
select
    s.department_name,
    s.project_key,
    s.fiscal_year,
    s.file_hash,
    min(s.file_name) as file_name,
    min(s.layout) as layout,
    max(s.loaded_at) as loaded_at,
    count(*) as sheet_submissions
from raw.submissions as s
where exists (
    select 1
    from {VERSIONS} as v
    where v.in_current_tier
        and v.department_name = trim(s.department_name)
        and v.project_key = trim(s.project_key)
        and v.fiscal_year = s.fiscal_year
        and v.file_hash = s.file_hash
)
  {{year_filter}}
group by s.department_name, s.project_key, s.fiscal_year, s.file_hash""",
        ("raw.submissions", VERSIONS),
    ),
    Frame(
        "raw__projects",
        _current("projects"),
        ("raw.projects", "raw.submissions", CURRENT_TABLES),
        # a project has a period, not a fiscal year: keep the projects running in that year
        year_predicate="coalesce(period_start_year, {year}) <= {year}"
        " and {year} <= coalesce(period_end_year, {year})",
        scope="project",
    ),
    Frame(
        "raw__budget_lines",
        _current("budget_lines"),
        ("raw.budget_lines", "raw.submissions", CURRENT_TABLES),
    ),
    Frame(
        "raw__payments", _current("payments"), ("raw.payments", "raw.submissions", CURRENT_TABLES)
    ),
    Frame(
        "raw__indicators",
        _current("indicators", "t.*, t.reported_score - t.weight as reported_over_weight"),
        ("raw.indicators", "raw.submissions", CURRENT_TABLES),
    ),
    Frame(
        "raw__indicator_groups",
        f"""
with current_rows as (
    select t.*
    from raw.indicators as t
    where {current_rows("indicators")}
      {{year_filter}}
)
select
    submission_id,
    project_key,
    fiscal_year,
    level1_name,
    count(*) as indicator_count,
    count(distinct level1_weight) as level1_weight_variants,
    max(level1_weight) as level1_weight,
    sum(weight) as weight_sum,
    sum(weight) - max(level1_weight) as weight_gap
from current_rows
where level1_weight is not null
group by submission_id, project_key, fiscal_year, level1_name
-- blank weights are split equally later (各项指标权重=40/指标总数): nothing to compare
having count(weight) = count(*)""",
        ("raw.indicators", "raw.submissions", CURRENT_TABLES),
    ),
    Frame(
        "raw__funding_reported",
        _current("funding_reported"),
        ("raw.funding_reported", "raw.submissions", CURRENT_TABLES),
    ),
    Frame(
        "raw__evaluations",
        _current("evaluations", "t.*, t.score - t.max_score as score_over_max"),
        ("raw.evaluations", "raw.submissions", CURRENT_TABLES),
    ),
]

MART_FRAMES = [
    Frame(
        "marts__dim_project",
        "select * from marts.dim_project",
        ("marts.dim_project",),
        scope="project",
    ),
    Frame(
        "marts__fct_budget",
        # final = initial + additions - cuts is dbt's (assert_budget_reconciles stops the build)
        "select * from marts.fct_budget where true {year_filter}",
        ("marts.fct_budget",),
        scope="project",
    ),
    Frame(
        "marts__fct_payments",
        "select * from marts.fct_payments where true {year_filter}",
        ("marts.fct_payments",),
        scope="project",
    ),
    Frame(
        "marts__payment_reconciliation",
        # computed by dbt (models/marts/quality/qa_payment_reconciliation.sql)
        "select * from quality.qa_payment_reconciliation where true {year_filter}",
        ("quality.qa_payment_reconciliation",),
        scope="project",
    ),
    Frame(
        "marts__fct_indicator_scores",
        """
select
    *,
    -- a recomputed score above its weight is dbt's (assert_scores_within_weights stops the
    -- build); a reported one is the stewards' to review
    reported_score - weight as reported_over_weight
from marts.fct_indicator_scores
where true {year_filter}""",
        ("marts.fct_indicator_scores",),
        scope="project",
    ),
    Frame(
        "marts__mart_project_year",
        "select * from marts.mart_project_year where true {year_filter}",
        ("marts.mart_project_year",),
        scope="project",
    ),
    Frame(
        "marts__mart_level1_scores",
        """
select *, score - max_score as score_over_max
from marts.mart_level1_scores
where true {year_filter}""",
        ("marts.mart_level1_scores",),
        scope="project",
    ),
    Frame(
        "marts__mart_department_year",
        "select * from marts.mart_department_year where true {year_filter}",
        ("marts.mart_department_year",),
        scope="year",
    ),
    Frame(
        "marts__mart_review_flags",
        "select * from marts.mart_review_flags where true {year_filter}",
        ("marts.mart_review_flags",),
        scope="project",
    ),
    Frame(
        "marts__budget_coverage",
        # computed by dbt (models/marts/quality/qa_budget_coverage.sql)
        "select * from quality.qa_budget_coverage where true {year_filter}",
        ("quality.qa_budget_coverage",),
        scope="project",
    ),
]

FRAMES: dict[str, Frame] = {f.suite: f for f in RAW_FRAMES + MART_FRAMES}


def frames_for(gate: str) -> list[Frame]:
    """Frames validated by ``gate`` (raw | marts), in checkpoint order."""
    if gate not in GATES:
        raise ValueError(
            f"未知的质量闸门 {gate!r}，应为 raw 或 marts / "
            f"unknown gate {gate!r}, expected raw or marts"
        )
    return [f for f in FRAMES.values() if f.gate == gate]
