"""Department and region reports (xlsx + HTML): every table reconciled with its mart.

Workbook amounts are 万元 (the mart's yuan / 10000, exact); the HTML's ``data-value`` keeps the
mart's own value, the shown text is the formatted one. An unknown value shows as ``—``.
"""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from tests.integration.reports.report_helpers import (
    Built,
    as_dec,
    html_rows,
    parse_html,
    table_rows,
)
from tests.integration.reports.report_marts_fixture import JM_DEPT, XF_DEPT, make_marts

from jixiao.config import get_settings
from jixiao.reports.marts import ReportDataError
from jixiao.reports.yearly import build_reports

WAN = Decimal(10000)


def yuan(value: object) -> Decimal | None:
    """A workbook 万元 cell back in yuan."""
    d = as_dec(value)
    return None if d is None else d * WAN


def body_text(path: Path) -> str:
    """The page's visible prose (paragraphs), tags stripped."""
    html = path.read_text(encoding="utf-8")
    return " ".join(re.sub(r"<[^>]+>", "", p) for p in re.findall(r"<p[^>]*>.*?</p>", html, re.S))


def test_files_per_project_department_and_region(built: Built) -> None:
    out = built.settings.reports / "2023"
    assert len(list((out / "projects").glob("*.xlsx"))) == 6  # sub-projects get forms too
    assert {p.suffix for p in (out / "departments").iterdir()} == {".xlsx", ".html", ".pdf"}
    assert len(list((out / "departments").glob("*.html"))) == 2
    assert len(list((out / "regions").glob("*.html"))) == 2
    assert all(p.is_file() and p.stat().st_size > 0 for p in built.paths)


def test_report_files_are_readable_by_the_group(built: Built) -> None:
    """No forced 0600: report files get 0666 minus the umask like any file the process makes."""
    import os

    mask = os.umask(0)
    os.umask(mask)
    for p in built.paths:
        assert p.stat().st_mode & 0o777 == 0o666 & ~mask, p


def test_department_basic_facts_match_mart(built: Built) -> None:
    ((count, final, alloc, spent, rate, avg),) = built.query(
        "select project_count, final_budget_yuan, allocated_yuan, spent_yuan, execution_rate, "
        "avg_recomputed_score from marts.mart_department_year where department_name = ?",
        [XF_DEPT],
    )
    xlsx = table_rows(built.one("departments", XF_DEPT, ".xlsx"), "t_basic")[1]
    assert [as_dec(xlsx[0]), yuan(xlsx[1]), yuan(xlsx[2]), yuan(xlsx[3])] == [
        count,
        final,
        alloc,
        spent,
    ]
    assert [as_dec(xlsx[4]), as_dec(xlsx[5])] == [rate, avg]
    page = html_rows(built.one("departments", XF_DEPT, ".html"), "basic")[0]
    assert [Decimal(v) for v, _ in page] == [count, final, alloc, spent, rate, avg]
    # 万元 with two decimals, rates as percentages with two decimals
    shown = [text for _, text in page]
    assert shown[1:4] == [f"{v / WAN:,.2f}" for v in (final, alloc, spent)]
    assert shown[4] == f"{rate * 100:.2f}%"
    assert shown[1] == "18.90"  # 99,000 + 30,000 + 60,000 元


def test_amounts_in_yuan_when_the_report_asks(tmp_path: Path) -> None:
    db = make_marts(tmp_path / "jixiao.duckdb")
    settings = get_settings(tmp_path / "home").ensure()
    paths = build_reports(settings, 2023, department=XF_DEPT, source=db, unit="yuan", pdf=False)
    page = next(p for p in paths if p.suffix == ".html")
    assert [t for _, t in html_rows(page, "basic")[0]][1] == "189,000.00"
    assert "金额单位：元" in page.read_text(encoding="utf-8")
    with pytest.raises(ReportDataError, match=r"wan.*yuan"):
        build_reports(settings, 2023, source=db, unit="usd", pdf=False)  # type: ignore[arg-type]


