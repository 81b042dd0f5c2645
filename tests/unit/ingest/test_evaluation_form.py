"""The evaluation result form reader (评价结果表, seed 001): figures, variants, rejections.

Seed 001's published figures are copied here (the tests never read the source document):
决策 14.00/20, 过程 15.92/20, 产出 23.88/30, 效益 23.40/30, 合计 77.20/100, grade 中,
受委托单位 广东三胜管理顾问有限公司, 2019-2021, 资金支出率 98.42%, and the milestones
启动 100/96, 可研 27/25, 初步设计 48/44, 立项 75/69, 入场实施 66/59, 初验 40/40, 终验 24/23.
"""

from __future__ import annotations

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
from jixiao.samples.seed001 import EvaluationForm, write_evaluation_form

DEPT = "东莞市政务服务数据管理局"
NAME = "2019-2021年度东莞市数字政府建设项目"
KEY = f"{DEPT}/{NAME}"
SCORES = [
    ("决策", D(20), D("14.00")),
    ("过程", D(20), D("15.92")),
    ("产出", D(30), D("23.88")),
    ("效益", D(30), D("23.40")),
    (None, D(100), D("77.20")),
]
MILESTONES = [
    ("启动", 100, 96),
    ("可研", 27, 25),
    ("初步设计", 48, 44),
    ("立项", 75, 69),
    ("入场实施", 66, 59),
    ("初验", 40, 40),
    ("终验", 24, 23),
]
CONTEXT: dict[str, Any] = {"departments": {}, "names": {}}


# ------------------------------------------------------------------ helpers
@cache
def raw_columns() -> dict[str, frozenset[str]]:
    """Columns of every raw table, from the project's own raw_schema.sql (in DuckDB)."""
    sql = (Path(_layouts.__file__).parent.parent / "raw_schema.sql").read_text("utf-8")
    con = duckdb.connect()
    con.execute(sql)
    out: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'raw'"
    ).fetchall():
        out.setdefault(table, set()).add(column)
    return {t: frozenset(c) for t, c in out.items()}


LINEAGE = {"file_hash", "file_name", "loaded_at", "submission_id"}


def check_rows(out: Extracted) -> None:
    """Every row has exactly its raw table's columns, a sheet, an Excel row, a submission."""
    cols = raw_columns()
    for table, rows in out.tables.items():
        for row in rows:
            keys = set(row) - {"_submission"}
            assert keys <= cols[table], (table, keys - cols[table])
            assert cols[table] - LINEAGE == keys, (table, cols[table] - LINEAGE - keys)
            assert row["sheet_name"] and row["row_number"] >= 1
            assert "_submission" in row
            assert row["_submission"] is None or 0 <= row["_submission"] < len(out.submissions)


def find(sheet: Sheet, text: str, nth: int = 0) -> tuple[int, int]:
    """0-based (row, col) of the nth cell whose compact text equals ``text``."""
    hits = [
        (r, c)
        for r, row in enumerate(sheet.rows)
        for c, v in enumerate(row)
        if isinstance(v, str) and compact(v) == compact(text)
    ]
    return hits[nth]


def ref(sheet: Sheet, row_text: str, col_text: str) -> str:
    """The cell on the row of ``row_text`` in the column of the header ``col_text``."""
    return cell_ref(find(sheet, row_text)[0], find(sheet, col_text)[1])


def form_sheet(tmp_path: Path, form: EvaluationForm | None = None) -> Sheet:
    path = write_evaluation_form(
        tmp_path / "评价结果.xlsx", [("评价结果", form or EvaluationForm())]
    )
    return read_workbook(path).sheets[0]


def read(sheet: Sheet, context: dict[str, Any] | None = None) -> Extracted:
    out = Extracted()
    evaluation_form.read_sheet(sheet, "评价结果.xlsx", out, context or CONTEXT)
    check_rows(out)
    return out


def scores(out: Extracted) -> list[tuple[str | None, D, D]]:
    return [(r["level1_name"], r["max_score"], r["score"]) for r in out.tables["evaluations"]]


def milestones(out: Extracted) -> list[tuple[str, int, int]]:
    return [(r["stage"], r["planned_count"], r["actual_count"]) for r in out.tables["milestones"]]


def rejections(out: Extracted) -> list[tuple[str | None, str]]:
    return [(r.cell, r.reason_code) for r in out.rejections]


