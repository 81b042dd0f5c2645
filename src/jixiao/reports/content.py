"""Sections of the yearly evaluation report (年度绩效评价报告的章节), from mart rows only.

The sections follow the source documents: 基本情况 (seed 000/004), 预算安排与执行 with
到位率/执行率/结余/调整 (seed 003/004), 评价得分总表 by first-level indicator (seed 001),
评价等级, 指标完成情况, 复核发现, 分类资金安排 (seed 000), 支出率分布 (seed 001) and charts.
Aggregations here are sums of mart figures and ratios of those sums; no scoring rule is
re-implemented (scores and grades come from dbt).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from jixiao.reports import charts
from jixiao.reports.marts import Row, YearData
from jixiao.reports.model import Column, Report, Section, Table, as_decimal, ratio
from jixiao.reports.safety import safe_filename

GRADES: tuple[str, ...] = ("优", "良", "中", "差")
ZERO = Decimal(0)

# Spending-rate buckets of seed 001 (lower bound inclusive, upper exclusive), used only when
# the marts hold no distribution for the scope (projects without a parent project).
_BUCKETS: tuple[tuple[str, str, Decimal | None, Decimal | None], ...] = (
    ("eq_100", "100%", Decimal(1), None),
    ("90_100", "90%-100%", Decimal("0.9"), Decimal(1)),
    ("80_90", "80%-90%", Decimal("0.8"), Decimal("0.9")),
    ("60_80", "60%-80%", Decimal("0.6"), Decimal("0.8")),
    ("lt_60", "低于60%", None, Decimal("0.6")),
)


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


def _sum(rows: list[Row], col: str) -> Decimal:
    return sum((as_decimal(r.get(col)) or ZERO for r in rows), ZERO)


def region_name(row: Row) -> str:
    """省/市/县 joined, or 未指定地区 (unspecified region)."""
    parts = [row.get(c) for c in ("province", "city", "county")]
    return "".join(p for p in parts if p) or "未指定地区"


def _split(data: YearData, projects: list[Row]) -> tuple[list[Row], list[Row]]:
    """Top-level projects vs sub-projects whose parent is a project of the same year."""
    keys = {p["project_key"] for p in data.projects}
    top = [p for p in projects if p.get("parent_project_key") not in keys]
    return top, [p for p in projects if p.get("parent_project_key") in keys]


def department_scopes(data: YearData, department: str | None = None) -> list[Scope]:
    """One scope per row of mart_department_year (部门范围)."""
    scopes = []
    for d in data.departments:
        name = d["department_name"]
        if department is not None and name != department:
            continue
        top, sub = _split(data, [p for p in data.projects if p["department_name"] == name])
        scopes.append(Scope("department", name, d, top, sub))
    return scopes


def _in_region(project: Row, region: Row) -> bool:
    """A null region level means "all" (a city row without county covers its counties)."""
    return all(
        region.get(c) is None or project.get(c) == region.get(c)
        for c in ("province", "city", "county")
    )


def region_scopes(data: YearData) -> list[Scope]:
    """One scope per row of mart_region_year (地区范围)."""
    scopes = []
    for r in data.regions:
        top, sub = _split(data, [p for p in data.projects if _in_region(p, r)])
        scopes.append(Scope("region", region_name(r), r, top, sub))
    return scopes


def basic_section(scope: Scope, year: int) -> Section:
    """一、基本情况 (basic facts) from mart_department_year / mart_region_year."""
    f = scope.facts
    cols = [
        Column("项目数（个）", "int", 12),
        Column("全年预算数（元）", "yuan", 18),
        Column("实际支出（元）", "yuan", 18),
        Column("预算执行率", "rate", 12),
    ]
    row: list[Any] = [
        f.get("project_count"),
        f.get("final_budget_yuan"),
        f.get("spent_yuan"),
        f.get("execution_rate"),
    ]
    if scope.kind == "department":
        cols[2:2] = [Column("实际到位（元）", "yuan", 18)]
        row[2:2] = [f.get("allocated_yuan")]
        cols += [Column("平均复核得分", "score", 12), Column("复核问题数", "int", 12)]
        row += [f.get("avg_recomputed_score"), f.get("flag_count")]
    categories = sorted({p["category"] for p in scope.projects if p.get("category")})
    label = "部门" if scope.kind == "department" else "地区"
    text = (
        f"{label}“{scope.name}”{year} 年度纳入绩效评价的项目共 {f.get('project_count')} 个"
        + (f"，下设子项目 {len(scope.subprojects)} 个" if scope.subprojects else "")
        + (f"，涉及类别：{'、'.join(categories)}" if categories else "")
        + "。下表数据取自数据仓库集市层（marts），金额单位为元。"
    )
    table = Table("basic", "基本情况", cols, [row])
    return Section("basic", "一、基本情况", [text], [table])


def budget_section(scope: Scope, data: YearData) -> Section:
    """二、预算安排与执行 (budget, allocation, execution, adjustments, balance)."""
    cols = [
        Column("项目名称", "text", 28),
        Column("年初预算数（元）", "yuan", 16),
        Column("追加（元）", "yuan", 14),
        Column("压减（元）", "yuan", 14),
        Column("全年预算数（元）", "yuan", 16),
        Column("实际到位（元）", "yuan", 16),
        Column("资金到位率", "rate", 11),
        Column("实际支出（元）", "yuan", 16),
        Column("预算执行率", "rate", 11),
        Column("结余（元）", "yuan", 16),
    ]
    rows = []
    for p in scope.projects:
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
    final, allocated = (
        _sum(scope.projects, "final_budget_yuan"),
        _sum(scope.projects, "allocated_yuan"),
    )
    spent = _sum(scope.projects, "spent_yuan")
    budgets = [data.budget_total.get(p["project_key"], {}) for p in scope.projects]
    total = [
        "合计",
        _sum(budgets, "initial_yuan"),
        _sum(budgets, "additions_yuan"),
        _sum(budgets, "cuts_yuan"),
        final,
        allocated,
        ratio(allocated, final),
        spent,
        scope.facts.get("execution_rate"),
        _sum(scope.projects, "balance_yuan"),
    ]
    adjusted = [r for r in rows if (r[2] or ZERO) or (r[3] or ZERO)]
    paras = [
        f"全年预算 {final:,.2f} 元，实际到位 {allocated:,.2f} 元，实际支出 {spent:,.2f} 元。"
        f"资金到位率 = 实际到位 ÷ 全年预算；预算执行率取自集市（marts）；"
        f"结余 = 全年预算 − 实际支出。",
        f"年内调整预算的项目 {len(adjusted)} 个"
        + (
            "："
            + "；".join(
                f"{r[0]} 追加 {(r[2] or ZERO):,.2f} 元、压减 {(r[3] or ZERO):,.2f} 元"
                for r in adjusted
            )
            if adjusted
            else ""
        )
        + "。",
    ]
    return Section(
        "budget",
        "二、预算安排与执行情况",
        paras,
        [Table("budget", "预算安排与执行", cols, rows, total)],
    )


EVALUATION_TYPE_LABELS = {
    "self": "单位自评",
    "department": "部门评价",
    "third_party": "第三方评价",
    "recomputed": "复核重算",
    "reported_indicators": "自评（按指标汇总）",
}
"""Chinese labels for the marts' evaluation_type codes (评价类型)."""


