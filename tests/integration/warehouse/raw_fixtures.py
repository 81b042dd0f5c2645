"""A small, realistic raw dataset built from the seed documents' published figures.

原始层测试数据：取自五份样本文件公开的数字（江门、东莞、宜春、新丰）。Rows are written
with pandas DataFrames (Decimal columns) into a DuckDB file whose raw schema comes from
``src/jixiao/ingest/raw_schema.sql``. Amounts are yuan; 万元 figures are multiplied by 10000.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from jixiao.config import PROJECT_ROOT

RAW_SCHEMA_SQL = PROJECT_ROOT / "src" / "jixiao" / "ingest" / "raw_schema.sql"
WAN = Decimal(10000)
T0 = datetime(2024, 3, 1, 9, 0, 0)

JM_DEPT = "江门市政务服务数据管理局"
DG_DEPT = "东莞市政务服务数据管理局"
YC_DEPT = "宜春市大数据发展管理局"
XF_DEPT = "新丰县政务服务数据管理局"

# seed 000: six categories, project counts and paid amounts in 万元 (sum 50418.98, 265 projects)
JM_CATEGORIES: list[tuple[str, int, str]] = [
    ("基础设施", 38, "7228.19"),
    ("营商环境", 31, "5350.27"),
    ("政务服务", 20, "3451.72"),
    ("民生保障", 37, "2831.78"),
    ("社会治理", 55, "14777.15"),
    ("政府协同和部门管理", 84, "16779.87"),
]


def wan(text: str) -> Decimal:
    """万元 text to yuan (万元换算为元)."""
    return (Decimal(text) * WAN).quantize(Decimal("0.01"))


@dataclass
class RawFile:
    """One delivered workbook: lineage shared by its rows (一个报送文件)."""

    name: str
    layout: str
    loaded_at: datetime
    rows: int = 0

    @property
    def file_hash(self) -> str:
        return hashlib.sha256(f"{self.name}@{self.loaded_at.isoformat()}".encode()).hexdigest()


@dataclass
class RawData:
    """Accumulates raw rows per table, then writes them with pandas (原始数据构造器)."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def submission(self, f: RawFile, sheet: str, dept: str, key: str, name: str, year: int) -> str:
        sid = f"{f.file_hash}:{sheet}:{key}:{year}"
        self.tables["submissions"].append(
            dict(
                submission_id=sid,
                file_hash=f.file_hash,
                file_name=f.name,
                sheet_name=sheet,
                loaded_at=f.loaded_at,
                layout=f.layout,
                department_name=dept,
                project_key=key,
                project_name=name,
                fiscal_year=year,
            )
        )
        return sid

    def row(self, table: str, f: RawFile, sheet: str, sid: str | None, **values: Any) -> None:
        f.rows += 1
        self.tables[table].append(
            dict(
                file_hash=f.file_hash,
                file_name=f.name,
                sheet_name=sheet,
                row_number=f.rows + 1,
                loaded_at=f.loaded_at,
                submission_id=sid,
                **values,
            )
        )

    def write(self, db_path: Path) -> None:
        """Create the raw schema and insert every table (建表并写入)."""
        import duckdb

        db_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(db_path))
        try:
            con.execute(RAW_SCHEMA_SQL.read_text(encoding="utf-8"))
            for table, rows in self.tables.items():
                frame = pd.DataFrame(rows)
                con.register("frame", frame)
                con.execute(f"insert into raw.{table} by name select * from frame")
                con.unregister("frame")
        finally:
            con.close()


def _project(data: RawData, f: RawFile, sheet: str, sid: str | None, **values: Any) -> None:
    base = dict(
        project_code=None,
        category=None,
        implementing_unit=None,
        province=None,
        city=None,
        county=None,
        project_level=None,
        period_start_year=None,
        period_end_year=None,
        parent_project_key=None,
    )
    base.update(values)
    data.row("projects", f, sheet, sid, **base)