def test_budget_table_reconciles_with_project_and_department_marts(built: Built) -> None:
    rows = table_rows(built.one("departments", JM_DEPT, ".xlsx"), "t_budget")
    total = rows[-1]
    assert total[0] == "合计"
    ((final, alloc, spent, rate),) = built.query(
        "select final_budget_yuan, allocated_yuan, spent_yuan, execution_rate "
        "from marts.mart_department_year where department_name = ?",
        [JM_DEPT],
    )
    assert (yuan(total[4]), yuan(total[5]), yuan(total[7]), as_dec(total[8])) == (
        final,
        alloc,
        spent,
        rate,
    )
    ((additions, cuts),) = built.query(
        "select sum(b.additions_yuan), sum(b.cuts_yuan) from marts.fct_budget as b "
        "join marts.dim_project as d using (project_key) "
        "where d.department_name = ? and d.parent_project_key is null",
        [JM_DEPT],
    )
    assert (yuan(total[2]), yuan(total[3])) == (additions, cuts)
    # the 合计 row is the scope's row of marts.mart_report_scope_funds, column by column
    ((scope,),) = built.query(
        "select [initial_yuan, additions_yuan, cuts_yuan, final_budget_yuan, allocated_yuan, "
        "allocation_rate, spent_yuan, execution_rate, balance_yuan] "
        "from marts.mart_report_scope_funds where scope_kind = 'department' and scope_name = ?",
        [JM_DEPT],
    )
    rates = (5, 7)  # allocation and execution rates; the rest are amounts
    assert [as_dec(v) if i in rates else yuan(v) for i, v in enumerate(total[1:])] == scope
    body = {r[0]: r for r in rows[1:-1]}
    for name, r in body.items():
        ((pf, pa, ps, pbal, prate, erate),) = built.query(
            "select final_budget_yuan, allocated_yuan, spent_yuan, balance_yuan, "
            "allocation_rate, execution_rate from marts.mart_project_year where project_name = ?",
            [name],
        )
        assert (yuan(r[4]), yuan(r[5]), yuan(r[7]), yuan(r[9])) == (pf, pa, ps, pbal)
        assert (as_dec(r[6]), as_dec(r[8])) == (prate, erate)
    page = html_rows(built.one("departments", JM_DEPT, ".html"), "budget")
    assert [yuan(v) if i not in (5, 7) else as_dec(v) for i, v in enumerate(total[1:])] == [
        Decimal(v) for v, _ in page[-1][1:]
    ]


def test_unknown_shows_as_dash_never_zero(built: Built) -> None:
    """XF-2023-03 has no 实际到位: its cells and the sentence say unknown, not 0.00 / 0.00%."""
    path = built.one("departments", XF_DEPT, ".html")
    ((alloc, arate),) = built.query(
        "select allocated_yuan, allocation_rate from marts.mart_project_year "
        "where project_key = 'XF-2023-03'"
    )
    assert alloc is None and arate is None
    row = next(r for r in html_rows(path, "budget") if r[0][1] == "数据共享平台运维")
    assert (row[5], row[6]) == (("", "—"), ("", "—"))
    total = html_rows(path, "budget")[-1]
    assert total[5][1] == "—" and total[6][1] == "—"  # a sum over an unknown is unknown
    xlsx = {r[0]: r for r in table_rows(built.one("departments", XF_DEPT, ".xlsx"), "t_budget")}
    assert xlsx["数据共享平台运维"][5] == "—" and xlsx["合计"][5] == "—"
    text = body_text(path)
    assert "实际到位资金未填报（—）" in text


def test_negative_balance_is_a_number_not_escaped_text(built: Built) -> None:
    xlsx = {r[0]: r for r in table_rows(built.one("departments", XF_DEPT, ".xlsx"), "t_budget")}
    bal = xlsx["数据共享平台运维"][9]
    assert isinstance(bal, int | float) and bal < 0
    page = next(
        r
        for r in html_rows(built.one("departments", XF_DEPT, ".html"), "budget")
        if r[0][1] == "数据共享平台运维"
    )
    assert page[9][1] == "-1.20" and not page[9][1].startswith("'")