def level1_section(scope: Scope, data: YearData) -> Section:
    """三、评价得分总表 by first-level indicator (seed 001: 指标分值, 评价得分, 得分率)."""
    cols = [
        Column("项目名称", "text", 28),
        Column("评价类型", "text", 10),
        Column("一级指标", "text", 12),
        Column("指标分值", "score", 10),
        Column("评价得分", "score", 10),
        Column("得分率", "rate", 10),
    ]
    rows: list[list[Any]] = []
    for p in scope.projects:
        by_type: dict[str, list[Row]] = {}
        for r in data.level1.get(p["project_key"], []):
            by_type.setdefault(r["evaluation_type"] or "", []).append(r)
        for etype, items in by_type.items():
            label = EVALUATION_TYPE_LABELS.get(etype, etype)
            for r in items:
                rows.append(
                    [
                        p["project_name"],
                        label,
                        r["level1_name"],
                        r["max_score"],
                        r["score"],
                        r["score_rate"],
                    ]
                )
            mx, sc = _sum(items, "max_score"), _sum(items, "score")
            rows.append([p["project_name"], label, "合计", mx, sc, ratio(sc, mx)])
    note = (
        "评价类型：单位自评、部门评价、第三方评价为报送的得分；"
        "复核重算为本系统按规则重算的得分；"
        "自评（按指标汇总）为报送的三级指标得分按一级指标汇总。"
    )
    return Section(
        "level1", "三、评价得分总表", [], [Table("level1", "评价得分总表", cols, rows, note=note)]
    )