def _budget(
    data: RawData,
    f: RawFile,
    sid: str | None,
    key: str,
    year: int,
    line_type: str,
    amount: Decimal,
    unit: str = "万元",
    fund_source: str = "total",
    reason: str | None = None,
    sheet: str = "预算",
) -> None:
    data.row(
        "budget_lines",
        f,
        sheet,
        sid,
        project_key=key,
        fiscal_year=year,
        line_type=line_type,
        fund_source=fund_source,
        amount_yuan=amount,
        original_text=str(amount / WAN if unit == "万元" else amount),
        original_unit=unit,
        line_date=None,
        reason=reason,
    )


def _indicator(
    data: RawData,
    f: RawFile,
    sheet: str,
    sid: str,
    key: str,
    year: int,
    level1: str,
    level3: str,
    **values: Any,
) -> None:
    base: dict[str, Any] = dict(
        scheme_code=None,
        level1_weight=None,
        level2_name=None,
        level2_weight=None,
        weight=None,
        weight_rule_text=None,
        target_text=None,
        target_kind=None,
        target_direction=None,
        target_value=None,
        target_unit=None,
        actual_text=None,
        actual_kind=None,
        actual_value=None,
        actual_unit=None,
        reported_score=None,
        deviation_reason=None,
        scoring_rule_text=None,
    )
    base.update(values)
    data.row(
        "indicators",
        f,
        sheet,
        sid,
        project_key=key,
        fiscal_year=year,
        level1_name=level1,
        level3_name=level3,
        **base,
    )


def _evaluation(
    data: RawData,
    f: RawFile,
    sid: str | None,
    key: str,
    year: int,
    kind: str,
    level1: str | None,
    max_score: str | None,
    score: str,
    **values: Any,
) -> None:
    base: dict[str, Any] = dict(
        period_start_year=None, evaluator=None, scheme_code=None, grade=None, reported_rate=None
    )
    base.update(values)
    data.row(
        "evaluations",
        f,
        "评价结果",
        sid,
        project_key=key,
        fiscal_year=year,
        evaluation_type=kind,
        level1_name=level1,
        max_score=Decimal(max_score) if max_score else None,
        score=Decimal(score),
        **base,
    )


def jiangmen_special_fund(data: RawData) -> None:
    """seed 000: 2019-2022 special fund, 265 sub-projects in six categories, 支付率 97.61%."""
    f = RawFile("江门数字政府专项资金2019-2022台账.xlsx", "ledger", T0)
    key = "JM-SZZF-2019"
    sid = data.submission(f, "项目登记", JM_DEPT, key, "“数字政府”建设专项资金", 2022)
    _project(
        data,
        f,
        "项目登记",
        sid,
        project_key=key,
        project_code=key,
        project_name="“数字政府”建设专项资金",
        department_name=JM_DEPT,
        province="广东省",
        city="江门市",
        project_level="一级专项资金",
        period_start_year=2019,
        period_end_year=2022,
    )
    for year, initial, cut in [
        (2019, "10000", None),
        (2020, "12000", "1000"),
        (2021, "20000", None),
        (2022, "22000", "12000"),
    ]:
        _budget(data, f, None, key, year, "initial", wan(initial))
        if cut:
            _budget(data, f, None, key, year, "cut", wan(cut), reason="年中压减")
    n = 0
    for category, count, amount in JM_CATEGORIES:
        total_fen = int(wan(amount) * 100)
        base, extra = divmod(total_fen, count)
        for i in range(count):
            n += 1
            sub = f"{key}-{n:03d}"
            year = 2019 + n % 4
            _project(
                data,
                f,
                "项目登记",
                None,
                project_key=sub,
                project_code=sub,
                project_name=f"{category}子项目{i + 1}",
                category=category,
                department_name=JM_DEPT,
                province="广东省",
                city="江门市",
                parent_project_key=key,
            )
            paid = Decimal(base + (extra if i == 0 else 0)) / 100
            data.row(
                "payments",
                f,
                "支付",
                None,
                project_key=sub,
                fiscal_year=year,
                payment_date=date(year, 6, 30),
                amount_yuan=paid,
                original_text=str(paid / WAN),
                original_unit="万元",
                fund_source=None,
                payee=f"承建单位{n}",
                voucher_no=f"JM{year}-{n:04d}",
                summary=None,
                category=None,
            )
    _evaluation(
        data,
        f,
        sid,
        key,
        2022,
        "self",
        None,
        "100",
        "91",
        period_start_year=2019,
        grade="优",
        reported_rate=Decimal("0.9761"),
    )
    # the summary line under the payments: "实际安排资金 51000 万元，实际支付 50418.98 万元，支付率
    # 97.61%" (the amounts agree with the detail; the rate does not), and a 合计 row that a
    # clerk left one payment short of (a difference the reviewers must see)
    totals: list[tuple[str, Decimal | None, Decimal | None]] = [
        ("final", wan("51000"), None),
        ("paid", wan("50418.98"), None),
        ("pay_rate", None, Decimal("0.9761")),
        ("paid", wan("50400.00"), None),
    ]
    for measure, stated, rate in totals:
        data.row(
            "reported_totals",
            f,
            "支付",
            None,
            project_key=key,
            fiscal_year=2022,
            period_start_year=2019,
            source_table="payments",
            measure=measure,
            amount_yuan=stated,
            rate=rate,
            original_text="实际支付 50418.98 万元，支付率 97.61%",
            original_unit="万元" if stated is not None else "%",
        )


