"""The sub-project spending table reader (子项目资金支出情况表, seed 001): mapping and checks.

Seed 001's published figures are copied here: 75 sub-projects, 立项批复 total 122071.99 万元,
spending 79420.32 万元, and the spending-rate buckets 80-90%: 30, 60-80%: 8, below 60%: 35
(plus the 2 暂未下达资金 sub-projects the report counts with them), 100% and 90-100%: 0.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal as D
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import Workbook

from jixiao.ingest import layouts as _layouts
from jixiao.ingest.errors import FileRejected
from jixiao.ingest.layouts import evaluation_form, ledger, scoring, selfeval, subprojects
from jixiao.ingest.layouts.common import Extracted
from jixiao.ingest.values import compact
from jixiao.ingest.workbook import Sheet, cell_ref, read_workbook
from jixiao.samples import demo, seed001, seed002
from jixiao.samples.forms import write_scoring_table, write_selfeval_form
from jixiao.samples.ledger import LedgerSheet, write_ledger
from jixiao.samples.seed001 import SubprojectRow, SubprojectTable, write_subproject_table

DEPT = "东莞市政务服务数据管理局"
NAME = "2019-2021年度东莞市数字政府建设项目"
PARENT = f"{DEPT}/{NAME}"
WAN = D(10000)
APPROVED_WAN = D("122071.99")
SPENT_WAN = D("79420.32")
BUCKETS = {"rate_80_90": 30, "rate_60_80": 8, "rate_below_60": 35, "no_funds": 2}
CONTEXT: dict[str, Any] = {"departments": {}, "names": {}}


# ------------------------------------------------------------------ helpers
@cache
def raw_columns() -> dict[str, frozenset[str]]:
    """Columns of every raw table, from the project's own raw_schema.sql (in DuckDB)."""
    sql = (Path(_layouts.__file__).parent.parent / "raw_schema.sql").read_text("utf-8")
    con = duckdb.connect()
    con.execute(sql)
    out: dict[str, set[str]] = {}
    query = (
        "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
    )
    for table, column in con.execute(query).fetchall():
        out.setdefault(table, set()).add(column)
    return {t: frozenset(c) for t, c in out.items()}


def check_rows(out: Extracted) -> None:
    """Every row has exactly its raw table's columns, a sheet, an Excel row, a submission."""
    cols = raw_columns()
    lineage = {"file_hash", "file_name", "loaded_at", "submission_id"}
    for table, rows in out.tables.items():
        for row in rows:
            keys = set(row) - {"_submission"}
            assert cols[table] - lineage == keys, (table, keys ^ (cols[table] - lineage))
            assert row["sheet_name"] and row["row_number"] >= 1
            assert "_submission" in row
            assert row["_submission"] is None or 0 <= row["_submission"] < len(out.submissions)


def find(sheet: Sheet, text: str) -> tuple[int, int]:
    """0-based (row, col) of the first cell whose compact text equals ``text``."""
    return next(
        (r, c)
        for r, row in enumerate(sheet.rows)
        for c, v in enumerate(row)
        if isinstance(v, str) and compact(v) == compact(text)
    )


def table_sheet(tmp_path: Path, table: SubprojectTable | None = None) -> Sheet:
    path = write_subproject_table(
        tmp_path / "子项目.xlsx", [("子项目", table or SubprojectTable())]
    )
    return read_workbook(path).sheets[0]


def read(sheet: Sheet) -> Extracted:
    out = Extracted()
    subprojects.read_sheet(sheet, "子项目.xlsx", out, CONTEXT)
    check_rows(out)
    return out


def figures(out: Extracted) -> dict[str, dict[str, D]]:
    """project key -> {final, allocated, spent} in yuan (what the warehouse will sum)."""
    got: dict[str, dict[str, D]] = {}
    for r in out.tables.get("budget_lines", []):
        got.setdefault(r["project_key"], {})[r["line_type"]] = r["amount_yuan"]
    for r in out.tables.get("payments", []):
        got.setdefault(r["project_key"], {})["spent"] = r["amount_yuan"]
    return got


