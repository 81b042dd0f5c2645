"""Sections of the yearly evaluation report (年度绩效评价报告的章节), from mart rows only.

The report follows the outline of a 绩效评价报告 (财政部): 一、基本情况 (（一）项目概况,
（二）资金安排与使用), 二、绩效评价工作开展情况, 三、综合评价结论, 四、绩效目标实现情况分析 (by
一级指标), 五、存在的问题及原因分析 (the review flags), 六、有关建议 (from the flag types), and
an annex of charts. Every sentence is a template of ``templates/narrative.yaml`` filled with
mart figures; every table cell is a mart value. Codes are shown with the Chinese labels of
``marts.mart_report_labels`` (built from the seeds), never as codes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml  # type: ignore[import-untyped]

from jixiao.reports import charts
from jixiao.reports.marts import Row, YearData
from jixiao.reports.model import (
    UNIT_LABELS,
    Column,
    Report,
    Section,
    Table,
    Unit,
    as_decimal,
    fmt,
)
from jixiao.reports.safety import safe_filename

ZERO = Decimal(0)
NARRATIVE_PATH = Path(__file__).with_name("templates") / "narrative.yaml"
"""The report's sentences as data (叙述模板)."""
UNCATEGORISED = frozenset({"", "未分类", "其他"})
SELF_TYPES = ("self", "reported_indicators")
EVALUATOR_TYPES = ("third_party", "department")


@cache
def narrative() -> dict[str, Any]:
    """The narrative templates (叙述模板), loaded once from ``templates/narrative.yaml``."""
    with NARRATIVE_PATH.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


def say(path: str, **fields: Any) -> str:
    """One sentence: the template at ``path`` (``"funds.budget"``) filled with ``fields``."""
    node: Any = narrative()
    for part in path.split("."):
        node = node[part]
    return str(node).format(**fields)


@dataclass
class Scope:
    """Which projects a report covers (报告范围): a department or a region."""

    kind: Literal["department", "region"]
    name: str
    facts: Row
    projects: list[Row]
    """Top-level projects (项目): what the department/region marts count."""
    subprojects: list[Row] = field(default_factory=list)
    """Sub-projects (子项目) of those projects, e.g. Dongguan's 75; counted in 支出率分布."""

    @property
    def keys(self) -> set[str]:
        return {p["project_key"] for p in self.projects}

    @property
    def all_projects(self) -> list[Row]:
        """Projects and their sub-projects (项目及子项目): whose review flags are reported."""
        return [*self.projects, *self.subprojects]


def _scope(data: YearData, kind: Literal["department", "region"], name: str, facts: Row) -> Scope:
    """A scope's projects as marts.mart_report_scope_projects lists them, and their
    sub-projects of the same year (子项目)."""
    keys = set(data.scope_members.get((kind, name), []))
    top = [p for p in data.projects if p["project_key"] in keys]
    sub = [p for p in data.projects if p.get("parent_project_key") in keys]
    return Scope(kind, name, facts, top, sub)


def department_scopes(data: YearData, department: str | None = None) -> list[Scope]:
    """One scope per row of mart_department_year (部门范围)."""
    return [
        _scope(data, "department", d["department_name"], d)
        for d in data.departments
        if department is None or d["department_name"] == department
    ]


def region_scopes(data: YearData) -> list[Scope]:
    """One scope per row of mart_region_year (地区范围)."""
    return [_scope(data, "region", r["region_name"], r) for r in data.regions]


@dataclass
class Ctx:
    """What every section builder needs (章节上下文): scope, year data, money unit."""

    scope: Scope
    data: YearData
    unit: Unit

    @property
    def u(self) -> str:
        return UNIT_LABELS[self.unit]

    def money(self, name: str, width: int = 14) -> Column:
        return Column(f"{name}（{self.u}）", "money", width)

    def m(self, value: Any) -> str:
        return fmt(value, "money", self.unit)

    def label(self, code_type: str, code: Any) -> str:
        return self.data.label(code_type, code)


def _pct(value: Any) -> str:
    return fmt(value, "rate")


def _score(value: Any) -> str:
    return fmt(value, "score")


# 一、基本情况 ---------------------------------------------------------------------------------


