"""A small marts database following the mart contract (集市测试数据), for report tests.

Figures are copied from the seed documents: seed 002 (Jiangmen 2023, 9150 万元 budget,
9044.14 万元 paid, self-score 98, 开放数据集 1330 → 5453), seed 004 (Xinfeng, 99,000 元 budget,
57,790 元 spent, self-score 100), seed 001 (score table 20/20/30/30 → 77.20) and seed 000
(six categories whose amounts sum to 50,418.98 万元). One project carries hostile text to
prove formula neutralisation.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
from tests import contracts

from jixiao.config import get_settings
from jixiao.reports.marts import REQUIRED_TABLES
from jixiao.warehouse.dbt import build

JM_DEPT = "江门市政务服务和数据管理局"
XF_DEPT = "新丰县政务服务数据管理局"
EVIL_NAME = '=HYPERLINK("http://evil.example","点我")'
EVIL_REASON = "+cmd|' /C calc'!A0"
EVIL_FLAG = "@SUM(1+1)"
YEAR = 2023

#: The upstream marts the reporting marts read, each created from its dbt contract
#: (tests/contracts.py); the inserts below name their columns, the others are null.
UPSTREAM_MARTS: tuple[str, ...] = (
    # what the report reader requires, less the reporting marts dbt builds from these ...
    *(t for t in REQUIRED_TABLES if not t.startswith("mart_report_")),
    # ... and what those reporting marts read besides
    "dim_department",
    "mart_indicator_results",
)
#: The issue-18 marts of :func:`_stated_figures`, from their contracts too.
STATED_MARTS: tuple[str, ...] = (
    "mart_evaluation_periods",
    "mart_output_completion",
    "mart_acceptance_stages",
)


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, columns: str, rows: Sequence[Sequence[object]]
) -> None:
    """Insert ``rows`` into ``marts.<table>`` by the (space-separated) ``columns`` they fill."""
    names = columns.split()
    con.executemany(
        f"insert into marts.{table} ({', '.join(names)}) values ({', '.join('?' * len(names))})",
        rows,
    )


# key, name, dept, category, province, city, county, final, allocated, spent,
# recomputed, reported, evaluator, grade, reported_grade, output grade, flags
PROJECTS = [
    (
        "JM-2023-01",
        "“数字政府”建设专项资金",
        JM_DEPT,
        "政务服务",
        "广东省",
        "江门市",
        None,
        "91500000.00",
        "91500000.00",
        "90441400.00",
        "97.86",
        "98.00",
        None,
        "优",
        "优",
        "全部完成",
        1,
    ),
    (
        "JM-2023-02",
        "政务外网运维",
        JM_DEPT,
        "基础设施",
        "广东省",
        "江门市",
        None,
        "3000000.00",
        "3000000.00",
        "3000000.00",
        "100.00",
        "100.00",
        None,
        "优",
        "优",
        "全部完成",
        0,
    ),
    (
        "XF-2023-01",
        "政务服务建设推广",
        XF_DEPT,
        "政务服务",
        "广东省",
        "韶关市",
        "新丰县",
        "99000.00",
        "99000.00",
        "57790.00",
        "82.50",
        "100.00",
        "77.20",
        "良",
        "优",
        "大部分完成",
        2,
    ),
    (
        "JM-2023-01-S1",
        "子项目：政务云扩容",
        JM_DEPT,
        "基础设施",
        "广东省",
        "江门市",
        None,
        "500000.00",
        "500000.00",
        "450000.00",
        "95.00",
        "95.00",
        None,
        "优",
        "优",
        "全部完成",
        0,
    ),
    (
        "XF-2023-02",
        EVIL_NAME,
        XF_DEPT,
        "民生保障",
        "广东省",
        "韶关市",
        "新丰县",
        "30000.00",
        "0.00",
        "0.00",
        "55.00",
        "90.00",
        None,
        "差",
        "优",
        "不太明显",
        1,
    ),
]

PROJECTS.append(
    (  # 实际到位 unknown, spent beyond the budget: shows —, a negative 结余, bucket 100%
        "XF-2023-03",
        "数据共享平台运维",
        XF_DEPT,
        None,
        "广东省",
        "韶关市",
        "新丰县",
        "60000.00",
        None,
        "72000.00",
        "90.00",
        "90.00",
        None,
        "优",
        "优",
        "全部完成",
        0,
    )
)

# seed 000: six categories under the Jiangmen special fund, amounts in yuan, shares of paid
CATEGORIES = [
    ("基础设施", 38, "72281900.00", "0.143400"),
    ("营商环境", 31, "53502700.00", "0.106100"),
    ("政务服务", 20, "34517200.00", "0.068500"),
    ("民生保障", 37, "28317800.00", "0.056200"),
    ("社会治理", 55, "147771500.00", "0.293100"),
    ("政府协同和部门管理", 84, "167798700.00", "0.332800"),
]


def _budget_rows() -> list[tuple[object, ...]]:
    return [
        (
            "JM-2023-01",
            YEAR,
            "current_appropriation",
            "91500000.00",
            "0",
            "0",
            "91500000.00",
            "90730000.00",
            "770000.00",
            "91500000.00",
        ),
        (
            "JM-2023-02",
            YEAR,
            "current_appropriation",
            "2000000.00",
            "1000000.00",
            "0",
            "3000000.00",
            "3000000.00",
            "0",
            "3000000.00",
        ),
        (
            "XF-2023-01",
            YEAR,
            "current_appropriation",
            "100000.00",
            "0",
            "1000.00",
            "99000.00",
            "99000.00",
            "0",
            "99000.00",
        ),
        (
            "XF-2023-02",
            YEAR,
            "current_appropriation",
            "30000.00",
            "0",
            "0",
            "30000.00",
            "0",
            "0",
            "0",
        ),
    ]


def _indicator_rows() -> list[tuple[object, ...]]:
    jm = "JM-2023-01"
    rows = [
        # id, key, l1, l2, l3, kind, dir, target, actual, unit, weight, reported, recomputed,
        # rule, reason
        (
            "i1",
            jm,
            "决策",
            "资金管理",
            "资金支出率",
            "budget_rate",
            ">=",
            "1",
            "0.988431",
            "",
            "12",
            "12",
            "11.86",
            "budget_execution_rate",
            None,
        ),
        (
            "i2",
            jm,
            "决策",
            "事项管理",
            "监管有效性",
            "qualitative",
            None,
            None,
            None,
            None,
            "8",
            "6",
            "6",
            "qualitative_tier",
            "年度进行了二次资金调整",
        ),
        (
            "i3",
            jm,
            "产出",
            "数量指标",
            "公共数据资源社会开放数据集",
            "quantitative",
            ">=",
            "1330",
            "5453",
            "个",
            "20",
            "20",
            "20",
            "higher_is_better",
            None,
        ),
        (
            "i4",
            jm,
            "产出",
            "时效指标",
            "共享数据平均审核时长",
            "quantitative",
            "<=",
            "4",
            "1.58",
            "小时",
            "20",
            "20",
            "20",
            "lower_is_better",
            None,
        ),
        (
            "i5",
            jm,
            "效益",
            "满意度指标",
            "政务服务用户满意度",
            "quantitative",
            ">=",
            "85",
            "100",
            "%",
            "40",
            "40",
            "40",
            "higher_is_better",
            None,
        ),
        (
            "i6",
            "XF-2023-01",
            "产出",
            "数量指标",
            "网办事项数",
            "quantitative",
            ">=",
            "200",
            "150",
            "项",
            "50",
            "50",
            "37.50",
            "higher_is_better",
            "部分事项未上线",
        ),
        (
            "i7",
            "XF-2023-01",
            "效益",
            "社会效益指标",
            "群众办事便利度",
            "yes_no",
            "=",
            "1",
            "1",
            None,
            "50",
            "50",
            "45.00",
            "yes_no",
            None,
        ),
        (
            "i8",
            "XF-2023-02",
            "产出",
            "数量指标",
            "惠民事项",
            "quantitative",
            ">=",
            "10",
            "5",
            "项",
            "100",
            "90",
            "55.00",
            "higher_is_better",
            EVIL_REASON,
        ),
    ]
    names = {p[0]: (p[1], p[2]) for p in PROJECTS}
    return [(*r[:15], "form.xlsx", "Sheet1", n + 5, *names[r[1]]) for n, r in enumerate(rows)]


def _monthly_rows() -> list[tuple[object, ...]]:
    out = []
    for key, spent in (("JM-2023-01", "90441400.00"), ("XF-2023-01", "57790.00")):
        final = {"JM-2023-01": 91500000, "XF-2023-01": 99000}[key]
        total = float(spent)
        for m in range(1, 13):
            cum = f"{round(total * min(m, 10) / 10, 2):.2f}" if m >= 3 else "0.00"
            rate = f"{float(cum) / final:.6f}"
            sched = f"{m / 12:.6f}"
            out.append((key, YEAR, m, cum, rate, sched, float(rate) < m / 12))
    return out


PAYMENTS = [
    # payment_id, key, payment_date, amount, payee, voucher_no, file_name, row_number
    ("pay1", "JM-2023-01", "2023-06-30", "60000000.00", "数字广东", "V001", "ledger.xlsx", 3),
    ("pay2", "JM-2023-01", "2023-12-20", "30441400.00", "数字广东", "V002", "ledger.xlsx", 4),
    ("pay3", "JM-2023-02", "2023-11-01", "3000000.00", "电信", "V003", "ledger.xlsx", 5),
    ("pay4", "XF-2023-01", "2023-09-01", "57790.00", "某公司", "V004", "xf.xlsx", 3),
]

# as the demo's marts hold seed 002: the form's self-scores for 产出/效益, the indicator sum for
# 决策 (资金支出率 12 + 监管有效性 6), recomputed for all three
LEVEL1_SCORES = [
    ("JM-2023-01", YEAR, "recomputed", "决策", "20", "17.86", "0.893000"),
    ("JM-2023-01", YEAR, "recomputed", "产出", "40", "40", "1.000000"),
    ("JM-2023-01", YEAR, "recomputed", "效益", "40", "40", "1.000000"),
    ("JM-2023-01", YEAR, "reported_indicators", "决策", "20", "18", "0.900000"),
    ("JM-2023-01", YEAR, "self", "产出", "40", "40", "1.000000"),
    ("JM-2023-01", YEAR, "self", "效益", "40", "40", "1.000000"),
    ("XF-2023-01", YEAR, "third_party", "决策", "20", "14.00", "0.700000"),
    ("XF-2023-01", YEAR, "third_party", "过程", "20", "15.92", "0.796000"),
    ("XF-2023-01", YEAR, "third_party", "产出", "30", "23.88", "0.796000"),
    ("XF-2023-01", YEAR, "third_party", "效益", "30", "23.40", "0.780000"),
]

SPENDING_BUCKETS = [
    ("rate_100", "100%", 0),
    ("rate_90_100", "90%-100%", 0),
    ("rate_80_90", "80%-90%", 30),
    ("rate_60_80", "60%-80%", 8),
    ("rate_below_60", "低于60%", 35),
    ("no_funds", "暂未下达资金", 2),
]

REVIEW_FLAGS = [
    (
        "f1",
        "JM-2023-01",
        "target_too_low",
        "info",
        "开放数据集实际 5453，远超目标 1330，目标偏低",
        "Target far exceeded: target set too low",
    ),
    (
        "f2",
        "XF-2023-01",
        "reported_score_above_recomputed",
        "warning",
        "自评 100 分，复核 82.50 分",
        "Self-score 100 vs recomputed 82.50",
    ),
    (
        "f3",
        "XF-2023-01",
        "lagging_execution",
        "warning",
        "执行率 58.37%，落后于序时进度",
        "Execution lags the time schedule",
    ),
    ("f4", "XF-2023-02", "missing_deviation_reason", "warning", EVIL_FLAG, "-1+2"),
    (
        "f5",
        "JM-2023-01-S1",
        "lagging_execution",
        "warning",
        "子项目执行进度滞后于序时进度（规则 budget_execution_rate）",
        "Sub-project execution behind the schedule",
    ),
]


def _parent(key: str) -> str | None:
    return key.rsplit("-S", 1)[0] if "-S" in key else None


def _project_rows() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(dim_project rows, mart_project_year rows) of :data:`PROJECTS`."""
    dims: list[tuple[object, ...]] = []
    years: list[tuple[object, ...]] = []
    for p in PROJECTS:
        key, name, dept, cat, prov, city, county = p[:7]
        final, alloc, spent = p[7:10]
        parent = _parent(key)
        dims.append(
            (
                key,
                key,
                name,
                cat,
                dept,
                prov,
                city,
                county,
                "一级专项资金",
                YEAR,
                YEAR,
                parent,
                dept,
            )
        )
        balance = f"{float(final) - float(spent):.2f}"
        if alloc is None:  # 实际到位 not reported: rates on the final budget
            alloc_rate, exec_rate = None, f"{float(spent) / float(final):.6f}"
        else:
            alloc_rate = f"{float(alloc) / float(final):.6f}"
            exec_rate = f"{float(spent) / float(alloc):.6f}" if float(alloc) else None
        years.append(
            (
                key,
                YEAR,
                name,
                dept,
                cat,
                prov,
                city,
                county,
                final,
                alloc,
                spent,
                balance,
                alloc_rate,
                exec_rate,
                *p[10:],
                parent,
            )
        )
    return dims, years


