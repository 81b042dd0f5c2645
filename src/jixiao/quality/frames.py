"""Validation frames (校验数据帧): the DuckDB query behind each GX suite.

Each suite ``<layer>__<name>`` in ``expectations/expectations/`` validates one pandas frame
pulled from DuckDB (GX's SQL datasource fails on DuckDB, see docs/quality.md). Most frames
are a table as it is; a few are computed for a cross-row or cross-table rule (group
weights, payment reconciliation, budget coverage) so that each rule stays a real GX
expectation over columns. The rules themselves (and their severity) live in the suites.

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
        f"""
with ledger as (
    select project_key, fiscal_year, sum(amount_yuan) as ledger_yuan
    from raw.payments as t
    where {current_rows("payments")}
    group by project_key, fiscal_year
),
facts as (
    select project_key, fiscal_year, sum(amount_yuan) as fct_yuan
    from marts.fct_payments
    group by project_key, fiscal_year
),
totals as (
    select
        coalesce(l.project_key, f.project_key) as project_key,
        coalesce(l.fiscal_year, f.fiscal_year) as fiscal_year,
        l.ledger_yuan,
        f.fct_yuan
    from ledger as l
    full outer join facts as f
        on l.project_key = f.project_key and l.fiscal_year = f.fiscal_year
),
final as (
    select
        t.*,
        coalesce(t.fct_yuan, 0) - coalesce(t.ledger_yuan, 0) as ledger_gap_yuan,
        p.spent_yuan as mart_spent_yuan,
        p.spent_yuan - t.fct_yuan as mart_spent_gap_yuan
    from totals as t
    left join marts.mart_project_year as p
        on p.project_key = t.project_key and p.fiscal_year = t.fiscal_year
)
select * from final where true {{year_filter}}""",
        (
            "raw.payments",
            "raw.submissions",
            CURRENT_TABLES,
            "marts.fct_payments",
            "marts.mart_project_year",
        ),
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
        """
with budgeted as (
    select project_key, fiscal_year, sum(final_yuan) as final_yuan
    from marts.fct_budget
    group by project_key, fiscal_year
    having coalesce(sum(final_yuan), 0) > 0
),
evaluated as (
    select distinct project_key, fiscal_year from marts.fct_indicator_scores
    union
    select distinct project_key, fiscal_year from marts.mart_level1_scores
    union
    select project_key, fiscal_year from marts.mart_project_year
    where recomputed_score is not null or evaluator_score is not null
        or reported_score is not null
),
-- a multi-year evaluation (e.g. 2019-2021, keyed by its last year) covers every year of the
-- project's period up to that year
evaluated_periods as (
    select e.project_key, y.fiscal_year
    from evaluated as e
    left join marts.dim_project as p on p.project_key = e.project_key,
        generate_series(
            least(coalesce(p.period_start_year, e.fiscal_year), e.fiscal_year), e.fiscal_year
        ) as y(fiscal_year)
),
flagged as (
    select distinct project_key, fiscal_year from marts.mart_review_flags
),
final as (
    select
        b.project_key,
        b.fiscal_year,
        b.final_yuan,
        e.project_key is not null as has_evaluation,
        f.project_key is not null as has_flag,
        (e.project_key is not null or f.project_key is not null) as is_covered
    from budgeted as b
    left join (select distinct project_key, fiscal_year from evaluated_periods) as e
        on e.project_key = b.project_key and e.fiscal_year = b.fiscal_year
    left join flagged as f
        on f.project_key = b.project_key and f.fiscal_year = b.fiscal_year
)
select * from final where true {year_filter}""",
        (
            "marts.fct_budget",
            "marts.dim_project",
            "marts.fct_indicator_scores",
            "marts.mart_level1_scores",
            "marts.mart_project_year",
            "marts.mart_review_flags",
        ),
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