def grade_section(scope: Scope) -> Section:
    """四、评价等级 (grade): reported vs recomputed, differences highlighted."""
    cols = [
        Column("项目名称", "text", 28),
        Column("自评得分", "score", 10),
        Column("复核得分", "score", 10),
        Column("差异", "score", 9),
        Column("自评等级", "text", 9),
        Column("复核等级", "text", 9),
        Column("评价机构得分", "score", 12),
        Column("产出完成情况", "text", 14),
    ]
    rows, highlight = [], set()
    for i, p in enumerate(scope.projects):
        rep, rec = as_decimal(p.get("reported_score")), as_decimal(p.get("recomputed_score"))
        diff = rep - rec if rep is not None and rec is not None else None
        rows.append(
            [
                p["project_name"],
                rep,
                rec,
                diff,
                p.get("reported_grade"),
                p.get("grade"),
                p.get("evaluator_score"),
                p.get("output_completion_grade"),
            ]
        )
        if diff is not None and diff != 0:
            highlight |= {(i, 1), (i, 2), (i, 3)}
        if p.get("reported_grade") and p.get("grade") and p["reported_grade"] != p["grade"]:
            highlight |= {(i, 4), (i, 5)}
    dist_rows = [
        [g, _count(scope.projects, "reported_grade", g), _count(scope.projects, "grade", g)]
        for g in GRADES
    ]
    dist = Table(
        "grade_distribution",
        "等级分布",
        [
            Column("等级", "text", 8),
            Column("自评（个）", "int", 10),
            Column("复核（个）", "int", 10),
        ],
        dist_rows,
    )
    para = (
        "等级：优 ≥ 90，良 80–90，中 60–80，差 < 60（含下限）。"
        "自评得分与复核得分不一致的单元格以黄色标出。"
    )
    return Section(
        "grade",
        "四、评价等级",
        [para],
        [Table("grade", "项目得分与等级", cols, rows, highlight=highlight), dist],
    )


def _count(rows: list[Row], col: str, value: str) -> int:
    return sum(1 for r in rows if r.get(col) == value)


def indicator_target_text(r: Row, which: Literal["target", "actual"]) -> str:
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


def indicator_section(scope: Scope, data: YearData) -> Section:
    """五、指标完成情况: per project counts, then indicators short of full marks."""
    summary_cols = [
        Column("项目名称", "text", 28),
        Column("指标数", "int", 8),
        Column("满分指标数", "int", 10),
        Column("未满分指标数", "int", 12),
        Column("满分比例", "rate", 10),
    ]
    summary, detail = [], []
    for p in scope.projects:
        items = data.indicators.get(p["project_key"], [])
        full = [r for r in items if _full_marks(r)]
        summary.append(
            [
                p["project_name"],
                len(items),
                len(full),
                len(items) - len(full),
                ratio(len(full), len(items)),
            ]
        )
        for r in items:
            if not _full_marks(r):
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
                        r.get("deviation_reason"),
                    ]
                )
    detail_cols = [
        Column("项目名称", "text", 24),
        Column("一级指标", "text", 8),
        Column("三级指标", "text", 28),
        Column("年度指标值", "text", 12),
        Column("实际完成值", "text", 12),
        Column("分值", "score", 8),
        Column("自评得分", "score", 9),
        Column("复核得分", "score", 9),
        Column("偏差原因分析及改进措施", "text", 36),
    ]
    para = "满分指标：复核得分等于分值的三级指标。下表列出复核未得满分的指标及其偏差原因。"
    return Section(
        "indicators",
        "五、绩效指标完成情况",
        [para],
        [
            Table("indicator_summary", "指标完成概况", summary_cols, summary),
            Table("indicator_shortfalls", "未满分指标", detail_cols, detail),
        ],
    )


def _full_marks(r: Row) -> bool:
    w, s = as_decimal(r.get("weight")), as_decimal(r.get("recomputed_score"))
    return w is not None and s is not None and s >= w