def overview_section(c: Ctx) -> Section:
    """（一）项目概况: the department/region mart figures and the project list."""
    s, f = c.scope, c.scope.facts
    cols = [
        Column("项目数（个）", "int", 12),
        c.money("全年预算数", 16),
        c.money("实际支出", 16),
        Column("预算执行率", "rate", 12),
    ]
    row: list[Any] = [
        f.get("project_count"),
        f.get("final_budget_yuan"),
        f.get("spent_yuan"),
        f.get("execution_rate"),
    ]
    if s.kind == "department":
        cols[2:2] = [c.money("实际到位", 16)]
        row[2:2] = [f.get("allocated_yuan")]
        cols.append(Column("平均复核得分", "score", 12))
        row.append(f.get("avg_recomputed_score"))
    categories = sorted(
        {p["category"] for p in s.projects if (p.get("category") or "") not in UNCATEGORISED}
    )
    text = say(
        f"overview.{s.kind}",
        scope=s.name,
        year=c.data.year,
        project_count=f.get("project_count"),
        subprojects=say("overview.subprojects", count=len(s.subprojects)) if s.subprojects else "",
        categories=say("overview.categories", names="、".join(categories)) if categories else "",
    )
    subs = Counter(p.get("parent_project_key") for p in s.subprojects)
    project_cols = [
        Column("项目名称", "text", 30),
        Column("类别", "text", 12),
        Column("子项目数（个）", "int", 10),
        c.money("全年预算数", 14),
        Column("预算执行率", "rate", 11),
    ]
    project_rows = [
        [
            p["project_name"],
            p.get("category"),
            subs.get(p["project_key"], 0),
            p.get("final_budget_yuan"),
            p.get("execution_rate"),
        ]
        for p in s.projects
    ]
    paras = [text, say("overview.units", unit=c.u)]
    published = c.data.published
    if published:
        paras.append(
            say(
                "overview.published",
                run_id=published["publish_run_id"],
                published_at=str(published["published_at"])[:19],
            )
        )
    return Section(
        "basic",
        "一、基本情况",
        paras,
        [
            Table("basic", "（一）项目概况", cols, [row]),
            Table("projects", "纳入评价的项目", project_cols, project_rows),
        ],
    )


def funds_section(c: Ctx) -> tuple[Section, list[str], list[Any]]:
    """（二）资金安排与使用: budget and execution, categories, spending buckets, monthly."""
    s, data = c.scope, c.data
    cols = [
        Column("项目名称", "text", 30),
        c.money("年初预算数", 13),
        c.money("追加", 11),
        c.money("压减", 11),
        c.money("全年预算数", 13),
        c.money("实际到位", 13),
        Column("资金到位率", "rate", 11),
        c.money("实际支出", 13),
        Column("预算执行率", "rate", 11),
        c.money("结余", 13),
    ]
    rows = []
    for p in s.projects:
        b = data.budget_total.get(p["project_key"], {})
        rows.append(
            [
                p["project_name"],
                b.get("initial_yuan"),
                b.get("additions_yuan"),
                b.get("cuts_yuan"),
                p.get("final_budget_yuan"),
                p.get("allocated_yuan"),
                p.get("allocation_rate"),
                p.get("spent_yuan"),
                p.get("execution_rate"),
                p.get("balance_yuan"),
            ]
        )
    t = data.scope_funds.get((s.kind, s.name), {})
    allocated = t.get("allocated_yuan")  # unknown if any project's is (the mart's rule)
    total = [
        "合计",
        t.get("initial_yuan"),
        t.get("additions_yuan"),
        t.get("cuts_yuan"),
        t.get("final_budget_yuan"),
        allocated,
        t.get("allocation_rate"),
        t.get("spent_yuan"),
        t.get("execution_rate"),
        t.get("balance_yuan"),
    ]
    final, spent = t.get("final_budget_yuan"), t.get("spent_yuan")
    rate = t.get("execution_rate")
    paras = [
        say(
            "funds.budget" if rate is not None else "funds.budget_unknown_rate",
            final=c.m(final),
            spent=c.m(spent),
            unit=c.u,
            execution_rate=_pct(rate),
        ),
        say("funds.allocated", allocated=c.m(allocated), unit=c.u, allocation_rate=_pct(total[6]))
        if allocated is not None
        else say("funds.allocated_unknown"),
    ]
    adjusted = [r for r in rows if (r[2] or ZERO) or (r[3] or ZERO)]
    if adjusted:
        items = "；".join(
            say("funds.adjusted_item", name=r[0], additions=c.m(r[2]), cuts=c.m(r[3]), unit=c.u)
            for r in adjusted
        )
        paras.append(say("funds.adjusted", count=len(adjusted), items=items))
    else:
        paras.append(say("funds.not_adjusted"))
    paras.append(say("funds.definitions"))
    tables = [Table("budget", "预算安排与执行", cols, rows, total)]
    cat_table, cat_labels, cat_shares = category_table(c)
    if cat_table is not None:
        tables.append(cat_table)
    else:
        paras.append(say("funds.categories_none"))
    spending, spending_para = spending_table(c)
    tables.append(spending)
    paras.append(spending_para)
    monthly, monthly_paras = monthly_table(c)
    tables.append(monthly)
    paras += monthly_paras
    periods, period_paras = periods_table(c)
    if periods is not None:
        tables.append(periods)
        paras += period_paras
    sec = Section("funds", "（二）资金安排与使用", paras, tables, level=2)
    if monthly.rows:
        sec.charts.append(
            charts.execution_chart(
                [int(r[0][:-1]) for r in monthly.rows],
                [r[2] for r in monthly.rows],
                [r[3] for r in monthly.rows],
                f"{s.name} {data.year} 年预算执行进度与序时进度",
            )
        )
    return sec, cat_labels, cat_shares