def _upstream_marts(path: Path) -> Path:
    """Create the upstream marts (the reports' inputs below the reporting marts) at ``path``,
    every table from its dbt contract."""
    con = duckdb.connect(str(path))
    try:
        contracts.create_tables(con, UPSTREAM_MARTS, "marts")
        dims, years = _project_rows()
        _insert(
            con,
            "dim_project",
            "project_key project_code project_name category department_name province city "
            "county project_level period_start_year period_end_year parent_project_key "
            "implementing_unit",
            dims,
        )
        _insert(
            con,
            "mart_project_year",
            "project_key fiscal_year project_name department_name category province city county "
            "final_budget_yuan allocated_yuan spent_yuan balance_yuan allocation_rate "
            "execution_rate recomputed_score reported_score evaluator_score grade "
            "reported_grade output_completion_grade flag_count parent_project_key",
            years,
        )
        # 差异 as mart_project_year computes it (自评 − 复核, each at two decimals)
        con.execute(
            "update marts.mart_project_year "
            "set score_difference = reported_score - recomputed_score"
        )
        _insert(
            con,
            "fct_budget",
            "project_key fiscal_year fund_source initial_yuan additions_yuan cuts_yuan "
            "final_yuan allocated_local_yuan allocated_transfer_yuan allocated_yuan",
            _budget_rows(),
        )
        _insert(
            con,
            "fct_payments",
            "payment_id project_key fiscal_year payment_date amount_yuan fund_source payee "
            "voucher_no file_name sheet_name row_number",
            [
                (
                    pid,
                    key,
                    YEAR,
                    day,
                    amount,
                    "current_appropriation",
                    payee,
                    voucher,
                    file,
                    "支付",
                    n,
                )
                for pid, key, day, amount, payee, voucher, file, n in PAYMENTS
            ],
        )
        _insert(
            con,
            "mart_indicator_results",
            "indicator_id project_key fiscal_year level1_name level2_name level3_name kind "
            "direction target_value actual_value unit weight reported_score recomputed_score "
            "rule_applied deviation_reason file_name sheet_name row_number project_name "
            "department_name",
            [(r[0], r[1], YEAR, *r[2:]) for r in _indicator_rows()],
        )
        # 复核得满分 as fct_indicator_scores computes it
        con.execute(
            "update marts.mart_indicator_results set is_full_marks = recomputed_score >= weight"
        )
        _insert(
            con,
            "mart_level1_scores",
            "project_key fiscal_year evaluation_type level1_name max_score score score_rate",
            LEVEL1_SCORES,
        )
        con.execute("""
            insert into marts.mart_department_year (department_name, fiscal_year,
                project_count, final_budget_yuan, allocated_yuan, spent_yuan, execution_rate,
                avg_recomputed_score, flag_count)
            select department_name, fiscal_year, count(*), sum(final_budget_yuan),
                   sum(allocated_yuan), sum(spent_yuan),
                   round(sum(spent_yuan) / nullif(sum(allocated_yuan), 0), 6),
                   round(avg(recomputed_score), 2), sum(flag_count)
            from marts.mart_project_year
            where project_key in (select project_key from marts.dim_project
                                  where parent_project_key is null)
            group by all
        """)
        con.execute("""
            insert into marts.mart_region_year (province, city, county, region_name,
                fiscal_year, project_count, final_budget_yuan, spent_yuan, execution_rate)
            select province, city, county,
                   coalesce(nullif(concat(coalesce(province, ''), coalesce(city, ''),
                                          coalesce(county, '')), ''), '未指定地区'),
                   fiscal_year, count(*), sum(final_budget_yuan),
                   sum(spent_yuan), round(sum(spent_yuan) / nullif(sum(allocated_yuan), 0), 6)
            from marts.mart_project_year
            where project_key in (select project_key from marts.dim_project
                                  where parent_project_key is null)
            group by all
        """)
        _insert(
            con,
            "mart_category_year",
            "category fiscal_year parent_project_key project_count amount_yuan share",
            [(c[0], YEAR, "JM-2023-01", c[1], c[2], c[3]) for c in CATEGORIES],
        )
        _insert(
            con,
            "mart_spending_rate_distribution",
            "parent_project_key fiscal_year bucket_code bucket_label project_count sort_order",
            [
                ("JM-2023-01", YEAR, code, label, n, i)
                for i, (code, label, n) in enumerate(SPENDING_BUCKETS)
            ],
        )
        _insert(
            con,
            "mart_execution_monthly",
            "project_key fiscal_year month cumulative_spent_yuan cumulative_execution_rate "
            "time_schedule_rate is_lagging",
            _monthly_rows(),
        )
        _insert(
            con,
            "mart_review_flags",
            "flag_id project_key fiscal_year flag_code severity message_zh message_en",
            [(f[0], f[1], YEAR, *f[2:]) for f in REVIEW_FLAGS],
        )
        _stated_figures(con)
        contracts.check_tables(con, UPSTREAM_MARTS + STATED_MARTS, "marts")
    finally:
        con.close()
    return path


