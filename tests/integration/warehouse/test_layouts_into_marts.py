"""Seed layouts that had no reader, end to end: workbook -> ingest -> dbt -> marts (新版式到集市).

Seed 001's third-party evaluation result form and sub-project spending table (not the team's
Dongguan ledger), and a 自评表 whose funding block has seed 003's 实际到位数 column, through the
real ingest and one real dbt build.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import openpyxl
import pytest

from jixiao.config import Settings, get_settings
from jixiao.ingest.loader import ingest_files
from jixiao.samples.seed001 import write_seed001
from jixiao.warehouse.dbt import build
from tests.integration.ingest import ingest_workbooks as wbk

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DG_KEY = "东莞市政务服务数据管理局/2019-2021年度东莞市数字政府建设项目"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = get_settings(tmp_path_factory.mktemp("jixiao_home")).ensure()
    write_seed001(settings.inbox / "东莞市数字政府建设项目_第三方绩效评价结果.xlsx")
    form = wbk.selfeval_workbook(settings.inbox / "新丰县_2023_自评表.xlsx")
    wb = openpyxl.load_workbook(form)
    for ws in wb.worksheets:
        ws["I6"], ws["I7"] = "实际到位数", 27000  # seed 003's column
    wb.worksheets[0]["E14"] = None  # one indicator's 实际完成值 left blank
    wb.save(form)
    summary = ingest_files(settings)
    assert summary.files_quarantined == 0, [f.message_en for f in summary.files]
    assert summary.rows_rejected == 0
    build(settings)
    return settings


@pytest.fixture
def con(built: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built.warehouse), read_only=True)
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return con.execute(sql, list(params)).fetchall()


def test_third_party_result_form_gives_the_published_score_and_grade(con) -> None:
    assert _rows(
        con,
        "select evaluator_type, evaluator_score, grade, grade_basis from marts.mart_project_year "
        "where project_key = ?",
        DG_KEY,
    ) == [("third_party", Decimal("77.20"), "中", "evaluator")]
    level1 = dict(
        _rows(
            con,
            "select level1_name, score from marts.mart_level1_scores "
            "where project_key = ? and evaluation_type = 'third_party'",
            DG_KEY,
        )
    )
    assert level1 == {
        "决策": Decimal("14.00"),
        "过程": Decimal("15.92"),
        "产出": Decimal("23.88"),
        "效益": Decimal("23.40"),
    }


def test_the_forms_milestone_table_gives_the_on_time_rates(con) -> None:
    got = {
        stage: (planned, actual)
        for stage, planned, actual in _rows(
            con,
            "select stage, planned_count, actual_count from marts.fct_milestones "
            "where project_key = ? and fiscal_year = 2021",
            DG_KEY,
        )
    }
    assert got == {
        "启动": (100, 96),
        "可研": (27, 25),
        "初步设计": (48, 44),
        "立项": (75, 69),
        "入场实施": (66, 59),
        "初验": (40, 40),
        "终验": (24, 23),
    }
    ((rate,),) = _rows(
        con,
        "select on_time_rate from marts.fct_milestones where project_key = ? and stage = '立项'",
        DG_KEY,
    )
    assert rate == Decimal("0.92")  # 69 / 75, seed 001's 92.00%


def test_sub_project_table_gives_the_published_spending_buckets(con) -> None:
    buckets = dict(
        _rows(
            con,
            "select bucket_code, project_count from marts.mart_spending_rate_distribution "
            "where parent_project_key = ? and fiscal_year is null",
            DG_KEY,
        )
    )
    assert buckets == {
        "rate_100": 0,
        "rate_90_100": 0,
        "rate_80_90": 30,
        "rate_60_80": 8,
        "rate_below_60": 35,
        "no_funds": 2,
    }


def test_the_tables_total_row_agrees_with_its_detail(con) -> None:
    got = _rows(
        con,
        "select measure, reported_amount_yuan, recomputed_amount_yuan, is_different "
        "from intermediate.int_reported_totals_compared where project_key = ? order by measure",
        DG_KEY,
    )
    measures = {m: (rep, rec, diff) for m, rep, rec, diff in got}
    assert measures["paid"] == (Decimal("794203200.00"), Decimal("794203200.00"), False)
    assert measures["approved"][0] == Decimal("1220719900.00")
    assert not _rows(
        con,
        "select 1 from marts.mart_review_flags where project_key = ? "
        "and flag_code = 'reported_total_mismatch'",
        DG_KEY,
    )


def test_actual_arrival_column_gives_the_allocation_rate(con) -> None:
    got = dict(
        _rows(
            con,
            "select project_key, allocation_rate from marts.mart_project_year "
            "where project_key like '新丰县%' order by project_key",
        )
    )
    assert got == {
        "新丰县政务服务数据管理局/政务服务建设推广": Decimal("1.000000"),  # 27000 / 27000
        "新丰县政务服务数据管理局/政务系统管理": Decimal("0.272727"),  # 27000 / 99000
    }


def test_a_reported_score_without_its_actual_is_flagged_not_silently_kept(con) -> None:
    (sheet_project,) = _rows(
        con,
        "select project_key from marts.fct_indicator_scores "
        "where level3_name = '运维系统数量(个)' and actual_text is null",
    )
    flags = _rows(
        con,
        "select detail, severity, message_zh, message_en from marts.mart_review_flags "
        "where flag_code = 'reported_score_unverified' and project_key = ?",
        sheet_project[0],
    )
    assert len(flags) == 1
    detail, severity, zh, en = flags[0]
    assert detail == "运维系统数量(个)" and severity == "warning"  # NFKC: （） -> ()
    assert "20.00" in zh and "未经复核" in zh and "unverified" in en