def periods_table(c: Ctx) -> tuple[Table | None, list[str]]:
    """评价期间资金: per evaluated period, the stated rate beside the recomputed one
    (mart_evaluation_periods), with where the stated rate was read. A one-year period without
    a stated rate is left out (it repeats the budget table)."""
    rows, paras = [], []
    for p in c.scope.projects:
        for r in c.data.periods.get(p["project_key"], []):
            if r.get("reported_rate") is None and r["period_start_year"] == r["period_end_year"]:
                continue  # one year and no stated rate: the budget table above says it all
            source = r.get("reported_rate_file_name")
            if source and r.get("reported_rate_sheet_name"):
                source = f"{source}「{r['reported_rate_sheet_name']}」"
                if r.get("reported_rate_row_number") is not None:
                    source += f"第{r['reported_rate_row_number']}行"
            rows.append(
                [
                    p["project_name"],
                    f"{r['period_start_year']}-{r['period_end_year']}",
                    r.get("final_yuan"),
                    r.get("spent_yuan"),
                    r.get("reported_rate"),
                    r.get("recomputed_rate"),
                    r.get("rate_difference_pct"),
                    source,
                ]
            )
            if r.get("is_rate_different"):
                paras.append(
                    say(
                        "funds.period_differs",
                        name=p["project_name"],
                        start=r["period_start_year"],
                        end=r["period_end_year"],
                        reported=_pct(r.get("reported_rate")),
                        recomputed=_pct(r.get("recomputed_rate")),
                        spent=c.m(r.get("spent_yuan")),
                        final=c.m(r.get("final_yuan")),
                        unit=c.u,
                    )
                )
    if not rows:
        return None, []
    cols = [
        Column("项目名称", "text", 30),
        Column("评价期间", "text", 11),
        c.money("期间预算数", 14),
        c.money("期间实际支出", 14),
        Column("报告支付率", "rate", 11),
        Column("重算支付率", "rate", 11),
        Column("差异（百分点）", "score", 12),
        Column("报告数来源", "text", 36),
    ]
    highlight = {(i, j) for i, r in enumerate(rows) if r[6] not in (None, 0) for j in (4, 5, 6)}
    table = Table("periods", "评价期间资金与支付率", cols, rows, highlight=highlight)
    return table, paras


def category_table(c: Ctx) -> tuple[Table | None, list[str], list[Any]]:
    """分类资金安排 (seed 000): mart_category_year rows under the scope's parent projects.

    Each row names its parent project, so two parents never look like duplicates; a parent
    whose only category is blank or 未分类 says nothing about categories and is left out.
    """
    names = {p["project_key"]: p["project_name"] for p in c.scope.projects}
    by_parent: dict[str, list[Row]] = {}
    for row in c.data.categories:
        if row.get("parent_project_key") in names:
            by_parent.setdefault(row["parent_project_key"], []).append(row)
    kept = [
        row
        for rows in by_parent.values()
        if any((r.get("category") or "") not in UNCATEGORISED for r in rows)
        for row in rows
    ]
    if not kept:
        return None, [], []
    cols = [
        Column("上级项目", "text", 24),
        Column("期间", "text", 10),
        Column("类别", "text", 18),
        Column("项目数（个）", "int", 10),
        c.money("金额", 14),
        Column("资金占比", "rate", 10),
    ]
    rows = [
        [
            names[r["parent_project_key"]],
            _period(r),
            r.get("category") or "未分类",
            r.get("project_count"),
            r.get("amount_yuan"),
            r.get("share"),
        ]
        for r in kept
    ]
    note = "无年度的行为整个实施期间的合计；资金占比为该类别金额占上级项目同期金额的比例。"
    single_parent = len({r[0] for r in rows}) == 1
    year_rows = [r for r in rows if r[1] == str(c.data.year)] or rows
    periods = {r[1] for r in year_rows}
    show_chart = single_parent and len(periods) == 1 and len(year_rows) > 1
    labels = [r[2] for r in year_rows] if show_chart else []
    shares = [r[5] for r in year_rows] if show_chart else []
    return Table("categories", "分类资金安排", cols, rows, note=note), labels, shares


