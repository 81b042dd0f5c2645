"""Small, hand-made warehouse contents for the gate tests (闸门测试数据).

``good_*`` rows satisfy every suite; ``bad_*`` lists add rows that each break one critical
expectation. Facts come from the seed documents (copied here, tests never read ../shared):
seed 002 (Jiangmen 2023 scoring table, 决策 20 / 产出 40 / 效益 40, total 98) and seed 004
(Xinfeng 2023: 99,000 元 budget, 57,790 元 spent).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from tests import contracts

T0 = dt.datetime(2024, 3, 1, 2, 0, 0)
T1 = dt.datetime(2024, 3, 2, 2, 0, 0)
H = "a" * 64
H2 = "b" * 64
SUB = f"{H}:自评表:P1:2023"
SUB_OLD = f"{H2}:自评表:P1:2023"
LINEAGE = {
    "file_hash": H,
    "file_name": "新丰县_2023.xlsx",
    "sheet_name": "自评表",
    "row_number": 5,
    "loaded_at": T1,
    "submission_id": SUB,
}

Rows = dict[str, list[dict[str, Any]]]


def _row(table: str, **changes: Any) -> dict[str, Any]:
    base = dict(RAW_BASE[table])
    base.update(changes)
    return base


RAW_BASE: dict[str, dict[str, Any]] = {
    "load_log": {
        "load_id": "L1",
        "file_hash": H,
        "file_name": "新丰县_2023.xlsx",
        "file_size_bytes": 1000,
        "received_at": T1,
        "loaded_at": T1,
        "status": "loaded",
        "layout": "selfeval_form",
        "rows_read": 20,
        "rows_loaded": 19,
        "rows_rejected": 1,
        "reason_code": None,
        "message_zh": None,
        "message_en": None,
        "quarantine_path": None,
        "sheets_ignored": None,
    },
    "rejected_rows": {
        "load_id": "L1",
        "file_hash": H,
        "file_name": "新丰县_2023.xlsx",
        "sheet_name": "自评表",
        "row_number": 12,
        "cell_ref": "D12",
        "reason_code": "not_a_number",
        "expected": "数字 / a number",
        "message_zh": "不是数字",
        "message_en": "not a number",
        "raw_values": "[]",
        "loaded_at": T1,
    },
    "submissions": {
        "submission_id": SUB,
        "file_hash": H,
        "file_name": "新丰县_2023.xlsx",
        "sheet_name": "自评表",
        "loaded_at": T1,
        "layout": "selfeval_form",
        "department_name": "新丰县政务服务数据管理局",
        "project_key": "P1",
        "project_name": "电子政务运维",
        "fiscal_year": 2023,
    },
    "projects": {
        **LINEAGE,
        "project_key": "P1",
        "project_code": "P1",
        "project_name": "电子政务运维",
        "category": "运维",
        "department_name": "新丰县政务服务数据管理局",
        "implementing_unit": None,
        "province": "广东省",
        "city": "韶关市",
        "county": "新丰县",
        "project_level": None,
        "period_start_year": 2023,
        "period_end_year": 2023,
        "parent_project_key": None,
    },
    "budget_lines": {
        **LINEAGE,
        "project_key": "P1",
        "fiscal_year": 2023,
        "line_type": "initial",
        "fund_source": "total",
        "amount_yuan": D("99000.00"),
        "original_text": "99000",
        "original_unit": "元",
        "line_date": None,
        "reason": None,
    },
    "payments": {
        **LINEAGE,
        "project_key": "P1",
        "fiscal_year": 2023,
        "payment_date": dt.date(2023, 6, 1),
        "amount_yuan": D("57790.00"),
        "original_text": "57790",
        "original_unit": "元",
        "fund_source": None,
        "payee": None,
        "voucher_no": None,
        "summary": None,
        "category": None,
    },
    "indicators": {
        **LINEAGE,
        "project_key": "P1",
        "fiscal_year": 2023,
        "scheme_code": None,
        "level1_name": "产出指标",
        "level1_weight": D("40"),
        "level2_name": "数量指标",
        "level2_weight": None,
        "level3_name": "开放数据集",
        "weight": D("20"),
        "weight_rule_text": None,
        "target_text": "≥1330",
        "target_kind": "quantitative",
        "target_direction": ">=",
        "target_value": D("1330"),
        "target_unit": "个",
        "actual_text": "5453",
        "actual_kind": "quantitative",
        "actual_value": D("5453"),
        "actual_unit": "个",
        "reported_score": D("20"),
        "deviation_reason": None,
        "scoring_rule_text": None,
    },
    "funding_reported": {
        **LINEAGE,
        "project_key": "P1",
        "fiscal_year": 2023,
        "fund_source": "total",
        "initial_budget_yuan": D("99000"),
        "final_budget_yuan": D("99000"),
        "executed_yuan": D("57790"),
        "original_unit": "元",
        "weight": D("10"),
        "reported_rate": D("0.583737"),
        "reported_score": D("10"),
    },
    "evaluations": {
        **LINEAGE,
        "project_key": "P1",
        "fiscal_year": 2023,
        "period_start_year": 2023,
        "evaluation_type": "self",
        "evaluator": None,
        "scheme_code": None,
        "level1_name": None,
        "max_score": D("100"),
        "score": D("100"),
        "grade": "优",
        "reported_rate": None,
    },
    "milestones": {
        **LINEAGE,
        "project_key": "P1",
        "fiscal_year": 2023,
        "stage": "启动",
        "planned_count": 1,
        "actual_count": 1,
    },
}


def good_raw() -> Rows:
    """Raw rows that pass every raw suite: one current submission and its data."""
    rows: Rows = {t: [dict(r)] for t, r in RAW_BASE.items()}
    rows["budget_lines"].append(_row("budget_lines", line_type="final", row_number=6))
    # the group 产出指标 (40) = 20 + 20; a second group with blank weights is skipped
    rows["indicators"].append(
        _row(
            "indicators",
            level3_name="审核时长",
            row_number=7,
            target_direction="<=",
            target_value=D("4"),
        )
    )
    rows["indicators"].append(
        _row(
            "indicators",
            level1_name="效益指标",
            weight=None,
            level3_name="满意度",
            row_number=8,
            reported_score=None,
            weight_rule_text="各项指标权重=40/指标总数",
        )
    )
    rows["load_log"].append(
        _row(
            "load_log",
            load_id="L0",
            file_hash=H2,
            status="quarantined",
            reason_code="password_protected",
            quarantine_path="q/x.xlsx",
            rows_read=0,
            rows_loaded=0,
            rows_rejected=0,
        )
    )
    return rows


def superseded_bad_raw() -> Rows:
    """An older, superseded submission with bad rows: must not block the gate."""
    old = {"file_hash": H2, "loaded_at": T0, "submission_id": SUB_OLD}
    return {
        "submissions": [_row("submissions", submission_id=SUB_OLD, file_hash=H2, loaded_at=T0)],
        "budget_lines": [_row("budget_lines", **old, amount_yuan=D("-5"))],
        "indicators": [_row("indicators", **old, weight=D("120"))],
    }


def warning_raw() -> Rows:
    """Rows that break only warning expectations (unknown category, unknown layout)."""
    return {"projects": [_row("projects", project_key="P9", category="外星项目")]}


def bad_raw() -> Rows:
    """One extra row per critical raw expectation, each breaking exactly that rule."""
    bad_sub = {"submission_id": None}
    rows: Rows = {
        "load_log": [
            _row("load_log", load_id="B1", file_name=" "),
            _row("load_log", load_id="B2", file_hash=""),
            _row("load_log", load_id="B3", status="exploded"),
            _row("load_log", load_id="B4", rows_read=-1),
            _row("load_log", load_id="B5", rows_loaded=-1),
            _row("load_log", load_id="B6", rows_rejected=-1),
            _row(
                "load_log",
                load_id="B7",
                status="quarantined",
                reason_code=None,
                quarantine_path="q/y.xlsx",
            ),
        ],
        "rejected_rows": [
            _row("rejected_rows", file_name=""),
            _row("rejected_rows", reason_code=" "),
        ],
        "submissions": [
            _row("submissions", submission_id="S-blank-dept", department_name=" "),
            _row("submissions", submission_id="S-blank-key", project_key=""),
            _row("submissions", submission_id="S-1999", fiscal_year=1999, project_key="P5"),
            # two different files, same key, same loaded_at: no single current version
            _row("submissions", submission_id="S-dup-1", project_key="P6", file_hash="c" * 64),
            _row("submissions", submission_id="S-dup-2", project_key="P6", file_hash="d" * 64),
        ],
        "projects": [
            _row("projects", **bad_sub, project_key=" "),
            _row("projects", **bad_sub, project_name=""),
            _row("projects", **bad_sub, department_name=" "),
            _row("projects", **bad_sub, period_start_year=1900),
            _row("projects", **bad_sub, period_end_year=2999),
        ],
        "budget_lines": [
            _row("budget_lines", **bad_sub, project_key=""),
            _row("budget_lines", **bad_sub, fiscal_year=1999),
            _row("budget_lines", **bad_sub, line_type="bonus"),
            _row("budget_lines", **bad_sub, fund_source="lottery"),
            _row("budget_lines", **bad_sub, amount_yuan=D("-1.00")),
            _row("budget_lines", **bad_sub, original_unit="美元"),
        ],
        "payments": [
            _row("payments", **bad_sub, project_key=" "),
            _row("payments", **bad_sub, fiscal_year=2101),
            _row("payments", **bad_sub, amount_yuan=D("-0.01")),
            _row("payments", **bad_sub, original_unit="USD"),
        ],
        "indicators": [
            _row("indicators", **bad_sub, project_key="", weight=None),
            _row("indicators", **bad_sub, level1_name=" ", weight=None),
            _row("indicators", **bad_sub, level3_name="", weight=None),
            _row("indicators", **bad_sub, fiscal_year=1999, weight=None),
            _row("indicators", **bad_sub, project_key="PW", weight=D("101")),
            _row("indicators", **bad_sub, project_key="PL", level1_weight=D("-1"), weight=None),
            _row("indicators", **bad_sub, level2_weight=D("100.5"), weight=None),
            _row("indicators", **bad_sub, target_direction="≈", weight=None),
            _row("indicators", **bad_sub, target_kind="vibes", weight=None),
            # group P7/产出 (40): 20 + 30 = 50 ≠ 40
            _row("indicators", **bad_sub, project_key="P7", weight=D("20")),
            _row("indicators", **bad_sub, project_key="P7", weight=D("30")),
            # group P8/产出: two different level-1 weights (40 and 30); 20 + 10 = 30
            _row("indicators", **bad_sub, project_key="P8", weight=D("20")),
            _row("indicators", **bad_sub, project_key="P8", weight=D("10"), level1_weight=D("30")),
        ],
        "funding_reported": [
            _row("funding_reported", **bad_sub, project_key=""),
            _row("funding_reported", **bad_sub, fiscal_year=1980),
            _row("funding_reported", **bad_sub, fund_source="gift"),
            _row("funding_reported", **bad_sub, initial_budget_yuan=D("-1")),
            _row("funding_reported", **bad_sub, final_budget_yuan=D("-1")),
            _row("funding_reported", **bad_sub, executed_yuan=D("-1")),
            _row("funding_reported", **bad_sub, original_unit="斤"),
        ],
        "evaluations": [
            _row("evaluations", **bad_sub, project_key=" "),
            _row("evaluations", **bad_sub, fiscal_year=3000),
            _row("evaluations", **bad_sub, evaluation_type="horoscope"),
            _row("evaluations", **bad_sub, grade="A+"),
            _row("evaluations", **bad_sub, score=D("-3")),
            _row("evaluations", **bad_sub, max_score=D("120"), score=D("50")),
            _row("evaluations", **bad_sub, max_score=D("20"), score=D("25")),
        ],
    }
    return rows


def merge(*parts: Rows) -> Rows:
    out: Rows = {}
    for part in parts:
        for table, rows in part.items():
            out.setdefault(table, []).extend(rows)
    return out


def create_raw(path: Path, rows: Rows) -> None:
    """Create the raw schema from the project's contract and insert ``rows``."""
    con = duckdb.connect(str(path))
    try:
        contracts.create_raw_schema(con)
        insert(con, "raw", rows)
    finally:
        con.close()


