"""Department and region reports (xlsx + HTML): figures checked against the marts."""

from __future__ import annotations

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
from tests.integration.reports.report_marts_fixture import DDL, JM_DEPT, XF_DEPT, make_marts

from jixiao.config import get_settings
from jixiao.reports.marts import ReportDataError
from jixiao.reports.yearly import build_reports


def test_files_per_project_department_and_region(built: Built) -> None:
    out = built.settings.reports / "2023"
    assert len(list((out / "projects").glob("*.xlsx"))) == 5  # sub-projects get forms too
    assert {p.suffix for p in (out / "departments").iterdir()} == {".xlsx", ".html"}
    assert len(list((out / "departments").glob("*.html"))) == 2
    assert len(list((out / "regions").glob("*.html"))) == 2
    assert all(p.is_file() and p.stat().st_size > 0 for p in built.paths)


def test_department_basic_facts_match_mart(built: Built) -> None:
    ((count, final, alloc, spent, rate, avg, flags),) = built.query(
        "select project_count, final_budget_yuan, allocated_yuan, spent_yuan, execution_rate, "
        "avg_recomputed_score, flag_count from marts.mart_department_year "
        "where department_name = ?",
        [XF_DEPT],
    )
    xlsx = table_rows(built.one("departments", XF_DEPT, ".xlsx"), "t_basic")[1]
    assert [as_dec(v) for v in xlsx] == [count, final, alloc, spent, rate, avg, flags]
    page = html_rows(built.one("departments", XF_DEPT, ".html"), "basic")[0]
    assert [Decimal(v) for v, _ in page] == [count, final, alloc, spent, rate, avg, flags]
    assert [text for _, text in page][1:5] == ["129,000.00", "99,000.00", "57,790.00", "58.37%"]


def test_budget_table_totals_equal_department_mart(built: Built) -> None:
    rows = table_rows(built.one("departments", JM_DEPT, ".xlsx"), "t_budget")
    total = rows[-1]
    assert total[0] == "合计"
    ((final, alloc, spent, rate),) = built.query(
        "select final_budget_yuan, allocated_yuan, spent_yuan, execution_rate "
        "from marts.mart_department_year where department_name = ?",
        [JM_DEPT],
    )
    assert (as_dec(total[4]), as_dec(total[5]), as_dec(total[7]), as_dec(total[8])) == (
        final,
        alloc,
        spent,
        rate,
    )
    ((additions, cuts),) = built.query(
        "select sum(b.additions_yuan), sum(b.cuts_yuan) from marts.fct_budget as b "
        "join marts.dim_project as d using (project_key) where d.department_name = ?",
        [JM_DEPT],
    )
    assert (as_dec(total[2]), as_dec(total[3])) == (additions, cuts)
    body = {r[0]: r for r in rows[1:-1]}
    ((pf, pa, ps, pbal, prate),) = built.query(
        "select final_budget_yuan, allocated_yuan, spent_yuan, balance_yuan, allocation_rate "
        "from marts.mart_project_year where project_key = 'JM-2023-02'"
    )
    row = body["政务外网运维"]
    assert (as_dec(row[4]), as_dec(row[5]), as_dec(row[7]), as_dec(row[9]), as_dec(row[6])) == (
        pf,
        pa,
        ps,
        pbal,
        prate,
    )
    page = html_rows(built.one("departments", JM_DEPT, ".html"), "budget")
    assert [Decimal(v) for v, _ in page[-1][1:]] == [as_dec(v) for v in total[1:]]


def test_level1_score_table_like_seed_001(built: Built) -> None:
    rows = table_rows(built.one("departments", XF_DEPT, ".xlsx"), "t_level1")
    mart = built.query(
        "select level1_name, max_score, score, score_rate from marts.mart_level1_scores "
        "where project_key = 'XF-2023-01' order by max_score, level1_name"
    )
    body = [r for r in rows[1:] if r[0] == "政务服务建设推广"]
    assert sorted((r[2], as_dec(r[3]), as_dec(r[4]), as_dec(r[5])) for r in body[:-1]) == sorted(
        mart
    )
    assert [r[2] for r in body[:-1]] == ["决策", "过程", "产出", "效益"]  # document order
    total = body[-1]
    # seed 001 评价得分总表: 合计 100 / 77.20 / 77.20%
    assert (total[2], as_dec(total[3]), as_dec(total[4]), as_dec(total[5])) == (
        "合计",
        Decimal("100"),
        Decimal("77.20"),
        Decimal("0.772"),
    )
    page = html_rows(built.one("departments", XF_DEPT, ".html"), "level1")
    assert [text for _, text in page[4]][3:] == ["100.00", "77.20", "77.20%"]


def test_grades_flags_and_indicator_completion(built: Built) -> None:
    path = built.one("departments", XF_DEPT, ".xlsx")
    grades = {r[0]: r for r in table_rows(path, "t_grade")[1:]}
    ((rep, rec, grade, rgrade),) = built.query(
        "select reported_score, recomputed_score, grade, reported_grade "
        "from marts.mart_project_year where project_key = 'XF-2023-01'"
    )
    g = grades["政务服务建设推广"]
    assert (as_dec(g[1]), as_dec(g[2]), g[4], g[5]) == (rep, rec, rgrade, grade)
    wb = load_workbook(path)
    ws = wb["评价等级"]
    hit = next(c for row in ws.iter_rows() for c in row if c.value == "政务服务建设推广")
    assert ws.cell(hit.row, hit.column + 3).fill.fgColor.rgb.endswith("FFF2A8")
    flags = table_rows(path, "t_flags")[1:]
    expected = built.query(
        "select flag_code from marts.mart_review_flags f join marts.mart_project_year p "
        "using (project_key, fiscal_year) where p.department_name = ? order by 1",
        [XF_DEPT],
    )
    assert sorted(r[1] for r in flags) == [e[0] for e in expected]
    summary = {r[0]: r for r in table_rows(path, "t_indicator_summary")[1:]}
    assert [as_dec(v) for v in summary["政务服务建设推广"][1:4]] == [2, 0, 2]