def _period(c: Row) -> str:
    """2023, or the whole period (2019-2022) for a multi-year row (期间)."""
    if c.get("fiscal_year") is not None:
        return str(c["fiscal_year"])
    start, end = c.get("period_start_year"), c.get("period_end_year")
    if start and end:
        return f"{start}-{end}" if start != end else f"{start}（期间）"
    return "期间合计"


def spending_table(c: Ctx) -> tuple[Table, str]:
    """支出率分布 (seed 001): the distribution of the scope's parent projects as
    marts.mart_report_spending_distribution gives it to this year's report (the year's, and the
    whole period's for a multi-year parent in its last year), else the scope's projects
    counted by their own bucket (marts.mart_report_project_buckets)."""
    s, data = c.scope, c.data
    cols = [
        Column("范围", "text", 24),
        Column("期间", "text", 12),
        Column("支出率区间", "text", 16),
        Column("项目数（个）", "int", 10),
    ]
    names = {p["project_key"]: p["project_name"] for p in s.projects}
    mart_rows = [b for b in data.distribution if b.get("parent_project_key") in names]
    if mart_rows:
        rows = [
            [
                names[b["parent_project_key"]],
                _distribution_period(b),
                b["report_label"],
                b["reported_project_count"],
            ]
            for b in mart_rows
        ]
        whole = [b for b in mart_rows if b.get("is_whole_period")]
        groups = {(b["parent_project_key"], b["is_whole_period"]): b for b in whole or mart_rows}
        counted = sum(int(b["total_project_count"]) for b in groups.values())
        scope_rows = []
        note = "上级项目所属子项目按支出率分档（含下限不含上限）。"
        if whole:
            note += "跨年度评价的项目另列整个评价期间的分布（按期间合计的资金与支出）。"
    else:
        scope_rows = data.scope_buckets.get((s.kind, s.name), [])
        rows = [
            [s.name, str(data.year), b["report_label"], b["reported_project_count"]]
            for b in scope_rows
        ]
        counted = scope_rows[0]["total_project_count"] if scope_rows else 0
        note = "每个项目按其自身的预算执行率归入唯一的区间（含下限不含上限）。"
    shown = mart_rows or scope_rows
    labels = {b["bucket_code"]: b["bucket_label"] for b in shown}
    for code, into in sorted(
        {
            (b["bucket_code"], b["counted_in_bucket_code"])
            for b in shown
            if b.get("counted_in_bucket_code")
        }
    ):
        note += say("funds.nested_bucket", nested=labels[code], into=labels.get(into, into))
    return Table("spending", "支出率分布", cols, rows, note=note), say(
        "funds.buckets", count=counted
    )


def _distribution_period(b: Row) -> str:
    """2021, or 2019-2021 for a whole multi-year period (分布所属期间)."""
    if b.get("is_whole_period"):
        return f"{b['period_start_year']}-{b['period_end_year']}"
    return str(b["report_year"])


def monthly_series(c: Ctx) -> tuple[list[list[Any]], Row | None]:
    """The scope's 月度执行进度 rows as marts.mart_report_scope_monthly holds them, and the
    first row (what the series cover: projects, budget, share of the scope's spending)."""
    rows = c.data.scope_monthly.get((c.scope.kind, c.scope.name), [])
    out = [
        [
            f"{r['month']}月",
            r["cumulative_spent_yuan"],
            r["cumulative_execution_rate"],
            r["time_schedule_rate"],
            "是" if r["is_lagging"] else "",
        ]
        for r in rows
    ]
    return out, (rows[0] if rows else None)