def insert(con: duckdb.DuckDBPyConnection, schema: str, rows: Rows) -> None:
    for table, items in rows.items():
        if not items:
            continue
        df = pd.DataFrame(items)
        for col in df.columns:  # exact decimals travel as text, DuckDB casts to DECIMAL
            if any(isinstance(v, D) for v in df[col]):
                df[col] = [None if v is None else str(v) for v in df[col]]
        con.register("incoming", df)
        con.execute(f"insert into {schema}.{table} by name select * from incoming")
        con.unregister("incoming")


# --- marts ---------------------------------------------------------------------------------

#: The mart tables the marts gate reads, each created from its dbt contract
#: (tests/contracts.py); a row names only the columns it needs, the others are null.
MART_TABLES: tuple[str, ...] = (
    "dim_project",
    "fct_budget",
    "fct_payments",
    "fct_indicator_scores",
    "mart_project_year",
    "mart_level1_scores",
    "mart_department_year",
    "mart_review_flags",
)

#: The computed checks the marts gate reads (schema ``quality``: dbt's
#: models/marts/quality/qa_*.sql), each created from its dbt contract. dbt computes them from
#: the marts (its unit tests cover how); here the gate is fed their rows directly.
QA_TABLES: tuple[str, ...] = ("qa_payment_reconciliation", "qa_budget_coverage")