# ------------------------------------------------------------------ seed 001 as published
def test_seed001_form_reads_the_published_figures(tmp_path: Path) -> None:
    path = seed001.write_seed001(tmp_path / "东莞_第三方评价.xlsx")
    sheet = read_workbook(path).sheets[0]
    out = read(sheet)
    assert scores(out) == SCORES
    rows = out.tables["evaluations"]
    assert [r["grade"] for r in rows] == [None, None, None, None, "中"]
    assert {r["evaluation_type"] for r in rows} == {"third_party"}
    assert {r["evaluator"] for r in rows} == {"广东三胜管理顾问有限公司"}
    assert {(r["period_start_year"], r["fiscal_year"]) for r in rows} == {(2019, 2021)}
    assert [r["reported_rate"] for r in rows] == [None] * 4 + [D("0.9842")]
    assert {r["project_key"] for r in rows} == {KEY}
    assert milestones(out) == MILESTONES
    assert {r["fiscal_year"] for r in out.tables["milestones"]} == {2021}
    assert out.rejections == []
    (project,) = out.tables["projects"]
    assert (project["project_name"], project["department_name"]) == (NAME, DEPT)
    assert (project["period_start_year"], project["period_end_year"]) == (2019, 2021)
    assert out.submissions == [
        {
            "sheet_name": "绩效评价结果",
            "layout": "evaluation_form",
            "department_name": DEPT,
            "project_key": KEY,
            "project_name": NAME,
            "fiscal_year": 2021,
        }
    ]
    # every data row points at the Excel row it came from
    assert rows[0]["row_number"] == find(sheet, "决策")[0] + 1
    assert rows[-1]["row_number"] == find(sheet, "合计")[0] + 1
    assert out.tables["milestones"][-1]["row_number"] == find(sheet, "终验")[0] + 1


# ------------------------------------------------------------------ layout variants
VARIANTS: dict[str, EvaluationForm] = {
    "labels in one cell, no title, columns reordered, 得分率 as percent format, 等级 column": (
        EvaluationForm(
            title=None,
            inline_labels=True,
            labels={
                "project_name": "项目名称",
                "department": "预算部门",
                "evaluator": "评价机构",
                "report_no": "报告编号",
                "period": "评价期间",
                "evaluation_type": "评价方式",
                "spending_rate": "支出率",
            },
            evaluation_type="财政评价",
            score_columns=(
                ("score", "得分"),
                ("level1", "评价指标"),
                ("rate", "得分率"),
                ("max", "权重"),
            ),
            rate_style="percent",
            grade_in="column",
            milestone_columns=("项目阶段", "计划完成数", "实际完成数", "如期完成率"),
        )
    ),
    "得分率 as a number, grade in a sentence, another title, 总分 row": EvaluationForm(
        title="2019-2021年度东莞市数字政府建设项目绩效评价结果",
        rate_style="number",
        grade_in="sentence",
        total_label="总分",
        score_columns=(
            ("level1", "一级指标"),
            ("max", "满分"),
            ("score", "评价得分"),
            ("rate", "得分率"),
        ),
    ),
    "no 得分率, scores typed as full-width text, period 2019—2021年": EvaluationForm(
        rate_style="none",
        period="2019—2021年",
        scores=[
            ("决策", "２０", "１４．００"),
            ("过程", 20, "15.92"),
            ("产出", 30, D("23.88")),
            ("效益", 30, D("23.40")),
        ],
        total_score="７７．２０",
        blank_row_in_table=False,
    ),
}


@pytest.mark.parametrize("form", VARIANTS.values(), ids=VARIANTS.keys())
def test_layout_variants_give_the_same_rows(tmp_path: Path, form: EvaluationForm) -> None:
    sheet = form_sheet(tmp_path, form)
    ev = evaluation_form.detect(sheet)
    assert ev is not None and ev.score >= 0.8, ev
    out = read(sheet)
    assert scores(out) == SCORES
    total = out.tables["evaluations"][-1]
    assert (total["grade"], total["evaluation_type"]) == ("中", "third_party")
    assert (total["period_start_year"], total["fiscal_year"]) == (2019, 2021)
    assert milestones(out) == MILESTONES
    assert out.rejections == []


def test_project_code_department_evaluation_and_evaluator_label(tmp_path: Path) -> None:
    form = EvaluationForm(
        project_code="DG-SZZF",
        evaluation_type="部门评价",
        labels={
            "project_name": "项目名称",
            "department": "项目单位",
            "evaluator": "评价单位",
            "period": "评价期间",
            "evaluation_type": "评价类型",
        },
        evaluator="东莞市政务服务数据管理局",
        milestones=None,
    )
    out = read(form_sheet(tmp_path, form))
    assert {r["project_key"] for r in out.tables["evaluations"]} == {"DG-SZZF"}
    assert {r["evaluation_type"] for r in out.tables["evaluations"]} == {"department"}
    assert out.tables["projects"][0]["project_code"] == "DG-SZZF"
    assert out.tables["evaluations"][-1]["reported_rate"] is None  # no 支出率 label
    assert "milestones" not in out.tables