def jiangmen_scoring_table_2023(data: RawData) -> None:
    """seed 002: the 2023 指标评分表, total 98; 资金支出率 12 at 9044.14 / 9150."""
    f = RawFile("江门2023指标评分表.xlsx", "scoring_table", T0)
    key, year, sheet = "JM-SZZF-2023", 2023, "指标评分表"
    sid = data.submission(f, sheet, JM_DEPT, key, "“数字政府”建设专项资金", year)
    _project(
        data,
        f,
        sheet,
        sid,
        project_key=key,
        project_name="“数字政府”建设专项资金",
        department_name=JM_DEPT,
        province="广东省",
        city="江门市",
        project_level="一级专项资金",
        period_start_year=2023,
        period_end_year=2023,
    )
    _budget(data, f, sid, key, year, "final", wan("9150"), sheet=sheet)
    _budget(data, f, sid, key, year, "allocated", wan("9150"), sheet=sheet)
    _budget(data, f, sid, key, year, "executed", wan("8967.19"), sheet=sheet)
    _budget(data, f, sid, key, year, "executed", wan("76.95"), sheet=sheet)
    common = dict(level1_weight=Decimal(20))
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "决策",
        "资金支出率",
        level2_name="资金管理",
        level2_weight=Decimal(12),
        weight=Decimal(12),
        reported_score=Decimal(12),
        **common,
    )
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "决策",
        "监管有效性",
        level2_name="事项管理",
        level2_weight=Decimal(8),
        weight=Decimal(8),
        reported_score=Decimal(6),
        deviation_reason="年度进行了二次资金调整",
        **common,
    )
    outputs = [
        ("数量指标", "视频终端接入数量（万路）", "2.8", "4.7", "="),
        ("数量指标", "感知终端接入数量（万路）", "0.2", "0.7", "="),
        ("数量指标", "政务云资源算力规模（万核）", "3.9", "4.577", "="),
        ("数量指标", "“粤政图”平台地图产品数（个）", "19", "32", "="),
        ("数量指标", "粤省事日活跃用户数（万名）", "2.5", "2.84", ">="),
        ("数量指标", "粤商通月活跃用户数（万名）", "5", "7.78", ">="),
        ("数量指标", "粤政易日活跃用户数（万名）", "7", "8.5", ">="),
        ("数量指标", "“一件事”主题集成服务数量（件）", "200", "210", "="),
        ("数量指标", "“一网统管”专题接入数（个）", "16", "17", "="),
        ("数量指标", "公共数据资源社会开放数据集（个）", "1330", "5453", "="),
        ("质量指标", "政务外网接入率（%）", "100", "100", "="),
        ("质量指标", "一体化政务服务平台可网办事项单点登录率（%）", "100", "100", "="),
        ("质量指标", "行政许可事项全程网办率（%）", "95", "96.54", ">="),
        ("质量指标", "政务服务一体机镇街覆盖率（%）", "100", "100", "="),
        ("质量指标", "政府部门电子印章覆盖率（%）", "100", "100", "="),
        ("质量指标", "电子证照用证安全率（%）", "90", "100", ">="),
        ("时效指标", "共享数据平均审核时长（小时）", "4", "1.58", "<="),
    ]
    # ingest writes "=" for a plain number target and ">=" / "<=" for ≥ / ≤
    for level2, name, target, actual, direction in outputs:
        _indicator(
            data,
            f,
            sheet,
            sid,
            key,
            year,
            "产出",
            name,
            level1_weight=Decimal(40),
            level2_name=level2,
            weight_rule_text="各项指标权重=40/指标总数",
            target_text={">=": "≥", "<=": "≤"}.get(direction, "") + target,
            target_kind="quantitative",
            target_direction=direction,
            target_value=Decimal(target),
            actual_text=actual,
            actual_value=Decimal(actual),
        )
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "效益",
        "推进电子证照扩大应用领域和全国互通互认，深化“放管服”改革和优化营商环境。",
        level1_weight=Decimal(40),
        level2_name="社会效益指标",
        weight_rule_text="各项指标权重=40/指标总数",
        target_text="逐步提升",
        target_kind="qualitative",
        actual_text="逐步提升",
    )
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "效益",
        "实现可网办事项单点登录，优化公众办事流程。（是/否）",
        level1_weight=Decimal(40),
        level2_name="社会效益指标",
        target_text="是",
        target_kind="yes_no",
        actual_text="是",
    )
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "效益",
        "政务服务用户满意度(%)",
        level1_weight=Decimal(40),
        level2_name="满意度指标",
        target_text="≥85",
        target_kind="quantitative",
        target_direction=">=",
        target_value=Decimal(85),
        actual_text="100",
        actual_value=Decimal(100),
    )
    _evaluation(data, f, sid, key, year, "self", None, "100", "98")