def test_level1_table_reported_beside_recomputed_with_mart_totals(built: Built) -> None:
    """One row per 一级指标 with 自评 (单位自评, else the indicator sums) beside 复核; the
    合计 row is the project mart's (98 self for Jiangmen, never split into 20 + 80)."""
    rows = table_rows(built.one("departments", JM_DEPT, ".xlsx"), "t_level1")
    body = [r for r in rows[1:] if r[0] == "“数字政府”建设专项资金"]
    mart = {
        (t, n): s
        for t, n, s in built.query(
            "select evaluation_type, level1_name, score from marts.mart_level1_scores "
            "where project_key = 'JM-2023-01'"
        )
    }
    for r in body[:-1]:
        assert as_dec(r[4]) == mart[("recomputed", r[1])]
        assert as_dec(r[3]) == mart.get(("self", r[1]), mart.get(("reported_indicators", r[1])))
    assert [r[1] for r in body] == ["决策", "产出", "效益", "合计"]
    ((rep, rec),) = built.query(
        "select reported_score, recomputed_score from marts.mart_project_year "
        "where project_key = 'JM-2023-01'"
    )
    assert (
        (as_dec(body[-1][3]), as_dec(body[-1][4]))
        == (rep, rec)
        == (
            Decimal("98.00"),
            Decimal("97.86"),
        )
    )
    xf_rows = table_rows(built.one("departments", XF_DEPT, ".xlsx"), "t_level1")
    xf = [r for r in xf_rows[1:] if r[0] == "政务服务建设推广"]
    assert [r[1] for r in xf[:-1]] == ["决策", "过程", "产出", "效益"]  # document order
    assert as_dec(xf[-1][5]) == Decimal("77.20")  # seed 001: third-party 77.20
    assert sum(as_dec(r[5]) for r in xf[:-1]) == Decimal("77.20")


def test_grades_and_indicator_completion(built: Built) -> None:
    path = built.one("departments", XF_DEPT, ".xlsx")
    grades = {r[0]: r for r in table_rows(path, "t_grade")[1:]}
    ((rep, rec, diff, grade, rgrade, ev),) = built.query(
        "select reported_score, recomputed_score, score_difference, grade, reported_grade, "
        "evaluator_score from marts.mart_project_year where project_key = 'XF-2023-01'"
    )
    g = grades["政务服务建设推广"]
    assert (as_dec(g[1]), as_dec(g[2]), g[4], g[5], as_dec(g[6])) == (rep, rec, rgrade, grade, ev)
    assert diff is not None and as_dec(g[3]) == diff != 0  # 差异 as the mart holds it
    wb = load_workbook(path)
    ws = wb["综合评价结论"]
    hit = next(c for row in ws.iter_rows() for c in row if c.value == "政务服务建设推广")
    assert ws.cell(hit.row, hit.column + 3).fill.fgColor.rgb.endswith("FFF2A8")
    summary = {r[0]: r for r in table_rows(path, "t_indicator_summary")[1:]}
    assert [as_dec(v) for v in summary["政务服务建设推广"][1:4]] == [2, 0, 2]
    names = dict(built.query("select project_key, project_name from marts.mart_project_year"))
    mart = {
        names[k]: (n, full, short, share)
        for k, n, full, short, share in built.query(
            "select project_key, indicator_count, full_marks_count, short_of_full_marks_count, "
            "full_marks_share from marts.mart_report_project_indicators"
        )
    }
    assert len(summary) == 3
    for name, row in summary.items():
        # a formula-like name is written escaped; a project without indicators counts 0
        n, full, short, share = mart.get(name.removeprefix("'"), (0, 0, 0, None))
        assert (row[1], row[2], row[3]) == (n, full, short) and n == full + short
        assert (None if row[4] == "—" else as_dec(row[4])) == share  # unknown shows as —
    # the shortfall list holds exactly the indicators the fact marks as not full marks
    shortfalls = table_rows(path, "t_indicator_shortfalls")[1:]
    ((short_total,),) = built.query(
        "select short_of_full_marks_count from marts.mart_report_scope_indicators "
        "where scope_kind = 'department' and scope_name = ? and fiscal_year = 2023",
        [XF_DEPT],
    )
    assert len(shortfalls) == short_total > 0
    ((n_all, n_full, n_short),) = built.query(
        "select indicator_count, full_marks_count, short_of_full_marks_count "
        "from marts.mart_report_scope_indicators "
        "where scope_kind = 'department' and scope_name = ? and fiscal_year = 2023",
        [XF_DEPT],
    )
    assert f"共采集三级指标{n_all}个，复核得满分{n_full}个，未得满分{n_short}个" in body_text(
        built.one("departments", XF_DEPT, ".html")
    )