def buckets(out: Extracted) -> Counter[str]:
    """The rule of dbt's int_subproject_spending_bucketed (whole period), restated in Python:
    funds = allocated, else final; 'no_funds' when funds are 0 (or absent with no spending);
    rate = spent / funds against seeds/spending_rate_buckets.csv (lower bound inclusive)."""
    fig = figures(out)
    count: Counter[str] = Counter()
    for p in out.tables["projects"]:
        if p["parent_project_key"] is None:
            continue
        f = fig.get(p["project_key"], {})
        funds = f.get("allocated", f.get("final"))
        spent = f.get("spent", D(0))
        if funds == 0 or (funds is None and spent == 0):
            count["no_funds"] += 1
            continue
        assert funds is not None
        rate = spent / funds
        for code, low in (
            ("rate_100", 1),
            ("rate_90_100", D("0.9")),
            ("rate_80_90", D("0.8")),
            ("rate_60_80", D("0.6")),
            ("rate_below_60", 0),
        ):
            if rate >= low:
                count[code] += 1
                break
    return count


def rejections(out: Extracted) -> list[tuple[str | None, str]]:
    return [(r.cell, r.reason_code) for r in out.rejections]


# ------------------------------------------------------------------ seed 001 as published
def test_seed001_table_maps_onto_projects_budget_lines_and_payments(tmp_path: Path) -> None:
    path = seed001.write_seed001(tmp_path / "东莞_第三方评价.xlsx")
    sheet = read_workbook(path).sheets[1]
    out = read(sheet)
    assert out.rejections == []
    parent, *subs = out.tables["projects"]
    assert (parent["project_key"], parent["parent_project_key"]) == (PARENT, None)
    assert parent["_submission"] is None  # never supersedes the evaluation form's rows
    assert len(subs) == 75
    assert {s["parent_project_key"] for s in subs} == {PARENT}
    assert len({s["project_key"] for s in subs}) == 75
    assert all(s["project_key"] == f"{PARENT}/{s['project_name']}" for s in subs)
    assert {(s["period_start_year"], s["period_end_year"]) for s in subs} == {(2019, 2021)}
    assert all(s["implementing_unit"] for s in subs)
    lines = out.tables["budget_lines"]
    assert {(r["fiscal_year"], r["fund_source"], r["line_date"]) for r in lines} == {
        (2021, "total", None)
    }
    final = sum(r["amount_yuan"] for r in lines if r["line_type"] == "final")
    assert final == APPROVED_WAN * WAN
    assert Counter(r["line_type"] for r in lines) == {"final": 73, "allocated": 75}
    payments = out.tables["payments"]
    assert len(payments) == 75
    assert {(r["fiscal_year"], r["payment_date"]) for r in payments} == {(2021, None)}
    assert sum(r["amount_yuan"] for r in payments) == SPENT_WAN * WAN
    assert {r["original_unit"] for r in lines + payments} == {"万元"}
    assert buckets(out) == BUCKETS
    # one submission per sub-project, for the last year of the period
    assert len(out.submissions) == 75
    assert {s["fiscal_year"] for s in out.submissions} == {2021}
    first = subs[0]
    assert first["row_number"] == find(sheet, first["project_name"])[0] + 1


def test_the_demo_ledger_and_the_table_give_the_same_buckets(tmp_path: Path) -> None:
    """The same sub-projects as the demo's Dongguan ledger, in the same buckets."""
    rows = seed001.seed001_subprojects()
    ledger_subs = demo.dongguan_subprojects()
    assert [r.name for r in rows] == [s.name for s in ledger_subs]
    for row, sub in zip(rows, ledger_subs, strict=True):
        if sub.budget_wan is None:
            assert (row.allocated_wan, row.spent_wan) == (D(0), D(0))
            continue
        assert row.rate is not None
        assert abs(row.rate - sub.amount_yuan / (sub.budget_wan * WAN)) < D("0.0001")


# ------------------------------------------------------------------ layout variants
def _yuan_rows() -> list[SubprojectRow]:
    return seed001.seed001_subprojects()[:12]