MART_BASE: dict[str, dict[str, Any]] = {
    "dim_project": {
        "project_key": "P1",
        "project_code": "P1",
        "project_name": "电子政务运维",
        "category": "运维",
        "department_name": "新丰县政务服务数据管理局",
        "period_start_year": 2023,
        "period_end_year": 2023,
    },
    "fct_budget": {
        "project_key": "P1",
        "fiscal_year": 2023,
        "fund_source": "total",
        "initial_yuan": D("99000"),
        "additions_yuan": D("0"),
        "cuts_yuan": D("0"),
        "final_yuan": D("99000"),
        "allocated_yuan": D("99000"),
    },
    "fct_payments": {
        "payment_id": "PAY1",
        "project_key": "P1",
        "fiscal_year": 2023,
        "payment_date": dt.date(2023, 6, 1),
        "amount_yuan": D("57790.00"),
    },
    "fct_indicator_scores": {
        "indicator_id": "I1",
        "project_key": "P1",
        "fiscal_year": 2023,
        "level1_name": "产出指标",
        "level3_name": "开放数据集",
        "kind": "quantitative",
        "direction": ">=",
        "weight": D("20"),
        "reported_score": D("20"),
        "recomputed_score": D("20"),
    },
    "mart_project_year": {
        "project_key": "P1",
        "fiscal_year": 2023,
        "project_name": "电子政务运维",
        "department_name": "新丰县政务服务数据管理局",
        "final_budget_yuan": D("99000"),
        "spent_yuan": D("57790"),
        "allocation_rate": D("1"),
        "execution_rate": D("0.583737"),
        "recomputed_score": D("91.84"),
        "reported_score": D("100"),
        "evaluator_score": None,
        "grade": "优",
        "flag_count": 1,
    },
    "mart_level1_scores": {
        "project_key": "P1",
        "fiscal_year": 2023,
        "evaluation_type": "self",
        "level1_name": "产出指标",
        "max_score": D("40"),
        "score": D("40"),
        "score_rate": D("1"),
    },
    "mart_department_year": {
        "department_name": "新丰县政务服务数据管理局",
        "fiscal_year": 2023,
        "project_count": 1,
    },
    "mart_review_flags": {
        "flag_id": "F1",
        "project_key": "P1",
        "fiscal_year": 2023,
        "flag_code": "reported_score_above_recomputed",
        "severity": "warning",
        "message_zh": "自评得分高于重算得分",
        "message_en": "reported score above recomputed",
        "detail": None,
    },
    "qa_payment_reconciliation": {
        "project_key": "P1",
        "fiscal_year": 2023,
        "ledger_yuan": D("57790.00"),
        "fct_yuan": D("57790.00"),
        "ledger_gap_yuan": D("0.00"),
        "mart_spent_yuan": D("57790.00"),
        "mart_spent_gap_yuan": D("0.00"),
    },
    "qa_budget_coverage": {
        "project_key": "P1",
        "fiscal_year": 2023,
        "final_yuan": D("99000.00"),
        "has_evaluation": True,
        "has_flag": True,
        "is_covered": True,
    },
}