def test_grade_distribution_and_its_sentence_from_the_scope_grades_mart(built: Built) -> None:
    for dept in (JM_DEPT, XF_DEPT):
        shown = table_rows(built.one("departments", dept, ".xlsx"), "t_grade_distribution")[1:]
        mart = built.query(
            "select grade, reported_project_count, recomputed_project_count "
            "from marts.mart_report_scope_grades where scope_kind = 'department' "
            "and scope_name = ? and fiscal_year = 2023 order by sort_order",
            [dept],
        )
        assert [tuple(r) for r in shown] == mart
        assert [r[0] for r in mart] == ["优", "良", "中", "差"]
        ((projects,),) = built.query(
            "select project_count from marts.mart_department_year where department_name = ?",
            [dept],
        )
        assert sum(r[2] for r in mart) <= projects  # a project without a grade is not counted
    ((n,),) = built.query(
        "select project_count from marts.mart_department_year where department_name = ?",
        [XF_DEPT],
    )
    assert n > 1
    rec = "、".join(f"{g}{c}个" for g, _, c in mart)
    assert f"{n}个项目中，复核等级为{rec}" in body_text(built.one("departments", XF_DEPT, ".html"))


def test_every_flag_of_department_projects_and_sub_projects_listed_in_chinese(
    built: Built,
) -> None:
    path = built.one("departments", JM_DEPT, ".xlsx")
    expected = built.query(
        "select l.label_zh, s.label_zh from marts.mart_review_flags f "
        "join marts.dim_project d using (project_key) "
        "join marts.mart_report_labels l on l.code_type = 'flag_type' and l.code = f.flag_code "
        "join marts.mart_report_labels s on s.code_type = 'severity' and s.code = f.severity "
        "where d.department_name = ? order by 1",
        [JM_DEPT],
    )
    flags = table_rows(path, "t_flags")[1:]
    assert sorted((r[1], r[2]) for r in flags) == sorted(expected)
    assert len(flags) == 2  # one of the project, one of its sub-project
    assert any(r[0] == "子项目：政务云扩容" for r in flags)
    counts = {r[0]: r[2] for r in table_rows(path, "t_flag_counts")[1:]}
    assert counts == {"完成值远高于指标值，目标设置偏低": 1, "预算执行进度滞后于序时进度": 1}
    text = body_text(built.one("departments", JM_DEPT, ".html"))
    assert "复核共发现问题2项" in text and "复核未发现问题" not in text
    # the rule code inside a message is shown by its label
    assert all("budget_execution_rate" not in str(r[3]) for r in flags)
    assert any("预算执行率 × 分值" in str(r[3]) for r in flags)


def test_codes_never_shown_as_codes(built: Built) -> None:
    codes = [c for (c,) in built.query("select code from marts.mart_report_labels")]
    for sub in ("departments", "regions"):
        for path in (p for p in built.paths if p.parent.name == sub and p.suffix == ".html"):
            page = parse_html(path)
            shown = " ".join(t for rows in page.tables.values() for r in rows for _, t in r)
            text = shown + body_text(path)
            for code in codes:
                if code.isascii() and "_" in code:
                    assert code not in text, (path.name, code)
            assert "marts" not in text and "集市" not in text