def monthly_table(c: Ctx) -> tuple[Table, list[str]]:
    rows, cover = monthly_series(c)
    cols = [
        Column("月份", "text", 8),
        c.money("累计支出", 14),
        Column("累计执行率", "rate", 11),
        Column("序时进度", "rate", 10),
        Column("滞后", "text", 6),
    ]
    if not rows or cover is None:
        return Table("monthly", "月度执行进度", cols, rows), [say("funds.monthly_none")]
    paras = [
        say(
            "funds.monthly",
            count=cover["covered_project_count"],
            rate=_pct(rows[-1][2]),
            schedule=_pct(rows[-1][3]),
        )
    ]
    share = cover.get("covered_spent_share")
    if share is not None and share < 1:
        paras.append(
            say(
                "funds.monthly_partial",
                count=cover["covered_project_count"],
                covered=c.m(cover["covered_year_spent_yuan"]),
                spent=c.m(cover["scope_spent_yuan"]),
                unit=c.u,
                share=_pct(share),
            )
        )
    lagging = [r[0] for r in rows if r[4]]
    if lagging:
        paras.append(say("funds.monthly_lagging", months="、".join(lagging)))
    return Table("monthly", "月度执行进度", cols, rows), paras


# 二、绩效评价工作开展情况 ----------------------------------------------------------------------


def work_section(c: Ctx) -> Section:
    s, data = c.scope, c.data
    types: list[str] = []
    for p in s.projects:
        for r in data.level1.get(p["project_key"], []):
            t = r.get("evaluation_type")
            if t and t not in types and t != "recomputed":
                types.append(t)
    order = data.codes("evaluation_type")
    types.sort(key=lambda t: order.index(t) if t in order else len(order))
    counts = data.scope_indicators.get((s.kind, s.name), {})
    paras = [
        say(
            "work.intro",
            project_count=s.facts.get("project_count"),
            types="、".join(c.label("evaluation_type", t) for t in types),
        )
        if types
        else say("work.no_evaluation"),
        say(
            "work.indicators",
            indicator_count=counts.get("indicator_count", 0),
            full_count=counts.get("full_marks_count", 0),
            short_count=counts.get("short_of_full_marks_count", 0),
        ),
        say("work.method"),
    ]
    cols = [
        Column("项目名称", "text", 30),
        Column("评价方式", "text", 30),
        Column("三级指标数", "int", 10),
    ]
    rows = []
    for p in s.projects:
        ptypes = []
        for r in data.level1.get(p["project_key"], []):
            t = r.get("evaluation_type")
            if t and t != "recomputed" and t not in ptypes:
                ptypes.append(t)
        rows.append(
            [
                p["project_name"],
                "、".join(c.label("evaluation_type", t) for t in ptypes) or None,
                data.project_indicators.get(p["project_key"], {}).get("indicator_count", 0),
            ]
        )
    tables = [Table("work", "评价方式与指标", cols, rows)]
    acceptance = acceptance_table(c)
    if acceptance is not None:
        tables.append(acceptance)
        for row in acceptance.rows:
            if row[0] == "全部年度" and row[1] == "终验":
                paras.append(
                    say("work.acceptance", reached=row[3], planned=row[2], share=_pct(row[4]))
                )
    return Section("work", "二、绩效评价工作开展情况", paras, tables)


def acceptance_table(c: Ctx) -> Table | None:
    """项目验收情况: planned and reached counts per stage for the department, this year and
    all years (mart_acceptance_stages); none for a region report."""
    if c.scope.kind != "department":
        return None
    rows = [
        [
            "全部年度" if r["fiscal_year"] is None else f"{r['fiscal_year']}年",
            r["stage"],
            r.get("planned_count"),
            r.get("reached_count"),
            r.get("reached_share"),
            r.get("status_zh"),
        ]
        for r in c.data.acceptance
        if r["department_name"] == c.scope.name
    ]
    if not rows:
        return None
    cols = [
        Column("年度", "text", 10),
        Column("阶段", "text", 10),
        Column("计划数（个）", "int", 11),
        Column("完成数（个）", "int", 11),
        Column("完成比例", "rate", 11),
        Column("状态", "text", 10),
    ]
    return Table("acceptance", "项目验收情况（里程碑）", cols, rows)


# 三、综合评价结论 --------------------------------------------------------------------------