def test_commissioned_evaluator_means_third_party_without_a_type_label(tmp_path: Path) -> None:
    labels = dict(EvaluationForm().labels, evaluation_type=None)
    out = read(form_sheet(tmp_path, EvaluationForm(labels=labels, title=None)))
    assert {r["evaluation_type"] for r in out.tables["evaluations"]} == {"third_party"}


def test_period_from_the_project_name_when_there_is_no_period_label(tmp_path: Path) -> None:
    labels = dict(EvaluationForm().labels, period=None)
    out = read(form_sheet(tmp_path, EvaluationForm(labels=labels)))
    assert {(r["period_start_year"], r["fiscal_year"]) for r in out.tables["evaluations"]} == {
        (2019, 2021)
    }


def test_no_period_anywhere_rejects_the_file(tmp_path: Path) -> None:
    labels = dict(EvaluationForm().labels, period=None)
    form = EvaluationForm(labels=labels, project_name="东莞市数字政府建设项目", title=None)
    with pytest.raises(FileRejected) as exc:
        read(form_sheet(tmp_path, form))
    assert exc.value.reason_code == "missing_required_field"
    assert "评价期间" in exc.value.rejection.message_zh


def test_no_department_and_no_code_rejects_the_file(tmp_path: Path) -> None:
    labels = dict(EvaluationForm().labels, department=None)
    with pytest.raises(FileRejected) as exc:
        read(form_sheet(tmp_path, EvaluationForm(labels=labels)))
    assert exc.value.reason_code == "missing_required_field"


# ------------------------------------------------------------------ rejections
def test_a_score_rate_that_disagrees_is_rejected_naming_its_cell(tmp_path: Path) -> None:
    sheet = form_sheet(tmp_path, EvaluationForm(rate_overrides={"决策": "75.00%"}))
    out = read(sheet)
    assert rejections(out) == [(ref(sheet, "决策", "得分率"), "reported_mismatch")]
    assert "70.00%" in out.rejections[0].expected and "75.00%" in out.rejections[0].message_zh
    assert scores(out) == SCORES  # the score itself still loads


def test_a_score_rate_within_half_a_point_is_accepted(tmp_path: Path) -> None:
    out = read(form_sheet(tmp_path, EvaluationForm(rate_overrides={"过程": "80.00%"})))
    assert out.rejections == []  # 15.92/20 = 79.60%: 0.004 away


def test_a_total_that_is_not_the_sum_is_rejected_and_kept(tmp_path: Path) -> None:
    form = EvaluationForm(total_score=D("78.20"), rate_overrides={"合计": "78.20%"})
    sheet = form_sheet(tmp_path, form)
    out = read(sheet)
    assert rejections(out) == [(ref(sheet, "合计", "评价得分"), "reported_mismatch")]
    assert "77.2" in out.rejections[0].expected
    assert scores(out)[-1] == (None, D(100), D("78.20"))
    assert out.tables["evaluations"][-1]["grade"] == "中"


def test_a_score_above_its_weight_is_rejected_and_not_loaded(tmp_path: Path) -> None:
    bad = [("决策", 20, D("24.00"))] + [(n, w, s) for n, w, s in SCORES[1:4]]
    sheet = form_sheet(tmp_path, EvaluationForm(scores=bad, rate_overrides={"决策": "120%"}))
    out = read(sheet)
    assert rejections(out) == [(ref(sheet, "决策", "评价得分"), "reported_mismatch")]
    assert [s[0] for s in scores(out)] == ["过程", "产出", "效益", None]


def test_unparseable_score_and_unknown_grade(tmp_path: Path) -> None:
    bad = [("决策", 20, "十四")] + [(n, w, s) for n, w, s in SCORES[1:4]]
    form = EvaluationForm(scores=bad, grade="合格", rate_overrides={"决策": "70.00%"})
    sheet = form_sheet(tmp_path, form)
    out = read(sheet)
    # the 决策 score and the grade; the total is not checked against an incomplete sum
    assert rejections(out) == [
        (ref(sheet, "决策", "评价得分"), "unparseable_value"),
        (ref(sheet, "评价等级", "合格"), "unknown_code"),
    ]
    assert out.tables["evaluations"][-1]["grade"] is None
    assert [s[0] for s in scores(out)] == ["过程", "产出", "效益", None]