def dongguan_third_party(data: RawData) -> None:
    """seed 001: third-party scores 14.00/15.92/23.88/23.40 = 77.20 中; 75 sub-project rates."""
    f = RawFile("东莞数字政府建设项目评价2019-2021.xlsx", "ledger", T0)
    key = "DG-SZZF-2019"
    sid = data.submission(f, "评价结果", DG_DEPT, key, "东莞市数字政府建设项目", 2021)
    _project(
        data,
        f,
        "项目登记",
        sid,
        project_key=key,
        project_name="东莞市数字政府建设项目",
        department_name=DG_DEPT,
        province="广东省",
        city="东莞市",
        period_start_year=2019,
        period_end_year=2021,
    )
    for level1, max_score, score in [
        ("决策", "20", "14.00"),
        ("过程", "20", "15.92"),
        ("产出", "30", "23.88"),
        ("效益", "30", "23.40"),
    ]:
        _evaluation(
            data,
            f,
            sid,
            key,
            2021,
            "third_party",
            level1,
            max_score,
            score,
            period_start_year=2019,
            evaluator="第三方评价机构",
            scheme_code="four_dimension_2020",
        )
    _evaluation(
        data,
        f,
        sid,
        key,
        2021,
        "third_party",
        None,
        "100",
        "77.20",
        period_start_year=2019,
        evaluator="第三方评价机构",
        grade="中",
        scheme_code="four_dimension_2020",
    )
    # 75 sub-projects: 80-90%: 30, 60-80%: 8, below 60%: 35, no funds allocated: 2
    rates = [("0.85", 30), ("0.70", 8), ("0.40", 35), (None, 2)]
    n = 0
    for rate, count in rates:
        for _ in range(count):
            n += 1
            sub = f"{key}-{n:02d}"
            _project(
                data,
                f,
                "项目登记",
                None,
                project_key=sub,
                project_name=f"子项目{n}",
                department_name=DG_DEPT,
                province="广东省",
                city="东莞市",
                parent_project_key=key,
            )
            if rate is None:
                _budget(data, f, None, sub, 2021, "allocated", Decimal("0.00"))
                continue
            _budget(data, f, None, sub, 2021, "allocated", wan("100"))
            _budget(data, f, None, sub, 2021, "executed", wan("100") * Decimal(rate))