VARIANTS: dict[str, SubprojectTable] = {
    "元 in the headers, columns reordered, labels in one cell, no title": SubprojectTable(
        rows=_yuan_rows(),
        title=None,
        inline_labels=True,
        unit="元",
        unit_in="header",
        columns=(
            ("name", "项目名称"),
            ("spent", "实际支出"),
            ("rate", "支出率"),
            ("approved", "批复金额"),
            ("seq", "序号"),
            ("allocated", "下达资金"),
            ("unit", "实施单位"),
        ),
        blank_row_after=3,
    ),
    "万元 in the headers, tidy numbers, no notes": SubprojectTable(
        rows=_yuan_rows(), unit_in="header", messy=False, notes=[], blank_row_after=None
    ),
}


def test_variants_load_the_same_yuan(tmp_path: Path) -> None:
    reference = figures(read(table_sheet(tmp_path, SubprojectTable(rows=_yuan_rows()))))
    assert len(reference) == 12
    for label, table in VARIANTS.items():
        sheet = table_sheet(tmp_path, table)
        ev = subprojects.detect(sheet)
        assert ev is not None and ev.score >= 0.4, (label, ev)
        out = read(sheet)
        assert out.rejections == [], label
        assert figures(out) == reference, label
    yuan = read(table_sheet(tmp_path, VARIANTS[next(iter(VARIANTS))]))
    assert {r["original_unit"] for r in yuan.tables["payments"]} == {"元"}


def test_a_code_column_keys_the_sub_projects(tmp_path: Path) -> None:
    columns = (("code", "子项目编码"), *SubprojectTable().columns)
    rows = [
        ["子项目资金支出情况表"],
        ["项目编码", "DG-SZZF"],
        ["项目名称", NAME],
        ["评价期间", "2019-2021"],
        ["金额单位：万元"],
        [text for _k, text in columns],
        ["DG-SZZF-001", 1, "智慧城管", "市城管局", "1,000.00", "1000", "850", "85%"],
        ["DG-SZZF-002", 2, "智慧人社", "市人社局", 500, 0, 0, "—"],
    ]
    out = read(_grid(tmp_path, rows))
    assert [p["project_key"] for p in out.tables["projects"]] == [
        "DG-SZZF",
        "DG-SZZF-001",
        "DG-SZZF-002",
    ]
    assert out.tables["projects"][0]["department_name"] == "未登记部门"
    assert figures(out)["DG-SZZF-001"] == {
        "final": D("10000000.00"),
        "allocated": D("10000000.00"),
        "spent": D("8500000.00"),
    }
    assert buckets(out) == {"rate_80_90": 1, "no_funds": 1}
    assert out.rejections == []


def test_blank_allocation_falls_back_to_the_approved_amount(tmp_path: Path) -> None:
    rows = [
        ["主管部门", DEPT],
        ["项目名称", NAME],
        ["评价期间", "2019-2021年度"],
        ["序号", "子项目名称", "立项批复（万元）", "累计下达（万元）", "累计支出（万元）"],
        [1, "智慧城管", 100, None, 0],
        [2, "智慧人社", 100, "—", 65],
    ]
    out = read(_grid(tmp_path, rows))
    assert [set(v) for v in figures(out).values()] == [{"final", "spent"}] * 2
    assert buckets(out) == {"rate_below_60": 1, "rate_60_80": 1}


# ------------------------------------------------------------------ checks and rejections
def test_a_spending_rate_that_disagrees_is_rejected_but_the_amounts_load(tmp_path: Path) -> None:
    table = SubprojectTable(cell_overrides={(3, "rate"): "99.00%"})
    sheet = table_sheet(tmp_path, table)
    out = read(sheet)
    name = table.rows[2].name
    r, _ = find(sheet, name)
    assert rejections(out) == [(cell_ref(r, find(sheet, "支出率")[1]), "reported_mismatch")]
    assert "99.00%" in out.rejections[0].message_zh
    assert len(figures(out)) == 75
    assert buckets(out) == BUCKETS


def test_a_total_that_is_not_the_sum_is_rejected_naming_the_cell(tmp_path: Path) -> None:
    table = SubprojectTable(total_overrides={"spent": D("79420.33"), "rate": None})
    sheet = table_sheet(tmp_path, table)
    out = read(sheet)
    total_row = find(sheet, "合计")[0]
    assert rejections(out) == [
        (cell_ref(total_row, find(sheet, "累计支出金额")[1]), "reported_mismatch")
    ]
    assert "79420.32" in out.rejections[0].expected
    assert all(p["project_name"] != "合计" for p in out.tables["projects"])
    assert all(r["row_number"] != total_row + 1 for r in out.tables["payments"])