def test_unknown_evaluation_type_rejects_every_score_row(tmp_path: Path) -> None:
    sheet = form_sheet(tmp_path, EvaluationForm(evaluation_type="随机抽查"))
    out = read(sheet)
    assert "evaluations" not in out.tables
    assert [c for _cell, c in rejections(out)] == ["unknown_code"] * 5
    assert "随机抽查" in out.rejections[0].message_zh
    assert milestones(out) == MILESTONES  # milestones need no type


def test_milestone_rate_mismatch_and_unknown_stage(tmp_path: Path) -> None:
    rows = [("启动阶段", 100, 96)] + [(s, p, a) for s, p, a in MILESTONES[1:6]] + [("验收", 24, 23)]
    form = EvaluationForm(milestones=rows, milestone_rate_overrides={"可研": "95.00%"})
    sheet = form_sheet(tmp_path, form)
    out = read(sheet)
    assert milestones(out) == MILESTONES[:6]  # 启动阶段 -> 启动; 可研 still loads
    assert rejections(out) == [
        (ref(sheet, "可研", "如期完成率"), "reported_mismatch"),
        (ref(sheet, "验收", "阶段"), "unknown_code"),
    ]


# ------------------------------------------------------------------ detection
def _other_layout_sheets(tmp_path: Path) -> dict[str, Sheet]:
    wbs = {
        "selfeval": write_selfeval_form(tmp_path / "a.xlsx", [demo.yichun_2022()]),
        "selfeval_yuan": write_selfeval_form(tmp_path / "b.xlsx", demo.xinfeng_2023()[:1]),
        "scoring": write_scoring_table(
            tmp_path / "c.xlsx", [seed002.jiangmen_2023_scoring_table()]
        ),
        "dongguan_ledger": write_ledger(tmp_path / "d.xlsx", demo.dongguan_ledger()),
    }
    sheets = {f"{k}:{s.name}": s for k, p in wbs.items() for s in read_workbook(p).sheets}
    payments = [
        {"project_code": "P1", "year": 2021, "payment_date": "2021-05-01", "amount": D("1.00")},
        {"project_code": "P1", "year": 2021, "payment_date": "2021-06-01", "amount": D("2.00")},
    ]
    pay = write_ledger(tmp_path / "e.xlsx", [LedgerSheet("payments", payments)])
    sheets["payments"] = read_workbook(pay).sheets[-1]
    return sheets


def test_detect_is_none_on_the_other_layouts_sheets(tmp_path: Path) -> None:
    sheets = _other_layout_sheets(tmp_path)
    assert {"dongguan_ledger:第三方评价结果", "dongguan_ledger:产出时效"} <= sheets.keys()
    for name, sheet in sheets.items():
        assert evaluation_form.detect(sheet) is None, name


def test_other_detectors_do_not_claim_the_form(tmp_path: Path) -> None:
    path = seed001.write_seed001(tmp_path / "东莞.xlsx")
    form, table = read_workbook(path).sheets
    mine = evaluation_form.detect(form)
    assert mine is not None and mine.score >= 1.0
    assert selfeval._indicator_header(form) is None
    assert scoring._table_header(form) is None
    assert subprojects.detect(form) is None
    assert evaluation_form.detect(table) is None
    # ledger sees an evaluations header lacking 项目编码/评价期间/评价类型: weak, far behind
    for other in (ledger, selfeval, scoring):
        ev = other.detect(form)
        assert ev is None or (ev.score < 0.3 and ev.score + 0.5 < mine.score), (other, ev)


def test_the_score_table_header_alone_is_enough_but_scores_lower(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in (
        ["项目名称", NAME],
        ["主管部门", DEPT],
        ["评价期间", "2021"],
        ["评价类型", "单位自评"],
        [],
        ["指标", "分值", "得分"],
        ["决策", 20, 18],
        ["合计", 20, 18],
        ["注：仅决策指标"],
    ):
        ws.append(row)
    wb.save(tmp_path / "min.xlsx")
    sheet = read_workbook(tmp_path / "min.xlsx").sheets[0]
    ev = evaluation_form.detect(sheet)
    assert ev is not None and 0.3 <= ev.score < 0.8
    out = read(sheet)
    assert scores(out) == [("决策", D(20), D(18)), (None, D(20), D(18))]
    assert {(r["evaluation_type"], r["fiscal_year"]) for r in out.tables["evaluations"]} == {
        ("self", 2021)
    }