def yichun_operations(data: RawData) -> None:
    """seed 003: 219.91 万元 allocated and spent, scheme 资金10/产出60/效益25/满意度5, 100 优."""
    f = RawFile("宜春电子政务外网运维2022.xlsx", "ledger", T0)
    key, year = "YC-DZZW-2022", 2022
    sid = data.submission(f, "评价结果", YC_DEPT, key, "电子政务外网及智慧办公平台运维", year)
    _project(
        data,
        f,
        "项目登记",
        sid,
        project_key=key,
        project_name="电子政务外网及智慧办公平台运维",
        category="运维",
        department_name=YC_DEPT,
        province="江西省",
        city="宜春市",
        period_start_year=2022,
        period_end_year=2022,
    )
    for line in ("final", "allocated", "executed"):
        _budget(data, f, sid, key, year, line, wan("219.91"))
    scheme = dict(scheme_code="fund_output_benefit_satisfaction")
    _indicator(
        data,
        f,
        "指标",
        sid,
        key,
        year,
        "资金",
        "预算执行率",
        weight=Decimal(10),
        level1_weight=Decimal(10),
        reported_score=Decimal(10),
        **scheme,
    )
    _indicator(
        data,
        f,
        "指标",
        sid,
        key,
        year,
        "产出",
        "运维服务覆盖率",
        weight=Decimal(60),
        level1_weight=Decimal(60),
        target_kind="quantitative",
        target_direction=">=",
        target_value=Decimal(100),
        actual_value=Decimal(100),
        reported_score=Decimal(60),
        **scheme,
    )
    _indicator(
        data,
        f,
        "指标",
        sid,
        key,
        year,
        "效益",
        "网络安全稳定运行",
        weight=Decimal(25),
        level1_weight=Decimal(25),
        target_kind="yes_no",
        target_text="是",
        actual_text="是",
        reported_score=Decimal(25),
        **scheme,
    )
    _indicator(
        data,
        f,
        "指标",
        sid,
        key,
        year,
        "满意度",
        "使用单位满意度",
        weight=Decimal(5),
        level1_weight=Decimal(5),
        target_kind="quantitative",
        target_direction=">=",
        target_value=Decimal(90),
        actual_value=Decimal(95),
        reported_score=Decimal(5),
        **scheme,
    )


XINFENG = [
    # key, name, initial, final, spent (元)
    ("XF-2023-01", "政务服务建设推广", "30000", "27000", "22516"),
    ("XF-2023-02", "政务系统管理", "110000", "99000", "57790"),
    ("XF-2023-03", "电子政务外网网络管理", "320000", "320000", "318472"),
]


def _selfeval_form(
    data: RawData, f: RawFile, key: str, name: str, initial: str, final: str, spent: str | None
) -> None:
    year, sheet = 2023, name
    sid = data.submission(f, sheet, XF_DEPT, key, name, year)
    _project(
        data,
        f,
        sheet,
        sid,
        project_key=key,
        project_name=name,
        department_name=XF_DEPT,
        province="广东省",
        city="韶关市",
        county="新丰县",
        period_start_year=2023,
        period_end_year=2023,
    )
    rate = None if spent is None else (Decimal(spent) / Decimal(final)).quantize(Decimal("0.0001"))
    data.row(
        "funding_reported",
        f,
        sheet,
        sid,
        project_key=key,
        fiscal_year=year,
        fund_source="total",
        initial_budget_yuan=Decimal(initial),
        final_budget_yuan=Decimal(final),
        executed_yuan=None if spent is None else Decimal(spent),
        original_unit="元",
        weight=Decimal(10),
        reported_rate=rate,
        reported_score=Decimal(10),
    )
    groups = [
        ("产出", "完成年度工作任务", 50),
        ("效益", "提升政务服务效能", 30),
        ("满意度", "服务对象满意度", 10),
    ]
    for level1, level3, weight in groups:
        _indicator(
            data,
            f,
            sheet,
            sid,
            key,
            year,
            level1,
            level3,
            weight=Decimal(weight),
            level1_weight=Decimal(weight),
            target_kind="quantitative",
            target_direction=">=",
            target_value=Decimal(100),
            actual_value=Decimal(100),
            reported_score=Decimal(weight),
        )
    _evaluation(data, f, sid, key, year, "self", None, "100", "100", grade="优")