def conclusion_section(c: Ctx) -> Section:
    """Score and grade, reported beside recomputed (differences highlighted)."""
    s = c.scope
    cols = [
        Column("项目名称", "text", 30),
        Column("自评得分", "score", 10),
        Column("复核得分", "score", 10),
        Column("差异", "score", 9),
        Column("自评等级", "text", 9),
        Column("复核等级", "text", 9),
        Column("评价机构得分", "score", 12),
        Column("产出完成情况", "text", 14),
    ]
    rows, highlight, differ = [], set(), []
    for i, p in enumerate(s.projects):
        rep, rec = as_decimal(p.get("reported_score")), as_decimal(p.get("recomputed_score"))
        diff = as_decimal(p.get("score_difference"))  # mart_project_year: 自评 − 复核
        rows.append(
            [
                p["project_name"],
                rep,
                rec,
                diff,
                p.get("reported_grade"),
                p.get("grade"),
                p.get("evaluator_score"),
                output_completion(c, p),
            ]
        )
        if diff is not None and diff != 0:
            highlight |= {(i, 1), (i, 2), (i, 3)}
            differ.append(p["project_name"])
        if p.get("reported_grade") and p.get("grade") and p["reported_grade"] != p["grade"]:
            highlight |= {(i, 4), (i, 5)}
    paras = []
    for p in s.projects if len(s.projects) <= 3 else []:
        ev = p.get("evaluator_score")
        paras.append(
            say(
                "conclusion.single",
                name=p["project_name"],
                reported=_score(p.get("reported_score")),
                reported_grade=p.get("reported_grade") or "—",
                recomputed=_score(p.get("recomputed_score")),
                grade=p.get("grade") or "—",
                evaluator=say("conclusion.evaluator", score=_score(ev)) if ev is not None else "",
            )
        )
    # 等级分布 as marts.mart_report_scope_grades counts it (the seed's grades, in its order)
    scope_grades = c.data.scope_grades.get((s.kind, s.name), [])
    grades = tuple(str(g["grade"]) for g in scope_grades)
    rep_counts = [int(g["reported_project_count"]) for g in scope_grades]
    rec_counts = [int(g["recomputed_project_count"]) for g in scope_grades]
    if len(s.projects) > 1:
        paras.append(
            say(
                "conclusion.many",
                count=s.facts.get("project_count"),
                recomputed="、".join(f"{g}{n}个" for g, n in zip(grades, rec_counts, strict=True)),
                reported="、".join(f"{g}{n}个" for g, n in zip(grades, rep_counts, strict=True)),
            )
        )
    paras.append(
        say("conclusion.differ", count=len(differ), names="、".join(differ))
        if differ
        else say("conclusion.agree")
    )
    paras.append(say("conclusion.bands"))
    dist = Table(
        "grade_distribution",
        "等级分布",
        [
            Column("等级", "text", 8),
            Column("自评（个）", "int", 10),
            Column("复核（个）", "int", 10),
        ],
        [[g, a, b] for g, a, b in zip(grades, rep_counts, rec_counts, strict=True)],
    )
    sec = Section(
        "grade",
        "三、综合评价结论",
        paras,
        [Table("grade", "项目得分与等级", cols, rows, highlight=highlight), dist],
    )
    sec.charts.append(charts.grade_chart(grades, rep_counts, rec_counts, "项目得分等级分布"))
    return sec


def output_completion(c: Ctx, p: Row) -> str | None:
    """产出完成情况 and where its 产出 score came from (mart_output_completion's preferred
    row), else the project-year mart's grade."""
    r = c.data.output_completion.get(p["project_key"])
    if r is None or not r.get("completion_grade_zh"):
        grade = p.get("output_completion_grade")
        return str(grade) if grade else None
    return f"{r['completion_grade_zh']}（{c.label('evaluation_type', r['score_source'])}）"


# 四、绩效目标实现情况分析 ----------------------------------------------------------------------