def flags_section(scope: Scope, data: YearData) -> Section:
    """六、复核发现 (review findings): score inflation, low targets, lagging, missing reasons."""
    cols = [
        Column("项目名称", "text", 24),
        Column("问题代码", "text", 18),
        Column("严重程度", "text", 9),
        Column("问题说明", "text", 40),
        Column("Finding", "text", 40),
    ]
    rows = []
    for p in scope.projects:
        for f in data.flags.get(p["project_key"], []):
            rows.append(
                [
                    p["project_name"],
                    f.get("flag_code"),
                    f.get("severity"),
                    f.get("message_zh"),
                    f.get("message_en"),
                ]
            )
    counts = Counter(r[1] for r in rows)
    by_code = Table(
        "flag_counts",
        "问题汇总",
        [Column("问题代码", "text", 18), Column("数量", "int", 8)],
        [[code, counts[code]] for code in sorted(counts)],
    )
    para = f"复核共发现问题 {len(rows)} 项。" if rows else "复核未发现问题。"
    return Section(
        "flags", "六、复核发现的问题", [para], [by_code, Table("flags", "问题清单", cols, rows)]
    )


def category_section(scope: Scope, data: YearData) -> tuple[Section, list[str], list[Any]]:
    """七、分类资金安排 (seed 000): mart_category_year rows of the scope's parent projects.

    Falls back to the scope's own projects grouped by category (spent amounts) when the
    marts hold no category breakdown under any of the scope's projects.
    """
    cols = [
        Column("期间", "text", 10),
        Column("类别", "text", 20),
        Column("项目数（个）", "int", 10),
        Column("金额（元）", "yuan", 18),
        Column("资金占比", "rate", 10),
    ]
    mart_rows = [c for c in data.categories if c.get("parent_project_key") in scope.keys]
    if mart_rows:
        rows = [
            [
                _period(c),
                c["category"],
                c.get("project_count"),
                c.get("amount_yuan"),
                c.get("share"),
            ]
            for c in mart_rows
        ]
        note = "来源：marts.mart_category_year（无年度的行为整个实施期间的合计）。"
        year_rows = [r for r in rows if r[0] == str(data.year)] or rows
    else:
        groups: dict[str, list[Row]] = {}
        for p in scope.projects:
            groups.setdefault(p.get("category") or "未分类", []).append(p)
        spent = _sum(scope.projects, "spent_yuan")
        rows = [
            [
                str(data.year),
                cat,
                len(ps),
                _sum(ps, "spent_yuan"),
                ratio(_sum(ps, "spent_yuan"), spent),
            ]
            for cat, ps in sorted(groups.items())
        ]
        note = "来源：marts.mart_project_year 按项目类别汇总的实际支出。"
        year_rows = rows
    total = None
    if len({r[0] for r in rows}) == 1:
        total = [
            rows[0][0],
            "合计",
            sum(r[2] or 0 for r in rows),
            sum((r[3] or ZERO for r in rows), ZERO),
            None,
        ]
    section = Section(
        "categories",
        "七、分类资金安排",
        [],
        [Table("categories", "分类资金安排", cols, rows, total, note)],
    )
    return section, [r[1] for r in year_rows], [r[4] for r in year_rows]


def _period(c: Row) -> str:
    """2023, or the whole period (2019-2022) for a multi-year row (期间)."""
    if c.get("fiscal_year") is not None:
        return str(c["fiscal_year"])
    start, end = c.get("period_start_year"), c.get("period_end_year")
    return f"{start}-{end}" if start and end else "期间合计"


def spending_section(scope: Scope, data: YearData) -> Section:
    """八、支出率分布 (seed 001 buckets; 'no_funds' = 暂未下达资金)."""
    cols = [
        Column("上级项目", "text", 24),
        Column("支出率区间", "text", 16),
        Column("项目数（个）", "int", 10),
    ]
    names = {p["project_key"]: p["project_name"] for p in scope.projects}
    mart_rows = [b for b in data.spending_buckets if b.get("parent_project_key") in scope.keys]
    if mart_rows:
        rows = [
            [names[b["parent_project_key"]], b["bucket_label"], b["project_count"]]
            for b in mart_rows
        ]
        note = "来源：marts.mart_spending_rate_distribution（含下限不含上限）。"
    else:
        rows = [
            [scope.name, label, n]
            for label, n in _bucket_counts(scope.subprojects or scope.projects)
        ]
        note = "本范围项目的预算执行率分布（含下限不含上限；未下达资金单列）。"
    return Section(
        "spending", "八、支出率分布", [], [Table("spending", "支出率分布", cols, rows, note=note)]
    )