def test_an_unparseable_amount_rejects_its_row_only(tmp_path: Path) -> None:
    table = SubprojectTable(cell_overrides={(5, "allocated"): "待定"})
    sheet = table_sheet(tmp_path, table)
    out = read(sheet)
    r, _ = find(sheet, table.rows[4].name)
    # the row is rejected whole; the 合计 of 累计下达 is not compared with an incomplete sum
    assert rejections(out) == [(cell_ref(r, find(sheet, "累计下达金额")[1]), "unparseable_value")]
    assert len(out.tables["projects"]) == 1 + 74


def test_a_blank_name_with_amounts_is_rejected(tmp_path: Path) -> None:
    table = SubprojectTable(rows=_yuan_rows(), cell_overrides={(2, "name"): None})
    sheet = table_sheet(tmp_path, table)
    out = read(sheet)
    assert [c for _cell, c in rejections(out)] == ["missing_value"]
    assert len(out.tables["projects"]) == 1 + 11


def test_missing_unit_and_missing_parent_reject_the_file(tmp_path: Path) -> None:
    header = ["序号", "子项目名称", "立项批复", "累计下达", "累计支出"]
    no_unit = [["项目名称", NAME], ["主管部门", DEPT], ["评价期间", "2019-2021"], header]
    with pytest.raises(FileRejected) as exc:
        read(_grid(tmp_path, [*no_unit, [1, "a", 1, 1, 1]]))
    assert exc.value.reason_code == "missing_unit"
    no_parent = [["主管部门", DEPT], ["评价期间", "2019-2021"], ["金额单位：元"], header]
    with pytest.raises(FileRejected) as exc:
        read(_grid(tmp_path, [*no_parent, [1, "a", 1, 1, 1]]))
    assert exc.value.reason_code == "missing_required_field"
    bad_unit = [*no_unit[:3], ["序号", "子项目名称", "立项批复（美元）", "累计下达", "累计支出"]]
    with pytest.raises(FileRejected) as exc:
        read(_grid(tmp_path, [*bad_unit, [1, "a", 1, 1, 1]]))
    assert exc.value.reason_code == "unknown_unit"


def _grid(tmp_path: Path, rows: list[list[Any]]) -> Sheet:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    path = tmp_path / f"grid{len(list(tmp_path.iterdir()))}.xlsx"
    wb.save(path)
    return read_workbook(path).sheets[0]


# ------------------------------------------------------------------ detection
def test_detect_is_none_on_the_other_layouts_sheets(tmp_path: Path) -> None:
    wbs = [
        write_selfeval_form(tmp_path / "a.xlsx", [demo.yichun_2022(), *demo.xinfeng_2023()]),
        write_scoring_table(tmp_path / "c.xlsx", [seed002.jiangmen_2023_scoring_table()]),
        write_ledger(tmp_path / "d.xlsx", demo.dongguan_ledger()),
        write_ledger(tmp_path / "j.xlsx", demo.jiangmen_ledger()),
        write_ledger(
            tmp_path / "e.xlsx",
            [
                LedgerSheet(
                    "payments",
                    [{"project_code": "P1", "year": 2021, "amount": D(1), "payee": "x"}],
                    headers={"amount": "实际支出（元）"},
                )
            ],
        ),
    ]
    sheets = [s for p in wbs for s in read_workbook(p).sheets]
    assert len(sheets) >= 12
    for sheet in sheets:
        assert subprojects.detect(sheet) is None, sheet.name


def test_other_detectors_do_not_claim_the_table(tmp_path: Path) -> None:
    path = seed001.write_seed001(tmp_path / "东莞.xlsx")
    _form, table = read_workbook(path).sheets
    mine = subprojects.detect(table)
    assert mine is not None and mine.score >= 0.8
    assert selfeval._indicator_header(table) is None
    assert scoring._table_header(table) is None
    assert evaluation_form.detect(table) is None
    # ledger sees a projects header (子项目名称, 建设单位) without 主管部门: weak, far behind
    for other in (ledger, selfeval, scoring):
        ev = other.detect(table)
        assert ev is None or (ev.score < 0.3 and ev.score + 0.5 < mine.score), (other, ev)