def targets_section(c: Ctx) -> Section:
    """By 一级指标: 分值, 自评得分 and 复核得分 side by side (mart_level1_scores), total row
    from mart_project_year; then indicator completion and the shortfalls."""
    s, data = c.scope, c.data
    cols = [
        Column("项目名称", "text", 26),
        Column("一级指标", "text", 10),
        Column("指标分值", "score", 10),
        Column("自评得分", "score", 10),
        Column("复核得分", "score", 10),
        Column("评价机构得分", "score", 12),
        Column("复核得分率", "rate", 10),
    ]
    rows: list[list[Any]] = []
    highlight: set[tuple[int, int]] = set()
    paras = [say("targets.intro")]
    for p in s.projects:
        by_type: dict[str, dict[str, Row]] = {}
        names: list[str] = []
        for r in data.level1.get(p["project_key"], []):
            by_type.setdefault(r.get("evaluation_type") or "", {})[r["level1_name"]] = r
            if r["level1_name"] not in names:
                names.append(r["level1_name"])
        for name in names:
            rec = by_type.get("recomputed", {}).get(name)
            rep = next((by_type[t][name] for t in SELF_TYPES if name in by_type.get(t, {})), None)
            ev = next(
                (by_type[t][name] for t in EVALUATOR_TYPES if name in by_type.get(t, {})), None
            )
            base = rec or rep or ev or {}
            row = [
                p["project_name"],
                name,
                base.get("max_score"),
                rep.get("score") if rep else None,
                rec.get("score") if rec else None,
                ev.get("score") if ev else None,
                rec.get("score_rate") if rec else None,
            ]
            if rep and rec and as_decimal(rep.get("score")) != as_decimal(rec.get("score")):
                highlight |= {(len(rows), 3), (len(rows), 4)}
            rows.append(row)
        if names:
            rows.append(
                [
                    p["project_name"],
                    "合计",
                    p.get("weight_total"),
                    p.get("reported_score"),
                    p.get("recomputed_score"),
                    p.get("evaluator_score"),
                    None,
                ]
            )
    summary_cols = [
        Column("项目名称", "text", 28),
        Column("指标数", "int", 8),
        Column("满分指标数", "int", 10),
        Column("未满分指标数", "int", 12),
        Column("满分比例", "rate", 10),
    ]
    summary, detail = [], []
    for p in s.projects:
        items = data.indicators.get(p["project_key"], [])
        counted = data.project_indicators.get(p["project_key"], {})
        summary.append(
            [
                p["project_name"],
                counted.get("indicator_count", 0),
                counted.get("full_marks_count", 0),
                counted.get("short_of_full_marks_count", 0),
                counted.get("full_marks_share"),
            ]
        )
        for r in items:
            if not r.get("is_full_marks"):  # fct_indicator_scores.is_full_marks
                detail.append(
                    [
                        p["project_name"],
                        r.get("level1_name"),
                        r.get("level3_name"),
                        indicator_target_text(r, "target"),
                        indicator_target_text(r, "actual"),
                        r.get("weight"),
                        r.get("reported_score"),
                        r.get("recomputed_score"),
                        c.label("rule", r.get("rule_applied")) if r.get("rule_applied") else None,
                        r.get("deviation_reason"),
                    ]
                )
    detail_cols = [
        Column("项目名称", "text", 20),
        Column("一级指标", "text", 8),
        Column("三级指标", "text", 24),
        Column("年度指标值", "text", 11),
        Column("实际完成值", "text", 11),
        Column("分值", "score", 8),
        Column("自评得分", "score", 9),
        Column("复核得分", "score", 9),
        Column("复核规则", "text", 18),
        Column("偏差原因分析及改进措施", "text", 30),
    ]
    paras.append(
        say("targets.shortfalls", count=len(detail)) if detail else say("targets.no_shortfalls")
    )
    note = (
        "自评得分取单位自评（无则取三级指标自评得分按一级指标的汇总）；"
        "评价机构得分取第三方或部门评价。"
    )
    return Section(
        "targets",
        "四、绩效目标实现情况分析",
        paras,
        [
            Table("level1", "一级指标得分", cols, rows, note=note, highlight=highlight),
            Table("indicator_summary", "指标完成概况", summary_cols, summary),
            Table("indicator_shortfalls", "未得满分的指标", detail_cols, detail),
        ],
    )


_HALF_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": ".", "％": "%", "＋": "+"}
)
"""Full-width digits, point, percent sign (全角数字) -> ASCII, as the documents print them."""


def half_width_digits(text: str) -> str:
    """``１２．５％`` -> ``12.5%`` (全角数字归一); other full-width characters are kept."""
    return text.translate(_HALF_WIDTH)


def indicator_target_text(r: Row, which: Literal["target", "actual"]) -> str:
    """年度指标值 / 实际完成值 with full-width digits normalised (see :func:`_target_text`)."""
    return half_width_digits(_target_text(r, which))


def _target_text(r: Row, which: Literal["target", "actual"]) -> str:
    """年度指标值 / 实际完成值 as written (``target_text``) or rebuilt: ≥95%, ≤4小时, 是."""
    prefix = {">=": "≥", "<=": "≤"}.get(r.get("direction") or "", "") if which == "target" else ""
    text = r.get(f"{which}_text")
    if text:
        text = str(text).strip()
        written = text.startswith(("≥", "≤", ">", "<", "＞", "＜"))
        numeric = text[:1].isdigit()
        return f"{prefix}{text}" if prefix and numeric and not written else text
    value = r.get(f"{which}_value")
    if value is None:
        return ""
    if r.get("kind") == "yes_no":
        return "是" if value else "否"
    d = as_decimal(value)
    assert d is not None
    num = format(d.normalize(), "f")
    return f"{prefix}{num}{r.get('unit') or ''}"


# 五、存在的问题及原因分析 / 六、有关建议 ----------------------------------------------------


def scope_flags(c: Ctx) -> list[tuple[Row, Row]]:
    """Every review flag of the scope's projects and sub-projects, with its project."""
    return [(p, f) for p in c.scope.all_projects for f in c.data.flags.get(p["project_key"], [])]


