"""Seeded synthetic submissions in every accepted layout (合成数据生成器).

:func:`generate` writes, per department, a ledger workbook (项目登记/预算/支付/评价结果/里程碑),
a 项目支出绩效自评表 workbook (the even-numbered projects, one sheet each) and, when there are
odd-numbered projects, a 指标评分表 workbook for them, plus ``broken`` deliberately bad files
(cycling through :mod:`jixiao.samples.bad_inputs`). The same arguments give the same bytes.

Each project's figures are consistent across layouts: the ledger's budget and payments equal
the form's funding block, and reported indicator scores sum to the reported total.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from random import Random
from typing import Literal

from jixiao.samples import bad_inputs
from jixiao.samples._xlsx import fullwidth, percent_text, seeded, with_thousands
from jixiao.samples.forms import (
    FundingRow,
    Indicator,
    ScoringIndicator,
    ScoringLevel1,
    ScoringLevel2,
    ScoringTable,
    SelfEvalProject,
    write_scoring_table,
    write_selfeval_form,
)
from jixiao.samples.ledger import Ledger, LedgerSheet, write_ledger
from jixiao.samples.money import WAN, split_fen

REGIONS = [
    ("广东省", "广州市", "越秀区"),
    ("广东省", "韶关市", "新丰县"),
    ("广东省", "江门市", "台山市"),
    ("广东省", "东莞市", None),
    ("广东省", "佛山市", "南海区"),
    ("广东省", "梅州市", "兴宁市"),
    ("江西省", "宜春市", "袁州区"),
    ("江西省", "赣州市", "于都县"),
    ("湖南省", "株洲市", None),
]
DEPT_TYPES = [
    "政务服务数据管理局",
    "大数据发展管理局",
    "财政局",
    "教育局",
    "卫生健康局",
    "交通运输局",
    "自然资源局",
    "民政局",
]
CATEGORIES = ["基础设施", "营商环境", "政务服务", "民生保障", "社会治理", "政府协同和部门管理"]
PROJECT_BASES = [
    "电子政务外网运维",
    "政务云租赁",
    "一体化政务服务平台",
    "智慧办公平台",
    "数据共享交换平台",
    "网络安全等级保护",
    "视频会议系统运维",
    "电子证照应用推广",
    "12345热线运营",
    "信创终端替代",
    "档案数字化",
    "智慧校园建设",
]
#: scheme -> ordered (一级指标, weight); "资金" (budget execution) goes to the funding block.
SCHEMES: dict[str, list[tuple[str, int]]] = {
    "mof_2020_selfeval": [("资金", 10), ("产出指标", 50), ("效益指标", 30), ("满意度指标", 10)],
    "yichun_2022": [("资金", 10), ("产出指标", 60), ("效益指标", 25), ("满意度指标", 5)],
    "provincial_2023": [("决策", 20), ("产出", 40), ("效益", 40)],
}
LEVEL2 = {
    "产出指标": ["数量指标", "质量指标", "时效指标", "成本指标"],
    "产出": ["数量指标", "质量指标", "时效指标"],
    "效益指标": ["社会效益指标", "经济效益指标", "可持续影响指标"],
    "效益": ["社会效益指标", "满意度指标"],
    "满意度指标": ["服务对象满意度指标"],
    "决策": ["资金管理", "事项管理"],
}
#: indicator templates: (name, kind, target text template, unit)
TEMPLATES = [
    ("接入单位数（个）", ">=", "{n}"),
    ("系统正常运行率", ">=%", "{p}%"),
    ("故障响应时间（小时）", "<=", "{h}小时"),
    ("培训人次（人次）", ">=", "{n}"),
    ("是否按期完成验收", "yes", "是"),
    ("服务能力", "qual", "逐步提升"),
    ("用户满意度（%）", ">=%", "{p}%"),
    ("数据归集量（万条）", ">=", "{n}"),
]
MONTH_WEIGHTS = [1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 7, 10]


@dataclass
class SynthProject:
    """One synthetic project and its figures (合成项目)."""

    code: str
    name: str
    category: str
    year: int
    unit: str
    initial_yuan: Decimal
    final_yuan: Decimal
    spent_yuan: Decimal
    scheme: str
    indicators: list[Indicator] = field(default_factory=list)
    total_score: Decimal = Decimal(0)
    payments: list[tuple[date, Decimal]] = field(default_factory=list)


def generate(
    dest: Path,
    departments: int = 3,
    projects_per_department: int = 4,
    indicators_per_project: int = 8,
    payments_per_project: int = 12,
    seed: int = 0,
    broken: int = 0,
) -> list[Path]:
    """Write synthetic submissions into ``dest`` and return their paths (生成合成报送文件)."""
    if indicators_per_project < 4:
        raise ValueError("indicators_per_project must be at least 4 (one per 一级指标)")
    dest.mkdir(parents=True, exist_ok=True)
    rng = seeded(seed)
    paths: list[Path] = []
    for d in range(1, departments + 1):
        paths += _department(
            dest,
            rng,
            seed,
            d,
            projects_per_department,
            indicators_per_project,
            payments_per_project,
        )
    paths += _broken(dest, broken)
    return paths


# ------------------------------------------------------------------ one department
def _department(
    dest: Path, rng: Random, seed: int, d: int, n_projects: int, n_indicators: int, n_payments: int
) -> list[Path]:
    province, city, county = REGIONS[(d - 1) % len(REGIONS)]
    dept = f"{county or city}{DEPT_TYPES[(d - 1) % len(DEPT_TYPES)]}"
    if d > len(REGIONS):
        dept = f"{dept}（第{d}组）"
    year = 2021 + d % 4
    unit = rng.choice(["万元", "元"])
    projects = [
        _project(rng, seed, d, p, year, unit, n_indicators, n_payments)
        for p in range(1, n_projects + 1)
    ]
    stem = f"S{seed}-{d:03d}_{dept}_{year}"
    out = [
        write_ledger(
            dest / f"{stem}_台账.xlsx", _ledger(rng, dept, (province, city, county), projects)
        )
    ]
    forms = [p for i, p in enumerate(projects) if i % 2 == 0]
    tables = [p for i, p in enumerate(projects) if i % 2 == 1]
    if forms:
        out.append(
            write_selfeval_form(
                dest / f"{stem}_项目支出绩效自评表.xlsx",
                [_selfeval(rng, dept, (province, city, county), p) for p in forms],
            )
        )
    if tables:
        out.append(
            write_scoring_table(
                dest / f"{stem}_指标评分表.xlsx", [_scoring(rng, dept, p) for p in tables]
            )
        )
    return out


def _money(rng: Random, unit: str) -> Decimal:
    """A budget in yuan; whole 0.01 万元 when the department works in 万元."""
    wan = Decimal(rng.randint(500, 800_000)) / 100
    return wan * WAN if unit == "万元" else Decimal(rng.randint(5_000, 3_000_000))


def _project(
    rng: Random, seed: int, d: int, p: int, year: int, unit: str, n_ind: int, n_pay: int
) -> SynthProject:
    initial = _money(rng, unit)
    step = Decimal(100) if unit == "万元" else Decimal("0.01")  # 0.01 万元 or one fen
    final = (
        initial
        if rng.random() < 0.6
        else _round_to(initial * Decimal(rng.choice(["0.9", "0.8", "1.1", "0.5"])), step)
    )
    spent = _round_to(final * Decimal(rng.randint(40, 100)) / 100, step)
    scheme = "provincial_2023" if p % 2 == 0 else rng.choice(["mof_2020_selfeval", "yichun_2022"])
    proj = SynthProject(
        code=f"S{seed}-D{d:03d}-P{p:03d}",
        name=f"{PROJECT_BASES[(d + p) % len(PROJECT_BASES)]}项目（{p}）",
        category=CATEGORIES[(d + p) % len(CATEGORIES)],
        year=year,
        unit=unit,
        initial_yuan=initial,
        final_yuan=final,
        spent_yuan=spent,
        scheme=scheme,
    )
    proj.payments = _payments(rng, year, spent, n_pay, Decimal(100) if unit == "万元" else None)
    proj.indicators = _indicators(rng, scheme, n_ind)
    funding_score = _funding_score(proj) if SCHEMES[scheme][0][0] == "资金" else Decimal(0)
    proj.total_score = funding_score + sum(
        (Decimal(str(i.score)) for i in proj.indicators), Decimal(0)
    )
    return proj


def _round_to(amount: Decimal, step: Decimal) -> Decimal:
    """Round half-up to a multiple of ``step`` yuan, kept to the fen (按单位取整)."""
    return ((amount / step).quantize(Decimal(1), ROUND_HALF_UP) * step).quantize(Decimal("0.01"))


def _funding_score(p: SynthProject) -> Decimal:
    rate = min(Decimal(1), p.spent_yuan / p.final_yuan)
    return (rate * 10).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _payments(
    rng: Random, year: int, spent: Decimal, n: int, step: Decimal | None = None
) -> list[tuple[date, Decimal]]:
    """``n`` dated payments summing exactly to ``spent``; whole ``step`` yuan when given."""
    if spent <= 0 or n <= 0:
        return []
    scale = (step or Decimal("0.01")) * 100
    n = min(n, int(spent * 100 / scale))
    months = sorted(rng.choices(range(1, 13), weights=MONTH_WEIGHTS, k=n))
    parts = [
        (x * scale).quantize(Decimal("0.01"))
        for x in split_fen(spent / scale, [rng.randint(1, 9) for _ in range(n)])
    ]
    return [(date(year, m, rng.randint(1, 28)), a) for m, a in zip(months, parts, strict=True)]


def _split_int(total: int, n: int) -> list[int]:
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def _indicators(rng: Random, scheme: str, n: int) -> list[Indicator]:
    groups = [(name, w) for name, w in SCHEMES[scheme] if name != "资金"]
    counts = _split_int(n, len(groups))
    out: list[Indicator] = []
    for (level1, weight), count in zip(groups, counts, strict=True):
        for i, w in enumerate(_split_int(weight, count)):
            level2 = LEVEL2[level1][i % len(LEVEL2[level1])]
            out.append(_indicator(rng, level1, level2, i, w))
    out.sort(key=lambda x: (SCHEMES_ORDER[x.level1], LEVEL2[x.level1].index(x.level2)))
    return out


SCHEMES_ORDER = {
    name: i for i, name in enumerate(["决策", "产出指标", "产出", "效益指标", "效益", "满意度指标"])
}


def _indicator(rng: Random, level1: str, level2: str, i: int, weight: int) -> Indicator:
    name, kind, tmpl = TEMPLATES[rng.randrange(len(TEMPLATES))]
    if level2.startswith("服务对象满意度") or level2 == "满意度指标":
        name, kind, tmpl = "服务对象满意度（%）", ">=%", "{p}%"
    n, pct, hours = rng.randint(10, 2000), rng.choice([85, 90, 95, 98, 100]), rng.randint(1, 8)
    w = Decimal(weight)
    if kind == ">=":
        actual_n = int(n * rng.choice([0.7, 0.9, 1, 1.1, 1.5]))
        target, actual = f"≥{n}", with_thousands(Decimal(actual_n))[:-3]
        score = min(w, w * Decimal(actual_n) / n)
    elif kind == ">=%":
        a = min(100, pct + rng.randint(-5, 3))
        target, actual = f"≥{pct}%", f"{a}%"
        score = min(w, w * Decimal(a) / pct)
    elif kind == "<=":
        a = hours + rng.choice([-1, 0, 0, 1])
        target, actual = f"≤{hours}小时", f"{max(a, 0)}小时"
        score = w if a <= hours else w * Decimal(hours) / Decimal(a)
    elif kind == "yes":
        done = rng.random() < 0.9
        target, actual, score = "是", "是" if done else "否", w if done else Decimal(0)
    else:
        target, actual = tmpl, rng.choice(["逐步提升", "明显提升", "部分提升"])
        score = w * Decimal(rng.choice(["1", "0.9", "0.8", "0.7"]))
    score = score.quantize(Decimal("0.01"), ROUND_HALF_UP)
    if rng.random() < 0.1:
        target = fullwidth(target)
    label = f"{name}" if i == 0 else f"{name}（{i + 1}）"
    reason = None if score == w else "部分指标未达预期，下年度加强管理"
    return Indicator(level1, level2, label, target, actual, w, score, reason)


# ------------------------------------------------------------------ layouts
def _amount(p: SynthProject, yuan: Decimal) -> Decimal:
    return yuan / WAN if p.unit == "万元" else yuan


def _ledger(
    rng: Random, dept: str, region: tuple[str, str, str | None], projects: list[SynthProject]
) -> Ledger:
    unit_in: Literal["header", "caption"] = rng.choice(["header", "caption"])
    headers = {"amount": rng.choice(["支付金额{unit}", "金额{unit}", "实际支出{unit}"])}
    if unit_in == "header" and projects[0].unit == "元" and rng.random() < 0.3:
        headers = {"amount": "amount_yuan"}
    register: list[dict[str, object]] = [
        {
            "project_code": p.code,
            "project_name": p.name,
            "category": p.category,
            "department": dept,
            "implementing_unit": dept,
            "province": region[0],
            "city": region[1],
            "county": region[2],
            "project_level": "部门项目",
            "start_year": p.year,
            "end_year": p.year,
        }
        for p in projects
    ]
    budget: list[dict[str, object]] = []
    payments: list[dict[str, object]] = []
    evaluations: list[dict[str, object]] = []
    milestones: list[dict[str, object]] = []
    for p in projects:
        budget.append(_budget_row(p, "年初预算", p.initial_yuan, date(p.year, 1, 10)))
        if p.final_yuan != p.initial_yuan:
            kind = "追加" if p.final_yuan > p.initial_yuan else "调减"
            budget.append(
                _budget_row(p, kind, abs(p.final_yuan - p.initial_yuan), date(p.year, 7, 1))
            )
        for k, (day, amt) in enumerate(p.payments, start=1):
            value: object = _amount(p, amt)
            if rng.random() < 0.05:
                value = with_thousands(amt) if p.unit == "元" else str(value)
            payments.append(
                {
                    "project_code": p.code,
                    "year": p.year,
                    "payment_date": day,
                    "amount": value,
                    "fund_source": "当年财政拨款",
                    "payee": f"供应商{rng.randint(1, 40):02d}有限公司",
                    "voucher_no": f"{p.code}-{k:04d}",
                    "summary": f"支付{p.name}款项",
                    "category": p.category,
                }
            )
        evaluations.append(
            {
                "project_code": p.code,
                "period": str(p.year),
                "evaluation_type": "单位自评",
                "evaluator": dept,
                "scheme": p.scheme,
                "level1": "合计",
                "max_score": 100,
                "score": p.total_score,
                "grade": _grade(p.total_score),
                "reported_rate": percent_text(min(Decimal(1), p.spent_yuan / p.final_yuan)),
            }
        )
        if rng.random() < 0.5:
            planned = rng.randint(2, 20)
            milestones.append(
                {
                    "project_code": p.code,
                    "year": p.year,
                    "stage": "终验",
                    "planned": planned,
                    "actual": rng.randint(0, planned),
                }
            )
    sheets = [
        LedgerSheet("projects", register),
        LedgerSheet("budget_lines", budget, unit=projects[0].unit, unit_in=unit_in),
        LedgerSheet(
            "payments",
            payments,
            unit=projects[0].unit,
            unit_in=unit_in,
            headers=headers,
            blank_rows_after_header=rng.choice([0, 0, 1]),
        ),
        LedgerSheet("evaluations", evaluations),
    ]
    if milestones:
        sheets.append(LedgerSheet("milestones", milestones))
    return Ledger(sheets, instructions=rng.random() < 0.5)


def _budget_row(p: SynthProject, kind: str, yuan: Decimal, day: date) -> dict[str, object]:
    return {
        "project_code": p.code,
        "year": p.year,
        "line_type": kind,
        "fund_source": "当年财政拨款",
        "amount": _amount(p, yuan),
        "date": day,
        "reason": "年初安排" if kind == "年初预算" else "年中预算调整",
    }


def _grade(score: Decimal) -> str:
    if score >= 90:
        return "优"
    if score >= 80:
        return "良"
    return "中" if score >= 60 else "差"


def _selfeval(
    rng: Random, dept: str, region: tuple[str, str, str | None], p: SynthProject
) -> SelfEvalProject:
    has_funding_weight = SCHEMES[p.scheme][0][0] == "资金"
    rate = min(Decimal(1), p.spent_yuan / p.final_yuan).quantize(Decimal("0.0001"))
    fscore = _funding_score(p) if has_funding_weight else None
    init, final, spent = (_amount(p, x) for x in (p.initial_yuan, p.final_yuan, p.spent_yuan))
    return SelfEvalProject(
        sheet_name=p.code,
        year=p.year,
        project_name=p.name,
        department=dept,
        implementing_unit=dept,
        project_code=p.code,
        category=p.category,
        region="/".join(x for x in region if x),
        unit=p.unit,
        funding=[
            FundingRow(
                "年度资金总额",
                init,
                final,
                spent,
                10 if has_funding_weight else None,
                rate if rng.random() < 0.7 else percent_text(rate),
                fscore,
            ),
            FundingRow("其中：当年财政拨款", init, final, spent),
            FundingRow("上年结转资金", None, None, None),
            FundingRow("其他资金", None, None, None),
        ],
        indicators=p.indicators,
        total_score=p.total_score,
        total_weight=100,
        left_label=rng.random() < 0.7,
        blank_row_before_table=rng.random() < 0.5,
        notes=["注：本表由系统生成的合成数据。"] if rng.random() < 0.5 else [],
    )


def _scoring(rng: Random, dept: str, p: SynthProject) -> ScoringTable:
    levels: list[ScoringLevel1] = []
    for level1, weight in SCHEMES[p.scheme]:
        if level1 == "资金":
            continue
        inds = [i for i in p.indicators if i.level1 == level1]
        groups: list[ScoringLevel2] = []
        for i in inds:
            if not groups or groups[-1].name != i.level2:
                groups.append(ScoringLevel2(i.level2, Decimal(0), []))
            groups[-1].weight = Decimal(str(groups[-1].weight)) + Decimal(str(i.weight))
            groups[-1].indicators.append(
                ScoringIndicator(i.level3, i.weight, i.target, i.actual, i.score, i.reason)
            )
        level = ScoringLevel1(level1, weight, groups)
        if level1 == "产出" and rng.random() < 0.4:
            # seed 002 style: weights by rule, one merged score for the whole block
            level.weight_rule = f"各项指标权重={weight}/指标总数"
            level.block_score = sum((Decimal(str(i.score)) for i in inds), Decimal(0))
            level.block_reason = "已达标" if level.block_score == weight else "部分未达标"
        levels.append(level)
    spent = _amount(p, p.spent_yuan)
    return ScoringTable(
        sheet_name=p.code,
        filler=dept,
        project_name=p.name,
        year=p.year,
        eval_amount=_amount(p, p.final_yuan),
        planned=_amount(p, p.final_yuan),
        allocated_local=_amount(p, p.final_yuan),
        allocated_transfer="/",
        spent_local=spent,
        spent_transfer="/",
        levels=levels,
        total_score=p.total_score,
        unit=p.unit,
        project_level="部门项目",
        header_in_one_cell=rng.random() < 0.5,
        caption_row=rng.random() < 0.5,
        attachment_label=rng.choice(["附件2", None]),
    )


# ------------------------------------------------------------------ broken files
def _broken(dest: Path, count: int) -> list[Path]:
    names = list(bad_inputs.WRITERS)
    out: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            kind = names[i % len(names)]
            src = bad_inputs.WRITERS[kind](Path(tmp))
            target = dest / f"broken_{i + 1:03d}_{kind}{src.suffix}"
            shutil.move(src, target)
            out.append(target)
    return out
