"""The figures the documents state (issue 18) in the yearly reports, reconciled with their marts.

评价期间的报告支付率与重算支付率、产出完成情况及其来源、项目验收情况、所用发布批次：报告中的每个数字
都与对应集市一致。Workbook amounts are 万元 (the mart's yuan / 10000, exact).
"""

from __future__ import annotations

from decimal import Decimal

from openpyxl import load_workbook
from tests.integration.reports.report_helpers import Built, as_dec, table_rows
from tests.integration.reports.report_marts_fixture import JM_DEPT, PUBLISH_RUN, XF_DEPT
from tests.integration.reports.test_yearly_reports import body_text, yuan

from jixiao.reports.content import narrative


def test_evaluation_periods_show_the_stated_rate_beside_the_recomputed(built: Built) -> None:
    path = built.one("departments", JM_DEPT, ".xlsx")
    header, *rows = table_rows(path, "t_periods")
    assert header[:2] == ["项目名称", "评价期间"]
    mart = built.query(
        "select period_start_year, period_end_year, final_yuan, spent_yuan, reported_rate, "
        "recomputed_rate, rate_difference_pct, reported_rate_file_name, "
        "reported_rate_sheet_name, reported_rate_row_number "
        "from marts.mart_evaluation_periods where project_key = 'JM-2023-01' "
        "and period_start_year <= 2023 and 2023 <= period_end_year order by period_start_year"
    )
    assert len(rows) == len(mart) == 1  # the 2019-2020 period does not cover 2023
    got = [
        (r[1], yuan(r[2]), yuan(r[3]), as_dec(r[4]), as_dec(r[5]), as_dec(r[6]), r[7]) for r in rows
    ]
    assert got == [
        (f"{a}-{b}", final, spent, rep, rec, diff, f"{file}「{sheet}」第{row}行")
        for a, b, final, spent, rep, rec, diff, file, sheet, row in mart
    ]
    assert got[0][3:6] == (Decimal("0.9761"), Decimal("0.9886"), Decimal("-1.25"))  # seed 000
    text = body_text(built.one("departments", JM_DEPT, ".html"))
    assert "2021-2023年评价期间报告支付率97.61%" in text and "重算为98.86%" in text, text
    # Xinfeng's only period is its one year without a stated rate: no table, no sentence
    assert built.query(
        "select count(*) from marts.mart_evaluation_periods where project_key = 'XF-2023-01'"
    ) == [(1,)]
    xf = built.one("departments", XF_DEPT, ".xlsx")
    assert "t_periods" not in load_workbook(xf).defined_names
    assert "评价期间报告支付率" not in body_text(built.one("departments", XF_DEPT, ".html"))


def test_output_completion_grade_names_its_source(built: Built) -> None:
    header, *rows = table_rows(built.one("departments", XF_DEPT, ".xlsx"), "t_grade")
    col = header.index("产出完成情况")
    names = dict(built.query("select project_key, project_name from marts.mart_project_year"))
    by_name = {r[0]: r[col] for r in rows}
    ((grade, source),) = built.query(
        "select completion_grade_zh, score_source from marts.mart_output_completion "
        "where project_key = 'XF-2023-01' and fiscal_year = 2023 and is_preferred"
    )
    ((label,),) = built.query(
        "select label_zh from marts.mart_report_labels "
        "where code_type = 'evaluation_type' and code = ?",
        [source],
    )
    assert by_name[names["XF-2023-01"]] == f"{grade}（{label}）" == "部分完成（第三方评价）"
    # a project without a row there keeps the project-year mart's grade
    ((other, other_grade),) = built.query(
        "select project_key, output_completion_grade from marts.mart_project_year "
        "where project_key = 'XF-2023-03'"
    )
    assert by_name[names[other]] == other_grade


def test_acceptance_counts_per_department_reconcile_with_the_mart(built: Built) -> None:
    header, *rows = table_rows(built.one("departments", JM_DEPT, ".xlsx"), "t_acceptance")
    assert header == ["年度", "阶段", "计划数（个）", "完成数（个）", "完成比例", "状态"]
    mart = built.query(
        "select fiscal_year, stage, planned_count, reached_count, reached_share, status_zh "
        "from marts.mart_acceptance_stages where grouping_level = 'department' "
        "and department_name = ? and (fiscal_year = 2023 or fiscal_year is null) "
        "order by fiscal_year nulls last, stage_order",
        [JM_DEPT],
    )
    assert [(r[0], r[1], r[2], r[3], as_dec(r[4]), r[5]) for r in rows] == [
        ("全部年度" if y is None else f"{y}年", st, p, n, share, status)
        for y, st, p, n, share, status in mart
    ]
    text = body_text(built.one("departments", JM_DEPT, ".html"))
    sentence = narrative()["work"]["acceptance"].format(reached=201, planned=265, share="75.85%")
    assert sentence in text  # seed 000: 201 of 265 已终验
    # no acceptance rows for Xinfeng: no table
    xf = built.one("departments", XF_DEPT, ".xlsx")
    assert "t_acceptance" not in load_workbook(xf).defined_names


def test_the_report_names_the_publish_it_read(built: Built) -> None:
    ((latest,),) = built.query(
        "select publish_run_id from marts._published_scores order by published_at desc limit 1"
    )
    assert latest == PUBLISH_RUN
    for dept in (JM_DEPT, XF_DEPT):
        text = body_text(built.one("departments", dept, ".html"))
        assert f"发布批次 {PUBLISH_RUN}" in text and "2024-04-02 02:10:00" in text