def test_category_and_spending_tables_from_marts(built: Built) -> None:
    path = built.one("departments", JM_DEPT, ".xlsx")
    cats = table_rows(path, "t_categories")
    mart = built.query(
        "select category, project_count, amount_yuan, share from marts.mart_category_year "
        "where parent_project_key = 'JM-2023-01' order by amount_yuan desc"
    )
    assert [(r[1], r[2], as_dec(r[3]), as_dec(r[4])) for r in cats[1:-1]] == mart
    assert cats[-1][1] == "合计"
    assert cats[-1][2] == 265  # seed 000: 38+31+20+37+55+84 projects
    assert as_dec(cats[-1][3]) == Decimal("504189800.00")  # seed 000: 50418.98 万元 paid
    spend = table_rows(path, "t_spending")[1:]
    mart_b = built.query(
        "select bucket_label, project_count from marts.mart_spending_rate_distribution "
        "order by sort_order"
    )
    assert [(r[1], r[2]) for r in spend] == mart_b
    page = html_rows(built.one("departments", JM_DEPT, ".html"), "categories")
    assert [t for _, t in page[0]][1:] == ["政府协同和部门管理", "84", "167,798,700.00", "33.28%"]


def test_monthly_execution_table_and_charts(built: Built) -> None:
    path = built.one("departments", JM_DEPT, ".html")
    rows = html_rows(path, "monthly")
    assert len(rows) == 12
    ((cum, sched),) = built.query(
        "select cumulative_spent_yuan, time_schedule_rate from marts.mart_execution_monthly "
        "where project_key = 'JM-2023-01' and month = 6"
    )
    assert (Decimal(rows[5][1][0]), Decimal(rows[5][3][0])) == (cum, sched)
    text = path.read_text(encoding="utf-8")
    for key in ("execution_monthly", "grade_distribution", "category_shares"):
        assert f'data-chart="{key}"' in text
    assert text.count("<svg") == 3
    wb = load_workbook(built.one("departments", JM_DEPT, ".xlsx"))
    assert len(wb["图表"]._images) == 3


def test_region_report_covers_region_projects(built: Built) -> None:
    path = built.one("regions", "新丰县", ".xlsx")
    ((count, final, spent),) = built.query(
        "select project_count, final_budget_yuan, spent_yuan from marts.mart_region_year "
        "where county = '新丰县'"
    )
    basic = table_rows(path, "t_basic")[1]
    assert [as_dec(v) for v in basic] == [count, final, spent, as_dec(basic[3])]
    names = {r[0] for r in table_rows(path, "t_budget")[1:-1]}
    assert "政务服务建设推广" in names and "政务外网运维" not in names
    page = parse_html(built.one("regions", "新丰县", ".html"))
    assert page.title.startswith("广东省韶关市新丰县")


def test_single_department_run(tmp_path: Path) -> None:
    db = make_marts(tmp_path / "jixiao.duckdb")
    settings = get_settings(tmp_path / "home").ensure()
    paths = build_reports(settings, 2023, department=XF_DEPT, source=db)
    assert sorted(p.parent.name for p in paths) == [
        "departments",
        "departments",
        "projects",
        "projects",
    ]
    with pytest.raises(ReportDataError, match=r"找不到部门.*not found"):
        build_reports(settings, 2023, department="不存在的部门", source=db)


def test_missing_year_and_missing_table_are_explained(tmp_path: Path) -> None:
    db = make_marts(tmp_path / "jixiao.duckdb")
    settings = get_settings(tmp_path / "home").ensure()
    with pytest.raises(ReportDataError, match=r"没有 2031 年度.*no projects for 2031"):
        build_reports(settings, 2031, source=db)
    broken = tmp_path / "broken" / "jixiao.duckdb"
    broken.parent.mkdir()
    shutil.copy(db, broken)
    con = duckdb.connect(str(broken))
    con.execute("drop table marts.mart_review_flags")
    con.close()
    with pytest.raises(ReportDataError, match="mart_review_flags"):
        build_reports(settings, 2023, source=broken)


def test_default_source_prefers_published(tmp_path: Path) -> None:
    settings = get_settings(tmp_path / "home").ensure()
    make_marts(settings.warehouse)
    con = duckdb.connect(str(settings.published))  # published marts exist but are empty
    con.execute(DDL)
    con.close()
    with pytest.raises(ReportDataError, match="no projects for 2023"):
        build_reports(settings, 2023)
    settings.published.unlink()
    assert build_reports(settings, 2023, department=XF_DEPT)


def test_sub_projects_are_not_counted_as_department_projects(built: Built) -> None:
    path = built.one("departments", JM_DEPT, ".xlsx")
    names = [r[0] for r in table_rows(path, "t_budget")[1:-1]]
    assert "子项目：政务云扩容" not in names and len(names) == 2
    ((count,),) = built.query(
        "select project_count from marts.mart_department_year where department_name = ?", [JM_DEPT]
    )
    assert len(names) == count
    page = built.one("departments", JM_DEPT, ".html").read_text(encoding="utf-8")
    assert "下设子项目 1 个" in page
    assert built.one("projects", "政务云扩容", ".xlsx").is_file()