def problems_section(c: Ctx, flags: list[tuple[Row, Row]]) -> Section:
    data = c.data
    cols = [
        Column("项目名称", "text", 26),
        Column("问题类型", "text", 26),
        Column("严重程度", "text", 9),
        Column("问题说明", "text", 48),
    ]
    rows = [
        [
            p["project_name"],
            c.label("flag_type", f.get("flag_code")),
            c.label("severity", f.get("severity")),
            c.data.readable(f.get("message_zh")),
        ]
        for p, f in flags
    ]
    order = data.codes("flag_type")
    codes = sorted(
        {f["flag_code"] for _, f in flags},
        key=lambda x: (x not in order, order.index(x) if x in order else 0, x),
    )
    counts = Counter(f["flag_code"] for _, f in flags)
    count_rows = [
        [c.label("flag_type", code), c.label("severity", _severity(flags, code)), counts[code]]
        for code in codes
    ]
    by_code = Table(
        "flag_counts",
        "问题汇总",
        [
            Column("问题类型", "text", 30),
            Column("严重程度", "text", 9),
            Column("数量（项）", "int", 10),
        ],
        count_rows,
    )
    if not flags:
        paras = [say("problems.none")]
    else:
        sev = Counter(f.get("severity") for _, f in flags)
        paras = [
            say(
                "problems.total",
                count=len(flags),
                error=sev.get("error", 0),
                warning=sev.get("warning", 0),
                info=sev.get("info", 0),
                projects=len({p["project_key"] for p, _ in flags}),
            )
        ]
        causes = narrative()["causes"]
        for code in codes:
            projects = list(
                dict.fromkeys(p["project_name"] for p, f in flags if f["flag_code"] == code)
            )
            shown = "、".join(projects[:3]) + (
                f"等{len(projects)}个项目" if len(projects) > 3 else ""
            )
            paras.append(
                say(
                    "problems.by_type",
                    label=c.label("flag_type", code),
                    count=counts[code],
                    projects=shown,
                    cause=causes.get(code, causes["default"]),
                )
            )
    return Section(
        "flags",
        "五、存在的问题及原因分析",
        paras,
        [by_code, Table("flags", "问题清单", cols, rows)],
    )


def _severity(flags: list[tuple[Row, Row]], code: str) -> str:
    return next(f.get("severity") for _, f in flags if f["flag_code"] == code) or ""


def advice_section(c: Ctx, flags: list[tuple[Row, Row]]) -> Section:
    recs = narrative()["recommendations"]
    order = c.data.codes("flag_type")
    codes = sorted(
        {f["flag_code"] for _, f in flags},
        key=lambda x: (x not in order, order.index(x) if x in order else 0, x),
    )
    items = list(dict.fromkeys(recs.get(code, recs["default"]) for code in codes)) or [
        recs["default"]
    ]
    items.append(recs["apply_results"])
    numbered = [f"（{_cn(i)}）{text}" for i, text in enumerate(items, start=1)]
    return Section("advice", "六、有关建议", numbered, [])


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九十"
    return digits[n] if n <= 10 else f"十{digits[n - 10]}" if n < 20 else str(n)


def annex_section(c: Ctx, labels: list[str], shares: list[Any]) -> Section:
    sec = Section("charts", "附：图表", [], [])
    if labels:
        sec.charts.append(charts.category_chart(labels, shares, "分类资金占比"))
    return sec


def build_report(scope: Scope, data: YearData, unit: Unit = "wan") -> Report:
    """All sections for one department or region (组装报告), in the MoF outline."""
    c = Ctx(scope, data, unit)
    overview = overview_section(c)
    funds, labels, shares = funds_section(c)
    flags = scope_flags(c)
    sections = [
        overview,
        funds,
        work_section(c),
        conclusion_section(c),
        targets_section(c),
        problems_section(c, flags),
        advice_section(c, flags),
    ]
    annex = annex_section(c, labels, shares)
    if annex.charts:
        sections.append(annex)
    kind_zh = "部门" if scope.kind == "department" else "地区"
    return Report(
        kind=scope.kind,
        name=scope.name,
        year=data.year,
        title=f"{scope.name}{data.year}年度预算绩效评价报告",
        subtitle=f"（{data.year} 年度 · {kind_zh}报告 · 金额单位：{UNIT_LABELS[unit]}）",
        sections=sections,
        file_stem=safe_filename(scope.name, f"{scope.kind}:{scope.name}"),
        unit=unit,
        header_text=f"{scope.name} · {data.year}年度预算绩效评价报告",
    )