def test_recommendations_follow_the_flag_types(built: Built) -> None:
    jm = body_text(built.one("departments", JM_DEPT, ".html"))
    assert "提高下一年度的指标值" in jm  # target_too_low
    assert "序时进度" in jm  # lagging_execution
    xf = body_text(built.one("departments", XF_DEPT, ".html"))
    assert "严格按评分规则自评打分" in xf  # reported_score_above_recomputed


def test_mof_outline_sections_in_order(built: Built) -> None:
    html = built.one("departments", JM_DEPT, ".html").read_text(encoding="utf-8")
    heads = re.findall(r"<h[23]>(.*?)</h[23]>", html)
    expected = [
        "一、基本情况",
        "（二）资金安排与使用",
        "二、绩效评价工作开展情况",
        "三、综合评价结论",
        "四、绩效目标实现情况分析",
        "五、存在的问题及原因分析",
        "六、有关建议",
    ]
    assert [h for h in heads if h in expected] == expected
    assert "（一）项目概况" in html


def test_category_table_from_mart_without_duplicates(built: Built) -> None:
    path = built.one("departments", JM_DEPT, ".xlsx")
    cats = table_rows(path, "t_categories")
    mart = built.query(
        "select category, project_count, amount_yuan, share from marts.mart_category_year "
        "where parent_project_key = 'JM-2023-01' order by amount_yuan desc"
    )
    assert [(r[2], r[3], yuan(r[4]), as_dec(r[5])) for r in cats[1:]] == mart
    assert sum(r[3] for r in cats[1:]) == 265  # seed 000: 38+31+20+37+55+84 projects
    assert sum(yuan(r[4]) for r in cats[1:]) == Decimal("504189800.00")  # 50418.98 万元
    keys = [(r[0], r[1], r[2]) for r in cats[1:]]
    assert len(keys) == len(set(keys))
    # Xinfeng: only 未分类 under its projects -> no table, no chart, a sentence instead
    xf = parse_html(built.one("departments", XF_DEPT, ".html"))
    assert "categories" not in xf.tables
    assert "项目未填报类别" in body_text(built.one("departments", XF_DEPT, ".html"))


def test_spending_buckets_each_project_once_by_its_own_rate(built: Built) -> None:
    jm = table_rows(built.one("departments", JM_DEPT, ".xlsx"), "t_spending")[1:]
    mart_b = built.query(
        "select cast(report_year as varchar), report_label, reported_project_count "
        "from marts.mart_report_spending_distribution "
        "where parent_project_key = 'JM-2023-01' and report_year = 2023 "
        "order by is_whole_period, sort_order"
    )
    assert [(r[1], r[2], r[3]) for r in jm] == mart_b
    # a single-year parent: the year's distribution only, each sub-project once
    own = built.query(
        "select bucket_code, project_count from marts.mart_spending_rate_distribution "
        "where parent_project_key = 'JM-2023-01' order by sort_order"
    )
    assert own == [
        ("rate_100", 0),
        ("rate_90_100", 0),
        ("rate_80_90", 30),
        ("rate_60_80", 8),
        ("rate_below_60", 35),
        ("no_funds", 2),
    ]
    # seed 001 as the evaluation counts it: 0 / 0 / 30 / 8 / 37 (含2个暂未下达资金), 75 in all
    assert [(r[2], r[3]) for r in jm] == [
        ("100%", 0),
        ("90%-100%", 0),
        ("80%-90%", 30),
        ("60%-80%", 8),
        ("低于60%（含暂未下达资金）", 37),
        ("其中：暂未下达资金", 2),
    ]
    html = body_text(built.one("departments", JM_DEPT, ".html"))
    assert "共75个项目" in html and "暂未下达资金的项目支出率按0计" in html, html
    xf = table_rows(built.one("departments", XF_DEPT, ".xlsx"), "t_spending")[1:]
    expected = dict(
        built.query(
            "select bucket_code, count(*) from marts.mart_report_project_buckets "
            "where department_name = ? group by all",
            [XF_DEPT],
        )
    )
    scope = built.query(
        "select report_label, reported_project_count, bucket_code, project_count "
        "from marts.mart_report_scope_buckets "
        "where scope_kind = 'department' and scope_name = ? and fiscal_year = 2023 "
        "order by sort_order",
        [XF_DEPT],
    )
    assert [(r[2], r[3]) for r in xf] == [(r[0], r[1]) for r in scope]
    assert {r[2]: r[3] for r in scope if r[3]} == expected
    assert sum(r[3] for r in scope) == 3  # three projects, each in exactly one bucket
    # XF-2023-03 spent 120% of its budget without a known allocation: 100%, not 暂未下达资金;
    # only XF-2023-02, with nothing allocated and no rate, is 暂未下达资金 (counted in 低于60%)
    shown = {r[2]: r[3] for r in xf}
    assert shown["100%"] == 1
    assert shown["其中：暂未下达资金"] == 1
    assert shown["低于60%（含暂未下达资金）"] == 1 + expected.get("rate_below_60", 0)


