"""Every accepted layout and variant loads into raw.* with exact figures and lineage."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from tests.integration.ingest import ingest_workbooks as wbk

from jixiao.ingest.loader import DATA_TABLES, discover, ingest_files


def _reconciles(query, file_name: str) -> tuple[int, int, int]:
    """rows_read = rows_loaded + rows_rejected, and rows_loaded matches the rows in raw.*."""
    ((read, loaded, rejected),) = query(
        "select rows_read, rows_loaded, rows_rejected from raw.load_log "
        "where file_name = ? and status = 'loaded'",
        [file_name],
    )
    assert read == loaded + rejected
    union = " union ".join(
        f"select sheet_name, row_number from raw.{t} where file_name = $1" for t in DATA_TABLES
    )
    ((distinct_rows,),) = query(f"select count(*) from ({union})", [file_name])
    assert distinct_rows == loaded
    ((rej,),) = query(
        f"select count(*) from (select distinct sheet_name, row_number from raw.rejected_rows "
        f"where file_name = $1 except ({union}))",
        [file_name],
    )
    assert rej == rejected  # rows rejected and not loaded (a loaded row may carry a finding)
    return read, loaded, rejected


@pytest.mark.parametrize("label_column", [False, True])
def test_selfeval_form_two_projects_in_yuan(settings, query, label_column):
    path = wbk.selfeval_workbook(settings.inbox / "新丰自评.xlsx", label_column=label_column)
    summary = ingest_files(settings)
    assert summary.files_loaded == 1 and summary.files_quarantined == 0
    assert summary.files[0].layout == "selfeval_form"
    rows = query(
        "select project_key, fund_source, initial_budget_yuan, final_budget_yuan, "
        "executed_yuan, original_unit, reported_rate from raw.funding_reported "
        "where fund_source = 'total' order by project_key"
    )
    assert rows == [
        (
            "新丰县政务服务数据管理局/政务服务建设推广",
            "total",
            Decimal("30000.00"),
            Decimal("27000.00"),
            Decimal("22516.00"),
            "元",
            Decimal("0.833900"),
        ),
        (
            "新丰县政务服务数据管理局/政务系统管理",
            "total",
            Decimal("110000.00"),
            Decimal("99000.00"),
            Decimal("57790.00"),
            "元",
            Decimal("0.583700"),
        ),
    ]
    ind = query(
        "select level1_name, level2_name, target_kind, target_direction, target_value, "
        "target_unit, actual_value from raw.indicators where project_key like '%政务系统管理' "
        "order by row_number"
    )
    assert ind == [
        ("产出指标", "数量指标", "quantitative", ">=", Decimal(5), "个", Decimal(5)),
        ("产出指标", "时效指标", "quantitative", "<=", Decimal(4), "小时", Decimal(2)),
        ("产出指标", "质量指标", "quantitative", ">=", Decimal(95), "%", Decimal("99.5")),
        ("效益指标", "社会效益指标", "qualitative", None, None, None, None),
        ("效益指标", "可持续影响指标", "yes_no", "=", Decimal(1), None, Decimal(1)),
        ("满意度指标", "服务对象满意度指标", "quantitative", ">=", Decimal(90), "%", Decimal(95)),
    ]
    assert query("select count(*), sum(score) from raw.evaluations") == [(2, Decimal(200))]
    subs = query(
        "select department_name, fiscal_year, layout, sheet_name from raw.submissions "
        "order by sheet_name"
    )
    assert [s[:3] for s in subs] == [("新丰县政务服务数据管理局", 2023, "selfeval_form")] * 2
    assert query("select province, city, county from raw.projects limit 1") == [
        ("广东省", "韶关市", "新丰县")
    ]
    # per sheet: project, 4 funding rows, 6 indicators, 总分, 年度总体目标
    assert _reconciles(query, path.name) == (2 * (1 + 4 + 6 + 1 + 1), 26, 0)


@pytest.mark.parametrize("split_header", [False, True])
def test_scoring_table_seed_002(settings, query, split_header):
    wbk.scoring_workbook(settings.inbox / "江门2023评分表.xlsx", split_header=split_header)
    summary = ingest_files(settings)
    assert summary.files_loaded == 1
    assert query("select department_name, fiscal_year from raw.submissions") == [
        ("江门市政务服务和数据管理局", 2023)
    ]
    lines = query(
        "select line_type, amount_yuan, reason from raw.budget_lines order by row_number,"
        " amount_yuan desc"
    )
    assert lines == [
        ("final", Decimal("91500000.00"), None),
        ("allocated", Decimal("91500000.00"), "本级"),
        ("executed", Decimal("89671900.00"), "本级"),
        ("executed", Decimal("769500.00"), "转移支付至下级"),
    ]
    # 9044.14 万元 paid in total, as the report says
    assert query("select sum(amount_yuan) from raw.budget_lines where line_type = 'executed'") == [
        (Decimal("90441400.00"),)
    ]
    ind = query(
        "select level3_name, weight, weight_rule_text, target_value, target_direction "
        "from raw.indicators where level1_name = '产出' order by row_number"
    )
    assert ind[1] == (
        "公共数据资源社会开放数据集(个)",
        None,
        "各项指标权重=40/指标总数",
        Decimal(1330),
        "=",
    )
    assert ind[3][3:] == (Decimal(4), "<=")
    assert query("select count(*) from raw.indicators") == [(9,)]
    assert query(
        "select level1_name, max_score, score from raw.evaluations order by row_number"
    ) == [
        ("产出", Decimal(40), Decimal(40)),
        ("效益", Decimal(40), Decimal(40)),
        (None, Decimal(100), Decimal(98)),
    ]
    # indicator self-scores plus group scores give the reported total 98
    ((total,),) = query(
        "select (select sum(reported_score) from raw.indicators) + "
        "(select sum(score) from raw.evaluations where level1_name is not null)"
    )
    assert total == Decimal(98)


def test_payment_ledger_variants(settings, query):
    """Caption unit 万元, text numbers, full-width digits, serial and text dates, notes, hidden."""
    rows = [
        [
            "JM-SZZF",
            2022,
            "2022-03-01",
            "1,330.50",
            "当年财政拨款",
            "甲公司",
            "V001",
            "运维",
            "基础设施",
        ],
        ["JM-SZZF", "２０２２", 44652, "２８．３", None, "乙公司", "V002", "建设", "营商环境"],
        [None, None, None, None, None, None, None, None, None],
        ["JM-SZZF", "2022年", "2022年5月2日", 0.01, "其他资金", "丙", "V003", None, None],
    ]
    wbk.payments_workbook(settings.inbox / "支付台账.xlsx", rows)
    summary = ingest_files(settings)
    result = summary.files[0]
    assert result.status == "loaded" and result.layout == "ledger"
    assert {s["sheet"]: s["why"] for s in result.sheets_ignored} == {
        "旧数据": "hidden",
        "填写说明": "instructions",
    }
    got = query(
        "select row_number, fiscal_year, payment_date::varchar, amount_yuan, "
        "original_unit, fund_source from raw.payments order by row_number"
    )
    assert got == [
        (4, 2022, "2022-03-01", Decimal("13305000.00"), "万元", "current_appropriation"),
        (5, 2022, "2022-04-01", Decimal("283000.00"), "万元", None),
        (7, 2022, "2022-05-02", Decimal("100.00"), "万元", "other"),
    ]
    assert _reconciles(query, "支付台账.xlsx") == (3, 3, 0)
    ignored = json.loads(query("select sheets_ignored from raw.load_log")[0][0])
    assert {i["sheet"] for i in ignored} == {"旧数据", "填写说明"}


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("支付金额（元）", "22516", Decimal("22516.00")),
        ("金额(元)", 57790, Decimal("57790.00")),
        ("amount_yuan", "318,472", Decimal("318472.00")),
        ("支付金额（万元）", "3", Decimal("30000.00")),
        ("实际支出（万元）", 50418.98, Decimal("504189800.00")),
    ],
)
def test_payment_amount_header_variants(settings, query, header, value, expected):
    hdr = ["项目编码", "支付日期", header, "收款单位"]
    wbk.payments_workbook(
        settings.inbox / "p.xlsx",
        [["XF-1", "2023-06-30", value, "某单位"]],
        caption=None,
        header=hdr,
    )
    ingest_files(settings)
    assert query("select fiscal_year, amount_yuan from raw.payments") == [(2023, expected)]


def test_all_ledger_kinds_in_one_workbook(settings, query):
    wbk.ledger_workbook(
        settings.inbox / "台账.xlsx",
        {
            "项目登记": wbk.JIANGMEN_PROJECTS,
            "预算": wbk.JIANGMEN_BUDGETS,
            "评价结果": wbk.DONGGUAN_EVALUATIONS,
            "里程碑": wbk.DONGGUAN_MILESTONES,
            "填写说明": [["说明"]],
        },
    )
    ingest_files(settings)
    # Jiangmen arranged total: 10000 + 12000 - 1000 + 20000 + 22000 - 12000 = 51000 万元
    ((arranged,),) = query(
        "select sum(case when line_type = 'cut' then -amount_yuan else amount_yuan end) "
        "from raw.budget_lines where project_key = 'JM-SZZF'"
    )
    assert arranged == Decimal("510000000.00")
    assert query(
        "select score, grade, period_start_year, fiscal_year from raw.evaluations "
        "where level1_name is null"
    ) == [(Decimal("77.20"), "中", 2019, 2021)]
    assert query("select sum(score) from raw.evaluations where level1_name is not null") == [
        (Decimal("77.20"),)
    ]
    assert query(
        "select stage, planned_count, actual_count from raw.milestones where stage = '入场实施'"
    ) == [("入场实施", 66, 59)]
    # department comes from the projects sheet of the same workbook
    assert set(
        query("select distinct department_name from raw.submissions where project_key = 'JM-SZZF'")
    ) == {("江门市政务服务数据管理局",)}
    assert _reconciles(query, "台账.xlsx") == (1 + 6 + 5 + 7, 19, 0)


def test_exactly_once_and_resubmission(settings, query, tmp_path):
    path = wbk.payments_workbook(settings.inbox / "a.xlsx", [["P1", 2023, "2023-01-05", 10]])
    shutil.copyfile(path, settings.inbox / "a-copy.xlsx")  # same bytes, another name
    first = ingest_files(settings)
    assert (first.files_loaded, first.files_duplicate) == (1, 1)
    assert discover(settings) == []
    again = ingest_files(settings)
    assert (again.files_loaded, again.files_skipped_unchanged, again.files_duplicate) == (0, 1, 1)
    assert query("select count(*) from raw.payments") == [(1,)]
    # a resubmission with new figures supersedes by loaded_at; history stays
    wbk.payments_workbook(settings.inbox / "a-v2.xlsx", [["P1", 2023, "2023-01-05", 12]])
    assert [p.name for p in discover(settings)] == ["a-v2.xlsx"]
    ingest_files(settings, discover(settings))
    latest = query(
        "select p.amount_yuan from raw.payments p join raw.submissions s using (submission_id) "
        "where s.project_key = 'P1' and s.fiscal_year = 2023 "
        "order by s.loaded_at desc limit 1"
    )
    assert latest == [(Decimal("120000.00"),)]
    assert query("select count(*) from raw.submissions") == [(2,)]
    statuses = sorted(r[0] for r in query("select status from raw.load_log"))
    assert statuses == ["duplicate", "duplicate", "loaded", "loaded", "skipped_unchanged"]


def test_lineage_columns(settings, query):
    path = wbk.payments_workbook(settings.inbox / "l.xlsx", [["P9", 2023, "2023-02-01", 1]])
    ingest_files(settings)
    from jixiao.ingest.loader import sha256_file

    assert query(
        "select file_hash, file_name, sheet_name, row_number, loaded_at is not null, "
        "submission_id from raw.payments"
    ) == [(sha256_file(path), "l.xlsx", "支付", 4, True, f"{sha256_file(path)}:支付:P9:2023")]


def test_row_level_rejections_rest_loads(settings, query):
    rows = [
        ["P1", 2023, "2023-01-05", "abc", None, "甲", "V1"],
        ["P1", 2023, "2023-01-06", "12.345678", None, "甲", "V2"],  # sub-fen in 万元? no: 元
        ["P1", 2023, "2023-13-45", 5, None, "甲", "V3"],
        ["P1", 2023, "2023-01-07", "100美元", None, "甲", "V4"],
        ["P1", 2023, "2023-01-08", 7, None, "甲", "V5"],
    ]
    hdr = ["项目编码", "年度", "支付日期", "支付金额（元）", "资金来源", "收款单位", "凭证号"]
    wbk.payments_workbook(settings.inbox / "r.xlsx", rows, caption=None, header=hdr)
    summary = ingest_files(settings)
    assert summary.files_loaded == 1
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (5, 1, 4)
    rej = query("select row_number, cell_ref, reason_code from raw.rejected_rows order by 1")
    assert rej == [
        (2, "D2", "unparseable_value"),
        (3, "D3", "sub_fen_precision"),
        (4, "C4", "unparseable_value"),
        (5, "D5", "unknown_unit"),
    ]
    msg = query(
        "select message_zh, message_en, raw_values from raw.rejected_rows where row_number = 2"
    )[0]
    assert "r.xlsx" not in msg[0] and "支付" in msg[0] and "D2" in msg[0] and "abc" in msg[0]
    assert "D2" in msg[1] and "expected" in msg[1]
    assert json.loads(msg[2])[:4] == ["P1", "2023", "2023-01-05", "abc"]
    assert query("select voucher_no from raw.payments") == [("V5",)]
    _reconciles(query, "r.xlsx")


def test_selfeval_bad_score_row_rejected(settings, query):
    wbk.selfeval_workbook(settings.inbox / "bad.xlsx", bad_score=True)
    summary = ingest_files(settings)
    assert summary.files_loaded == 1 and summary.rows_rejected == 2
    assert query("select distinct reason_code, cell_ref from raw.rejected_rows") == [
        ("unparseable_value", "G19")
    ]
    assert query("select count(*) from raw.indicators") == [(10,)]


def test_discover_lists_only_new(settings):
    a = wbk.payments_workbook(settings.inbox / "x.xlsx", [["P1", 2023, "2023-01-05", 1]])
    (settings.inbox / "~$x.xlsx").write_bytes(b"lock")
    assert discover(settings) == [a]
    ingest_files(settings)
    assert discover(settings) == []
    assert isinstance(Path(a), Path)


def test_selfeval_yearly_goal_text_is_kept(settings, query):
    """年度总体目标: 预期目标 and 实际完成情况 land in raw.project_goals with lineage."""
    wbk.selfeval_workbook(settings.inbox / "新丰自评.xlsx")
    ingest_files(settings)
    assert query(
        "select sheet_name, row_number, expected_goal, actual_outcome, submission_id is not null "
        "from raw.project_goals order by sheet_name"
    ) == [
        ("政务服务建设推广", 12, "保障政务系统稳定运行", "系统全年稳定运行", True),
        ("政务系统管理", 12, "保障政务系统稳定运行", "系统全年稳定运行", True),
    ]


def test_selfeval_goal_written_beside_its_labels(settings, query):
    """A variant: 预期目标 | text | 实际完成情况 | text on one row."""
    path = wbk.selfeval_workbook(settings.inbox / "自评.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    for rng in [str(r) for r in ws.merged_cells.ranges if r.min_row in (11, 12)]:
        ws.unmerge_cells(rng)
    for ref in ("A11", "B11", "C11", "D11", "E11", "F11", "G11", "H11", "A12", "B12", "F12"):
        ws[ref] = None
    ws["A11"], ws["B11"], ws["C11"] = "年度总体目标", "预期目标", "完成 3 个系统迁移"
    ws["E11"], ws["F11"] = "实际完成情况", "完成 2 个，1 个延期"
    wb.save(path)
    ingest_files(settings)
    assert query(
        "select expected_goal, actual_outcome from raw.project_goals where sheet_name = ?",
        [ws.title],
    ) == [("完成 3 个系统迁移", "完成 2 个,1 个延期")]