_TEMPLATE: list[Path] = []
"""The reporting marts, built once per test process by dbt over the upstream marts above."""


def make_marts(path: Path) -> Path:
    """The marts database at ``path``: the upstream marts of :func:`_upstream_marts`, and the
    reporting marts (dbt_project/models/marts/reporting) built over them by the real dbt
    models, with the seeds. Built once per process, then copied."""
    if not _TEMPLATE:
        home = Path(tempfile.mkdtemp(prefix="jixiao-report-marts-"))
        atexit.register(shutil.rmtree, home, True)
        settings = get_settings(home).ensure()
        _upstream_marts(settings.warehouse)
        build(
            settings,
            select="path:models/marts/reporting resource_type:seed",
            exclude_resource_types=("test", "unit_test"),
        )
        _TEMPLATE.append(settings.warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_TEMPLATE[0], path)
    return path


PUBLISH_RUN = "scheduled__2024-04-02T02:00:00+00:00"


def _stated_figures(con: duckdb.DuckDBPyConnection) -> None:
    """The issue-18 marts: seed 000's 97.61 % beside 98.86 % (here on a 2021-2023 period of
    JM-2023-01), seed 001's 产出 23.88 / 30 部分完成 (third party, on XF-2023-01) and seed 000's
    201 / 265 已终验 for the Jiangmen department; two publishes."""
    contracts.create_tables(con, STATED_MARTS, "marts")
    contracts.create_published_scores(con, "marts")
    con.execute(
        "insert into marts.mart_evaluation_periods (evaluation_period_id, project_key, "
        "period_start_year, period_end_year, final_yuan, spent_yuan, reported_rate, "
        "recomputed_rate, rate_difference_pct, is_rate_different, reported_rate_file_name, "
        "reported_rate_sheet_name, reported_rate_row_number) values "
        "('p1', 'JM-2023-01', 2021, 2023, 510000000.00, 504189800.00, 0.976100, 0.988600, "
        "-1.25, true, '江门台账.xlsx', '支付明细', 512), "
        "('p2', 'JM-2023-01', 2019, 2020, 1.00, 1.00, 1, 1, 0, false, null, null, null), "
        "('p3', 'XF-2023-01', 2023, 2023, 99000.00, 57790.00, null, 0.583737, null, false, "
        "null, null, null)"
    )
    con.execute(
        "insert into marts.mart_output_completion (project_key, fiscal_year, score_source, "
        "is_preferred, output_score, output_max_score, completion_grade_zh) values "
        "('XF-2023-01', 2023, 'third_party', true, 23.88, 30.00, '部分完成'), "
        "('XF-2023-01', 2023, 'self', false, 30.00, 30.00, '全部完成')"
    )
    con.execute(
        "insert into marts.mart_acceptance_stages (grouping_level, department_name, category, "
        "fiscal_year, stage, stage_order, status_zh, planned_count, reached_count, "
        "reached_share) values "
        f"('department', '{JM_DEPT}', null, null, '初验', 6, '已初验', 265, 265, 1.000000), "
        f"('department', '{JM_DEPT}', null, null, '终验', 7, '已终验', 265, 201, 0.758491), "
        f"('department', '{JM_DEPT}', null, 2023, '终验', 7, '已终验', 59, 0, 0.000000), "
        f"('department', '{JM_DEPT}', null, 2022, '终验', 7, '已终验', 60, 60, 1.000000), "
        f"('category', '{JM_DEPT}', '政务服务', null, '终验', 7, '已终验', 10, 5, 0.500000)"
    )
    con.execute(
        "insert into marts._published_scores (publish_run_id, published_at, project_key, "
        "fiscal_year) values "
        "('manual__2024-04-01', '2024-04-01 02:10:00', 'JM-2023-01', 2023), "
        f"('{PUBLISH_RUN}', '2024-04-02 02:10:00', 'JM-2023-01', 2023)"
    )