def test_monthly_execution_includes_sub_projects_when_parent_has_none(built: Built) -> None:
    path = built.one("departments", JM_DEPT, ".html")
    rows = html_rows(path, "monthly")
    assert len(rows) == 12
    ((cum, sched),) = built.query(
        "select sum(cumulative_spent_yuan), max(time_schedule_rate) "
        "from marts.mart_execution_monthly where project_key in ('JM-2023-01') and month = 6"
    )
    assert (Decimal(rows[5][1][0]), Decimal(rows[5][3][0])) == (cum, sched)
    # every row is the scope's row of marts.mart_report_scope_monthly
    mart = built.query(
        "select cumulative_spent_yuan, cumulative_execution_rate, time_schedule_rate, is_lagging "
        "from marts.mart_report_scope_monthly where scope_kind = 'department' "
        "and scope_name = ? order by month",
        [JM_DEPT],
    )
    assert [
        (Decimal(r[1][0]), Decimal(r[2][0]), Decimal(r[3][0]), r[4][1] == "是") for r in rows
    ] == [(c, rate, sc, bool(lag)) for c, rate, sc, lag in mart]
    text = path.read_text(encoding="utf-8")
    for key in ("execution_monthly", "grade_distribution", "category_shares"):
        assert f'data-chart="{key}"' in text
    assert text.count("<svg") == 3
    wb = load_workbook(built.one("departments", JM_DEPT, ".xlsx"))
    assert sum(len(ws._images) for ws in wb.worksheets) == 3


def test_region_report_covers_region_projects(built: Built) -> None:
    path = built.one("regions", "新丰县", ".xlsx")
    ((count, final, spent, rate),) = built.query(
        "select project_count, final_budget_yuan, spent_yuan, execution_rate "
        "from marts.mart_region_year where county = '新丰县'"
    )
    basic = table_rows(path, "t_basic")[1]
    assert [as_dec(basic[0]), yuan(basic[1]), yuan(basic[2]), as_dec(basic[3])] == [
        count,
        final,
        spent,
        rate,
    ]
    names = {r[0] for r in table_rows(path, "t_budget")[1:-1]}
    assert "政务服务建设推广" in names and "政务外网运维" not in names
    page = parse_html(built.one("regions", "新丰县", ".html"))
    assert page.title.startswith("广东省韶关市新丰县")


def test_single_department_run(tmp_path: Path) -> None:
    db = make_marts(tmp_path / "jixiao.duckdb")
    settings = get_settings(tmp_path / "home").ensure()
    paths = build_reports(settings, 2023, department=XF_DEPT, source=db, pdf=False)
    assert sorted(p.parent.name for p in paths) == [
        "departments",
        "departments",
        "projects",
        "projects",
        "projects",
    ]
    assert len(paths) == 5
    with pytest.raises(ReportDataError, match=r"找不到部门.*not found"):
        build_reports(settings, 2023, department="不存在的部门", source=db, pdf=False)