def _mrow(table: str, **changes: Any) -> dict[str, Any]:
    base = dict(MART_BASE[table])
    base.update(changes)
    return base


def good_marts() -> Rows:
    rows: Rows = {t: [dict(r)] for t, r in MART_BASE.items()}
    # every grade of the standard bands (which score earns which is dbt's to check)
    for key, score, grade in (("P2", "80", "良"), ("P3", "60", "中"), ("P4", "59.99", "差")):
        rows["mart_project_year"].append(
            _mrow(
                "mart_project_year",
                project_key=key,
                recomputed_score=D(score),
                grade=grade,
                spent_yuan=None,
            )
        )
    return rows


def bad_marts() -> Rows:
    """One extra row per critical mart expectation."""
    pay = "fct_payments"
    py = "mart_project_year"
    return {
        "dim_project": [
            _mrow("dim_project"),  # duplicate key P1
            _mrow("dim_project", project_key=None),
            _mrow("dim_project", project_key="X1", project_name=" "),
            _mrow("dim_project", project_key="X2", department_name=""),
            _mrow("dim_project", project_key="X3", period_start_year=1999),
            _mrow("dim_project", project_key="X4", period_end_year=2200),
        ],
        "fct_budget": [
            _mrow("fct_budget"),  # duplicate (P1, 2023, total)
            _mrow("fct_budget", project_key=None, fund_source="x1"),
            _mrow("fct_budget", fiscal_year=1999),
            _mrow("fct_budget", fund_source="x2", initial_yuan=D("-1"), final_yuan=D("-1")),
            _mrow("fct_budget", fund_source="x3", additions_yuan=D("-1"), final_yuan=D("98999")),
            _mrow("fct_budget", fund_source="x4", cuts_yuan=D("-1"), final_yuan=D("99001")),
            _mrow("fct_budget", fund_source="x5", allocated_yuan=D("-1")),
            # 99000 + 0 - 0 ≠ 120000
            _mrow("fct_budget", fund_source="x6", final_yuan=D("120000")),
        ],
        pay: [
            _mrow(pay),  # duplicate payment_id; also breaks the ledger reconciliation
            _mrow(pay, payment_id=None, amount_yuan=D("0")),
            _mrow(pay, payment_id="PAY2", project_key=None, amount_yuan=D("0")),
            _mrow(pay, payment_id="PAY3", fiscal_year=1999, amount_yuan=D("0")),
            _mrow(pay, payment_id="PAY4", amount_yuan=D("-1")),
        ],
        "fct_indicator_scores": [
            _mrow("fct_indicator_scores"),  # duplicate I1
            _mrow("fct_indicator_scores", indicator_id="I2", project_key=None),
            _mrow("fct_indicator_scores", indicator_id="I3", fiscal_year=2150),
            _mrow(
                "fct_indicator_scores",
                indicator_id="I4",
                weight=D("101"),
                recomputed_score=D("0"),
                reported_score=D("0"),
            ),
            _mrow("fct_indicator_scores", indicator_id="I5", recomputed_score=D("-1")),
            _mrow("fct_indicator_scores", indicator_id="I6", recomputed_score=D("21")),
            _mrow("fct_indicator_scores", indicator_id="I7", direction="~"),
            _mrow("fct_indicator_scores", indicator_id="I8", kind="guess"),
        ],
        py: [
            _mrow(py, spent_yuan=None),  # duplicate (P1, 2023)
            _mrow(py, project_key="Y1", fiscal_year=1999, spent_yuan=None),
            _mrow(py, project_key="Y3", evaluator_score=D("-1"), spent_yuan=None),
            _mrow(py, project_key="Y4", grade="甲", spent_yuan=None),
            _mrow(py, project_key="Y9", allocation_rate=D("-0.1"), spent_yuan=None),
            _mrow(py, project_key="Y10", execution_rate=D("-0.1"), spent_yuan=None),
            _mrow(py, project_key="Y11", final_budget_yuan=D("-1"), spent_yuan=None),
            _mrow(py, project_key="Y12", spent_yuan=D("-1")),
        ],
        "mart_level1_scores": [
            _mrow("mart_level1_scores"),  # duplicate
            _mrow("mart_level1_scores", level1_name="决策", score=D("-1"), score_rate=D("0")),
            _mrow("mart_level1_scores", level1_name="过程", score=D("41"), score_rate=D("1")),
            _mrow("mart_level1_scores", level1_name="效益", score_rate=D("1.2")),
        ],
        "mart_department_year": [
            _mrow("mart_department_year"),  # duplicate
            _mrow("mart_department_year", department_name=" "),
            _mrow("mart_department_year", fiscal_year=1999),
        ],
        "mart_review_flags": [
            _mrow("mart_review_flags"),  # duplicate F1
            _mrow("mart_review_flags", flag_id="F2", flag_code=""),
            _mrow("mart_review_flags", flag_id="F3", project_key=None),
        ],
        "qa_payment_reconciliation": [
            # facts 57,790 yuan more than the current ledger: a payment appeared on the way
            _mrow(
                "qa_payment_reconciliation",
                project_key="Q1",
                ledger_yuan=D("0.00"),
                ledger_gap_yuan=D("57790.00"),
            ),
        ],
    }


def uncovered_budget(*, flagged: bool = False) -> Rows:
    """A budgeted project-year with neither an evaluation nor (unless ``flagged``) a flag, as
    dbt's qa_budget_coverage lists it."""
    return {
        "fct_budget": [_mrow("fct_budget", project_key="P-LONELY")],
        "qa_budget_coverage": [
            _mrow(
                "qa_budget_coverage",
                project_key="P-LONELY",
                has_evaluation=False,
                has_flag=flagged,
                is_covered=flagged,
            )
        ],
    }


def create_marts(path: Path, raw: Rows, marts: Rows, skip: tuple[str, ...] = ()) -> None:
    """Raw schema + the mart and qa tables the gate reads (minus ``skip``), each from its dbt
    contract, filled with ``marts`` (columns a row does not name are null)."""
    create_raw(path, raw)
    con = duckdb.connect(str(path))
    try:
        for schema, tables in (("marts", MART_TABLES), ("quality", QA_TABLES)):
            kept = [t for t in tables if t not in skip]
            contracts.create_tables(con, kept, schema)
            insert(con, schema, {t: r for t, r in marts.items() if t in kept})
    finally:
        con.close()