def _bucket_counts(projects: list[Row]) -> list[tuple[str, int]]:
    counts = Counter[str]()
    for p in projects:
        counts[_bucket(p)] += 1
    labels = [b[1] for b in _BUCKETS] + ["暂未下达资金"]
    return [(label, counts[label]) for label in labels]


def _bucket(p: Row) -> str:
    if not as_decimal(p.get("allocated_yuan")) or p.get("execution_rate") is None:
        return "暂未下达资金"
    rate = as_decimal(p["execution_rate"])
    assert rate is not None
    for _, label, lo, hi in _BUCKETS:
        if (lo is None or rate >= lo) and (hi is None or rate < hi):
            return label
    return _BUCKETS[-1][1]


def monthly_series(scope: Scope, data: YearData) -> list[list[Any]]:
    """Scope-wide cumulative execution by month (月度累计执行).

    Each project's cumulative spending is carried forward to months without a row; the
    rate is the summed cumulative spending over the summed final budget of the projects
    that have monthly data. 序时进度 is taken from the mart (the same for every project).
    """
    with_data = [p for p in scope.projects if data.monthly.get(p["project_key"])]
    budget = _sum(with_data, "final_budget_yuan")
    out: list[list[Any]] = []
    for m in range(1, 13):
        spent, schedule = ZERO, None
        for p in with_data:
            rows = [r for r in data.monthly[p["project_key"]] if r["month"] <= m]
            if rows:
                spent += as_decimal(rows[-1]["cumulative_spent_yuan"]) or ZERO
            here = [r for r in data.monthly[p["project_key"]] if r["month"] == m]
            if here and schedule is None:
                schedule = here[0].get("time_schedule_rate")
        if with_data:
            rate = ratio(spent, budget)
            lagging = "是" if rate is not None and schedule is not None and rate < schedule else ""
            out.append([f"{m}月", spent, rate, schedule, lagging])
    return out


def charts_section(
    scope: Scope, data: YearData, cat_labels: list[str], cat_shares: list[Any]
) -> Section:
    """九、图表: execution vs 序时进度, grade distribution, category shares."""
    monthly = monthly_series(scope, data)
    cols = [
        Column("月份", "text", 8),
        Column("累计支出（元）", "yuan", 18),
        Column("累计执行率", "rate", 11),
        Column("序时进度", "rate", 10),
        Column("滞后", "text", 6),
    ]
    sec = Section("charts", "九、图表", [], [Table("monthly", "月度执行进度", cols, monthly)])
    if monthly:
        sec.charts.append(
            charts.execution_chart(
                [int(r[0][:-1]) for r in monthly],
                [r[2] for r in monthly],
                [r[3] for r in monthly],
                f"{scope.name} {data.year} 年预算执行进度与序时进度",
            )
        )
    sec.charts.append(
        charts.grade_chart(
            GRADES,
            [_count(scope.projects, "reported_grade", g) for g in GRADES],
            [_count(scope.projects, "grade", g) for g in GRADES],
            "项目得分等级分布",
        )
    )
    if cat_labels:
        sec.charts.append(charts.category_chart(cat_labels, cat_shares, "分类资金占比"))
    return sec


def build_report(scope: Scope, data: YearData) -> Report:
    """All sections for one department or region (组装报告)."""
    cat_section, labels, shares = category_section(scope, data)
    builders: list[Callable[[], Section]] = [
        lambda: basic_section(scope, data.year),
        lambda: budget_section(scope, data),
        lambda: level1_section(scope, data),
        lambda: grade_section(scope),
        lambda: indicator_section(scope, data),
        lambda: flags_section(scope, data),
        lambda: cat_section,
        lambda: spending_section(scope, data),
        lambda: charts_section(scope, data, labels, shares),
    ]
    kind_zh = "部门" if scope.kind == "department" else "地区"
    return Report(
        kind=scope.kind,
        name=scope.name,
        year=data.year,
        title=f"{scope.name}{data.year}年度预算绩效评价报告",
        subtitle=f"（{data.year} 年度 · {kind_zh}报告）",
        sections=[b() for b in builders],
        file_stem=safe_filename(scope.name, f"{scope.kind}:{scope.name}"),
    )
