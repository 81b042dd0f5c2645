"""年度总体目标 on the regenerated form comes from marts.fct_project_goals, neutralised."""

from __future__ import annotations

from pathlib import Path

import duckdb
from openpyxl import load_workbook
from tests.integration.reports.report_marts_fixture import make_marts

from jixiao.config import get_settings
from jixiao.reports.yearly import build_reports


def _goal_cells(path: Path) -> dict[str, object]:
    ws = load_workbook(path).active
    assert ws is not None
    return {
        str(ws.cell(row=r, column=1).value): ws.cell(row=r, column=4).value
        for r in range(1, ws.max_row + 1)
        if str(ws.cell(row=r, column=1).value or "").startswith("年度总体目标")
    }


def test_goals_are_written_and_formula_text_is_neutralised(tmp_path: Path) -> None:
    db = make_marts(tmp_path / "jixiao.duckdb")
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "create table marts.fct_project_goals (goal_id varchar, project_key varchar, "
            "fiscal_year integer, expected_goal varchar, actual_outcome varchar, "
            "file_name varchar, sheet_name varchar, row_number integer)"
        )
        con.execute(
            "insert into marts.fct_project_goals values "
            "('g1', 'JM-2023-01', 2023, '持续增强数字政府基础支撑能力', '=HYPERLINK(\"x\")', "
            "'f.xlsx', 's', 9)"
        )
    finally:
        con.close()
    settings = get_settings(tmp_path / "home").ensure()
    files = build_reports(settings, 2023, source=db)
    form = next(p for p in files if "projects" in p.parts and "数字政府" in p.name)
    cells = _goal_cells(form)
    assert cells["年度总体目标：预期目标"] == "持续增强数字政府基础支撑能力"
    outcome = str(cells["年度总体目标：实际完成情况"])
    assert outcome.endswith('=HYPERLINK("x")') and not outcome.startswith("=")