def test_missing_year_and_missing_table_are_explained(tmp_path: Path) -> None:
    db = make_marts(tmp_path / "jixiao.duckdb")
    settings = get_settings(tmp_path / "home").ensure()
    with pytest.raises(ReportDataError, match=r"没有 2031 年度.*no projects for 2031"):
        build_reports(settings, 2031, source=db, pdf=False)
    for table in ("mart_review_flags", "mart_report_labels"):
        broken = tmp_path / table / "jixiao.duckdb"
        broken.parent.mkdir()
        shutil.copy(db, broken)
        con = duckdb.connect(str(broken))
        con.execute(f"drop table marts.{table}")
        con.close()
        with pytest.raises(ReportDataError, match=table):
            build_reports(settings, 2023, source=broken, pdf=False)


def test_default_source_prefers_published(tmp_path: Path) -> None:
    settings = get_settings(tmp_path / "home").ensure()
    make_marts(settings.warehouse)
    make_marts(settings.published)
    con = duckdb.connect(str(settings.published))  # published marts exist but hold no project
    con.execute("delete from marts.mart_project_year")
    con.close()
    with pytest.raises(ReportDataError, match="no projects for 2023"):
        build_reports(settings, 2023, pdf=False)
    settings.published.unlink()
    assert build_reports(settings, 2023, department=XF_DEPT, pdf=False)


def test_sub_projects_are_not_counted_as_department_projects(built: Built) -> None:
    path = built.one("departments", JM_DEPT, ".xlsx")
    names = [r[0] for r in table_rows(path, "t_budget")[1:-1]]
    assert "子项目：政务云扩容" not in names and len(names) == 2
    ((count,),) = built.query(
        "select project_count from marts.mart_department_year where department_name = ?", [JM_DEPT]
    )
    assert len(names) == count
    assert "下设子项目1个" in body_text(built.one("departments", JM_DEPT, ".html"))
    assert built.one("projects", "政务云扩容", ".xlsx").is_file()


def test_no_browser_still_writes_html_and_xlsx_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jixiao.reports import pdf

    monkeypatch.setenv("JIXIAO_CHROMIUM", str(tmp_path / "no-such-chromium"))
    db = make_marts(tmp_path / "jixiao.duckdb")
    settings = get_settings(tmp_path / "home").ensure()
    paths = build_reports(settings, 2023, department=XF_DEPT, source=db)
    assert {p.suffix for p in paths} == {".xlsx", ".html"}
    notice = settings.reports / "2023" / pdf.NOTICE_NAME
    text = notice.read_text(encoding="utf-8")
    assert "未生成 PDF" in text and "No PDF was produced" in text and "apt-get install" in text


def test_unit_from_the_environment_and_cli_refuses_an_unknown_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    from typer.testing import CliRunner

    from jixiao.cli.report import report

    db = make_marts(tmp_path / "jixiao.duckdb")
    settings = get_settings(tmp_path / "home").ensure()
    monkeypatch.setenv("JIXIAO_REPORT_UNIT", "yuan")
    paths = build_reports(settings, 2023, department=XF_DEPT, source=db, pdf=False)
    page = next(p for p in paths if p.suffix == ".html")
    assert [t for _, t in html_rows(page, "basic")[0]][1] == "189,000.00"
    app = typer.Typer()
    app.command()(report)
    result = CliRunner().invoke(app, ["--year", "2023", "--unit", "usd"])
    assert result.exit_code == 2
    assert "wan" in result.output and "yuan" in result.output


def test_the_pipeline_passes_the_unit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """pipeline.yearly_report (the DAG's and the CLI's path) takes the unit as a parameter."""
    from jixiao import pipeline

    settings = get_settings(tmp_path / "home").ensure()
    make_marts(settings.warehouse)
    monkeypatch.setattr(pipeline, "check_year_gate", lambda year, s: None)  # no gate here
    monkeypatch.setenv("JIXIAO_REPORT_UNIT", "wan")  # the parameter wins over the environment
    out = pipeline.yearly_report(2023, department=XF_DEPT, settings=settings, unit="yuan")
    assert out["unit"] == "yuan"
    page = next(Path(p) for p in out["files"] if p.endswith(".html"))
    assert [t for _, t in html_rows(page, "basic")[0]][1] == "189,000.00"