def xinfeng_selfevals(data: RawData) -> None:
    """seed 004: three 2023 self-evaluations in 元, each self-scored 100.

    The first project is delivered twice: an earlier file (spent 20000) is superseded by a
    later one (spent 22516). Project 2's spending is given as two dated payments.
    """
    early = RawFile("新丰县2023自评表_初稿.xlsx", "selfeval_form", T0)
    _selfeval_form(data, early, *XINFENG[0][:4], "20000")
    late = RawFile("新丰县2023自评表.xlsx", "selfeval_form", T0 + timedelta(days=3))
    for key, name, initial, final, spent in XINFENG:
        _selfeval_form(data, late, key, name, initial, final, spent)
    for day, amount in [(date(2023, 11, 20), "30000"), (date(2023, 12, 20), "27790")]:
        data.row(
            "payments",
            late,
            "支付",
            None,
            project_key="XF-2023-02",
            fiscal_year=2023,
            payment_date=day,
            amount_yuan=Decimal(amount),
            original_text=amount,
            original_unit="元",
            fund_source="current_appropriation",
            payee="软件服务商",
            voucher_no=None,
            summary="系统运维费",
            category=None,
        )


def review_cases(data: RawData) -> None:
    """A synthetic self-evaluation with the mistakes evaluators look for (复核样例).

    Weights sum to 95; a qualitative indicator reported as 部分达成 scores 9.5 of 10 (above the
    60-80% tier); an indicator scored below its weight gives no deviation reason.
    """
    f = RawFile("复核样例2023自评表.xlsx", "selfeval_form", T0)
    key, year, sheet = "REVIEW-2023", 2023, "复核样例"
    sid = data.submission(f, sheet, XF_DEPT, key, "复核样例项目", year)
    _project(
        data,
        f,
        sheet,
        sid,
        project_key=key,
        project_name="复核样例项目",
        department_name=XF_DEPT,
        province="广东省",
        city="韶关市",
        county="新丰县",
    )
    _budget(data, f, sid, key, year, "final", Decimal("50000.00"), unit="元", sheet=sheet)
    _budget(data, f, sid, key, year, "executed", Decimal("50000.00"), unit="元", sheet=sheet)
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "产出",
        "培训场次",
        weight=Decimal(45),
        level1_weight=Decimal(45),
        target_kind="quantitative",
        target_direction=">=",
        target_value=Decimal(10),
        actual_value=Decimal(8),
        reported_score=Decimal(40),
    )
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "效益",
        "群众办事便利度",
        weight=Decimal(10),
        level1_weight=Decimal(40),
        target_text="逐步提升",
        target_kind="qualitative",
        actual_text="部分达成",
        reported_score=Decimal("9.5"),
        deviation_reason="部分街道尚未覆盖",
    )
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "效益",
        "系统可用率",
        weight=Decimal(30),
        level1_weight=Decimal(40),
        target_kind="quantitative",
        target_direction=">=",
        target_value=Decimal(99),
        actual_value=Decimal(99),
        reported_score=Decimal(30),
    )
    _indicator(
        data,
        f,
        sheet,
        sid,
        key,
        year,
        "满意度",
        "服务对象满意度",
        weight=Decimal(10),
        level1_weight=Decimal(10),
        target_kind="quantitative",
        target_direction=">=",
        target_value=Decimal(90),
        actual_value=Decimal(92),
        reported_score=Decimal(10),
    )


def realistic_raw_data() -> RawData:
    """All five documents' projects (五份文件的项目)."""
    data = RawData()
    jiangmen_special_fund(data)
    jiangmen_scoring_table_2023(data)
    dongguan_third_party(data)
    yichun_operations(data)
    xinfeng_selfevals(data)
    review_cases(data)
    return data
