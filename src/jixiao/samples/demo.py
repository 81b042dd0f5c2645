"""The demo inbox: sample submissions built from the seed documents' real figures (演示数据).

:func:`build_demo_inbox` writes five workbooks:

- Jiangmen 2019-2022 ledger (江门 数字政府专项资金台账): yearly budgets with mid-year cuts
  (arranged 51000 万元), 265 sub-projects in six categories, dated payments in 元 that sum
  EXACTLY to each category's published amount (total 50418.98 万元), self-evaluation 91 优
  with the printed 支付率 97.61%.
- Jiangmen 2023 指标评分表 (seed 002, total 98).
- Dongguan 2019-2021 ledger (东莞 数字政府建设项目): budget 80692.06 万元, 75 sub-projects
  whose spending rates fall in the published buckets (80-90%: 30, 60-80%: 8, <60%: 35,
  no funds: 2) and whose payments sum to 79420.32 万元, third-party scores (77.20 中) and
  milestones.
- Yichun 2022 自评表 in 万元 (219.91, weights 资金10/产出60/效益25/满意度5, score 100).
- Xinfeng 2023 自评表 in 元, three projects on three sheets, each self-scored 100.

Sub-project amounts, names and dates are invented deterministically (fixed seeds) around the
published totals; everything published is reproduced exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from random import Random
from typing import Any

from jixiao.samples._xlsx import fullwidth, seeded, with_thousands
from jixiao.samples.forms import (
    FundingRow,
    Indicator,
    SelfEvalProject,
    write_scoring_table,
    write_selfeval_form,
)
from jixiao.samples.ledger import Ledger, LedgerSheet, write_ledger
from jixiao.samples.money import WAN, split_fen, wan_to_yuan
from jixiao.samples.seed002 import jiangmen_2023_scoring_table

# ------------------------------------------------------------------ published figures (seeds)
JM_DEPARTMENT = "江门市政务服务数据管理局"
JM_CODE = "JM-SZZF"
JM_NAME = "“数字政府”建设专项资金"
#: year -> (年初预算 万元, 年中压减 万元)          (seed 000)
JM_BUDGETS: dict[int, tuple[D, D]] = {
    2019: (D(10000), D(0)),
    2020: (D(12000), D(1000)),
    2021: (D(20000), D(0)),
    2022: (D(22000), D(12000)),
}
#: category -> (sub-project count, paid 万元)        (seed 000)
JM_CATEGORIES: dict[str, tuple[int, D]] = {
    "基础设施": (38, D("7228.19")),
    "营商环境": (31, D("5350.27")),
    "政务服务": (20, D("3451.72")),
    "民生保障": (37, D("2831.78")),
    "社会治理": (55, D("14777.15")),
    "政府协同和部门管理": (84, D("16779.87")),
}
JM_REPORTED_PAY_RATE = "97.61%"
#: seed 000: 201 of the 265 sub-projects 已终验 (final acceptance)
JM_FINAL_ACCEPTED = 201

DG_DEPARTMENT = "东莞市政务服务数据管理局"
DG_CODE = "DG-SZZF"
DG_NAME = "2019-2021年度东莞市数字政府建设项目"
DG_BUDGET_WAN = D("80692.06")
DG_SPENT_WAN = D("79420.32")
DG_APPROVED_WAN = D("122071.99")  # 立项批复金额合计: the sub-projects' budgets
#: bucket -> count of sub-projects (seed 001); "none" = no funds allocated
DG_BUCKETS = {"80-90": 30, "60-80": 8, "<60": 35, "none": 2}
DG_SCORES = [
    ("决策", 20, D("14.00")),
    ("过程", 20, D("15.92")),
    ("产出", 30, D("23.88")),
    ("效益", 30, D("23.40")),
]
DG_MILESTONES = [
    ("启动", 100, 96),
    ("可研", 27, 25),
    ("初步设计", 48, 44),
    ("立项", 75, 69),
    ("入场实施", 66, 59),
    ("初验", 40, 40),
    ("终验", 24, 23),
]

_MONTH_WEIGHTS = [1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 7, 10]  # spending piles up at year end


# ------------------------------------------------------------------ entry point
def build_demo_inbox(dest: Path) -> list[Path]:
    """Write the demo submissions into ``dest`` and return their paths (生成演示报送文件)."""
    dest.mkdir(parents=True, exist_ok=True)
    return [
        write_ledger(
            dest / "江门市政务服务数据管理局_数字政府专项资金_2019-2022_台账.xlsx",
            jiangmen_ledger(),
        ),
        write_scoring_table(
            dest / "江门市政务服务数据管理局_2023_指标评分表.xlsx", [jiangmen_2023_scoring_table()]
        ),
        write_ledger(
            dest / "东莞市政务服务数据管理局_数字政府建设项目_2019-2021_台账.xlsx",
            dongguan_ledger(),
        ),
        write_selfeval_form(
            dest / "宜春市大数据发展管理局_2022_项目支出绩效自评表.xlsx", [yichun_2022()]
        ),
        write_selfeval_form(
            dest / "新丰县政务服务数据管理局_2023_项目支出绩效自评表.xlsx", xinfeng_2023()
        ),
    ]


# ------------------------------------------------------------------ helpers
@dataclass
class SubProject:
    """A sub-project of a multi-project fund (子项目)."""

    code: str
    name: str
    category: str
    unit: str
    year: int
    amount_yuan: D  # what is paid over the period
    budget_wan: D | None = None


def _pay_dates(rng: Random, year: int, n: int) -> list[date]:
    months = sorted(rng.choices(range(1, 13), weights=_MONTH_WEIGHTS, k=n))
    return [date(year, m, rng.randint(1, 28)) for m in months]


def _messy_date(rng: Random, d: date) -> object:
    """Mostly real Excel dates; now and then text as typed (文本日期)."""
    roll = rng.random()
    if roll < 0.03:
        return f"{d.year}年{d.month}月{d.day}日"
    if roll < 0.06:
        return f"{d.year}/{d.month}/{d.day}"
    return d


def _messy_amount(rng: Random, amount: D) -> object:
    """Mostly numbers; now and then text with thousands separators (文本型数字)."""
    return with_thousands(amount) if rng.random() < 0.04 else amount


def _payment_rows(
    rng: Random,
    sub: SubProject,
    year: int,
    amount: D,
    prefix: str,
    counter: list[int],
    source: str = "当年财政拨款",
) -> list[dict[str, object]]:
    n = 1 if amount < 200000 else rng.randint(1, 3)
    parts = split_fen(amount, [rng.randint(2, 6) for _ in range(n)])
    rows: list[dict[str, object]] = []
    for i, (part, day) in enumerate(zip(parts, _pay_dates(rng, year, n), strict=True), start=1):
        counter[0] += 1
        rows.append(
            {
                "project_code": sub.code,
                "year": year,
                "payment_date": _messy_date(rng, day),
                "amount": _messy_amount(rng, part),
                "fund_source": source,
                "payee": rng.choice(VENDORS),
                "voucher_no": f"{prefix}{year}-{counter[0]:05d}",
                "summary": f"支付{sub.name}合同款（第{i}期）",
                "category": sub.category,
            }
        )
    return rows


VENDORS = [
    "中国电信股份有限公司",
    "中国移动通信集团广东有限公司",
    "中国联合网络通信有限公司",
    "数字广东网络建设有限公司",
    "广州市品高软件股份有限公司",
    "南威软件股份有限公司",
    "太极计算机股份有限公司",
    "浪潮软件集团有限公司",
    "华为技术服务有限公司",
    "广东亿迅科技有限公司",
    "中科软科技股份有限公司",
    "广东南方数码科技股份有限公司",
]
_UNITS = [
    "市公安局",
    "市人力资源和社会保障局",
    "市自然资源局",
    "市市场监督管理局",
    "市卫生健康局",
    "市教育局",
    "市民政局",
    "市住房和城乡建设局",
    "市交通运输局",
    "市应急管理局",
    "市生态环境局",
    "市城市管理和综合执法局",
    "市司法局",
    "市财政局",
    "市政务服务数据管理局",
    "市发展和改革局",
    "市医疗保障局",
    "市农业农村局",
]
_JM_BASES = {
    "基础设施": [
        "政务外网",
        "政务云平台",
        "政务机房",
        "骨干传输网",
        "视频会议系统",
        "网络安全防护",
        "电子政务灾备中心",
        "信创终端适配",
    ],
    "营商环境": [
        "工程建设项目审批系统",
        "惠企利民平台",
        "企业开办一网通办",
        "公共资源交易平台",
        "社会信用信息平台",
        "政策兑现平台",
    ],
    "政务服务": [
        "一体化政务服务平台",
        "政务服务大厅智能化",
        "粤智助自助终端",
        "电子证照系统",
        "12345政务服务热线",
        "政银通办服务",
    ],
    "民生保障": [
        "智慧人社",
        "医保信息系统",
        "智慧教育平台",
        "社会救助系统",
        "智慧养老服务平台",
        "不动产登记系统",
    ],
    "社会治理": [
        "雪亮工程",
        "市域治理一网统管平台",
        "应急指挥系统",
        "智慧城管",
        "生态环境监测",
        "网格化管理系统",
        "行政执法两平台",
    ],
    "政府协同和部门管理": [
        "粤政易移动办公",
        "协同办公系统",
        "电子档案管理系统",
        "预算管理一体化系统",
        "机关事务管理系统",
        "多功能会议系统",
        "督查督办系统",
    ],
}
_KINDS = ["建设项目", "运维服务", "升级改造项目", "二期建设项目"]


def _unique_name(rng: Random, city: str, bases: list[str], year: int, seen: set[str]) -> str:
    name = f"{city}{rng.choice(bases)}{rng.choice(_KINDS)}（{year}年）"
    n = 2
    while name in seen:
        name = f"{name.rsplit('（', 1)[0]}（{year}年第{n}批）"
        n += 1
    seen.add(name)
    return name


# ------------------------------------------------------------------ Jiangmen 2019-2022
def jiangmen_subprojects() -> list[SubProject]:
    """265 sub-projects; category sums equal the published amounts to the fen (子项目)."""
    rng = seeded(2019)
    finals = {y: i - c for y, (i, c) in JM_BUDGETS.items()}
    arranged = sum(finals.values())
    paid = sum(a for _, a in JM_CATEGORIES.values())
    target = {y: wan_to_yuan(f) * paid / arranged for y, f in finals.items()}
    subs: list[SubProject] = []
    seen: set[str] = set()
    for category, (count, amount) in JM_CATEGORIES.items():
        weights = [rng.randint(20, 200) for _ in range(count)]
        for part in split_fen(wan_to_yuan(amount), weights):
            subs.append(SubProject("", "", category, "江门" + rng.choice(_UNITS), 0, part))
    # Assign each sub-project to a year: largest first, to the year with most room left,
    # so that yearly payments track the yearly budgets.
    assigned = dict.fromkeys(finals, D(0))
    for sub in sorted(subs, key=lambda s: (-s.amount_yuan, s.category)):
        year = max(assigned, key=lambda y: (target[y] - assigned[y], -y))
        sub.year = year
        assigned[year] += sub.amount_yuan
    counters = dict.fromkeys(finals, 0)
    for sub in subs:
        counters[sub.year] += 1
        sub.code = f"{JM_CODE}-{sub.year}-{counters[sub.year]:03d}"
        sub.name = _unique_name(rng, "江门市", _JM_BASES[sub.category], sub.year, seen)
    return sorted(subs, key=lambda s: s.code)


def jiangmen_ledger() -> Ledger:
    """The Jiangmen 2019-2022 ledger: projects, budget (万元, caption), payments (元), self-eval."""
    rng = seeded(2022)
    subs = jiangmen_subprojects()
    projects: list[dict[str, object]] = [
        {
            "project_code": JM_CODE,
            "project_name": JM_NAME,
            "department": JM_DEPARTMENT,
            "implementing_unit": JM_DEPARTMENT,
            "province": "广东省",
            "city": "江门市",
            "project_level": "一级专项资金",
            "start_year": 2019,
            "end_year": 2022,
        }
    ]
    projects += [
        {
            "project_code": s.code,
            "project_name": s.name,
            "category": s.category,
            "department": JM_DEPARTMENT,
            "implementing_unit": s.unit,
            "province": "广东省",
            "city": "江门市",
            "project_level": "子项目",
            "start_year": s.year,
            "end_year": s.year,
            "parent_code": JM_CODE,
        }
        for s in subs
    ]
    budget: list[dict[str, object]] = []
    for year, (initial, cut) in JM_BUDGETS.items():
        budget.append(
            {
                "project_code": JM_CODE,
                "year": year,
                "line_type": "年初预算",
                "fund_source": "当年财政拨款",
                "amount": initial,
                "date": date(year, 1, 15),
                "reason": f"{year}年市本级专项资金安排",
            }
        )
        if cut:
            budget.append(
                {
                    "project_code": JM_CODE,
                    "year": year,
                    "line_type": "压减",
                    "fund_source": "当年财政拨款",
                    "amount": cut,
                    "date": date(year, 8, 20),
                    "reason": "年中压减（财政收支平衡）",
                }
            )
    payments: list[dict[str, object]] = []
    counter = [0]
    for sub in subs:
        payments += _payment_rows(rng, sub, sub.year, sub.amount_yuan, "JMZF", counter)
    evaluations: list[dict[str, object]] = [
        {
            "project_code": JM_CODE,
            "period": "2019-2022",
            "evaluation_type": "单位自评",
            "evaluator": JM_DEPARTMENT,
            "scheme": "投入/过程/产出/效益",
            "level1": "合计",
            "max_score": 100,
            "score": 91,
            "grade": "优",
            "reported_rate": JM_REPORTED_PAY_RATE,
        }
    ]
    return Ledger(
        [
            LedgerSheet("projects", projects, title="“数字政府”建设专项资金项目登记表"),
            LedgerSheet(
                "budget_lines",
                budget,
                unit="万元",
                unit_in="caption",
                title="2019-2022年“数字政府”建设专项资金预算安排",
            ),
            LedgerSheet(
                "payments",
                payments,
                unit="元",
                title="2019-2022年“数字政府”建设专项资金支付明细",
                notes=[
                    # seed 000's own summary line: the paid total and the rate it printed
                    f"2019-2022年实际安排资金 51000 万元，实际支付 50418.98 万元，支付率 "
                    f"{JM_REPORTED_PAY_RATE}",
                    "注：支付明细来源于国库集中支付系统。",
                ],
            ),
            LedgerSheet("evaluations", evaluations),
            LedgerSheet("milestones", jiangmen_acceptance(subs), sheet_name="验收情况"),
        ]
    )


def jiangmen_acceptance(subs: list[SubProject]) -> list[dict[str, object]]:
    """Seed 000's acceptance: 201 of the 265 sub-projects 已终验 (验收情况).

    Each sub-project has 立项 and 初验 done in its year; 终验 is done for the first
    :data:`JM_FINAL_ACCEPTED` by code and still open for the rest.
    """
    rows: list[dict[str, object]] = []
    for n, sub in enumerate(sorted(subs, key=lambda s: s.code)):
        for stage in ("立项", "初验", "终验"):
            done = stage != "终验" or n < JM_FINAL_ACCEPTED
            rows.append(
                {
                    "project_code": sub.code,
                    "year": sub.year,
                    "stage": stage,
                    "planned": 1,
                    "actual": 1 if done else 0,
                }
            )
    return rows


# ------------------------------------------------------------------ Dongguan 2019-2021
_DG_DOMAINS = {
    "基础平台": 12,
    "营商环境": 12,
    "民生保障": 18,
    "城市运营": 10,
    "行政效能": 15,
    "政务服务": 8,
}
_DG_BASES = {
    "基础平台": [
        "骨干传输网",
        "政务外网升级改造",
        "空天地一体化感知基础平台",
        "大数据中心",
        "区块链基础服务平台",
        "视频共享平台",
    ],
    "营商环境": [
        "一体化政务服务平台",
        "“粤商通”东莞专版",
        "企业开办一网通办",
        "智慧招商平台",
        "工程建设项目审批",
        "信用东莞",
    ],
    "民生保障": ["智慧人社", "智慧教育", "智慧医疗", "智慧养老", "“粤省事”东莞专版", "智慧医保"],
    "城市运营": ["智慧城管", "生态大数据智能监管应用平台", "雪亮工程", "智慧交通", "智慧水务"],
    "行政效能": [
        "政务综合应用办公平台",
        "自然资源政务信息融合一体化业务平台",
        "电子公文交换",
        "数字档案",
        "智能会议",
    ],
    "政务服务": ["12345热线", "政务服务好差评", "自助服务终端", "电子证照应用"],
}
_DG_YEAR_SHARES = {2019: (15, 37, 48), 2020: (0, 40, 60), 2021: (0, 0, 100)}


def dongguan_subprojects() -> list[SubProject]:
    """75 sub-projects with budgets (立项批复, 万元) and spending in the published buckets."""
    rng = seeded(2021)
    buckets = (
        ["80-90"] * DG_BUCKETS["80-90"]
        + ["60-80"] * DG_BUCKETS["60-80"]
        + ["<60"] * DG_BUCKETS["<60"]
        + ["none"] * DG_BUCKETS["none"]
    )
    rates = {
        "80-90": [D("0.805") + D("0.008") * (i % 10) for i in range(30)],
        "60-80": [D("0.61") + D("0.024") * (i % 8) for i in range(8)],
        "<60": [D("0.06") + D("0.015") * (i % 35) for i in range(35)],
    }
    weights = {b: [rng.randint(50, 300) for _ in rates[b]] for b in rates}

    def avg(b: str) -> D:
        return sum((w * r for w, r in zip(weights[b], rates[b], strict=True)), D(0)) / sum(
            weights[b]
        )

    total, spent = DG_APPROVED_WAN, DG_SPENT_WAN
    mid = D("12000.00")
    high = (
        (spent - mid * avg("60-80") - (total - mid) * avg("<60")) / (avg("80-90") - avg("<60"))
    ).quantize(D("0.01"))
    group_budget = {"80-90": high, "60-80": mid, "<60": total - mid - high}
    subs: list[SubProject] = []
    for b in ("80-90", "60-80", "<60"):
        for wan, r in zip(split_fen(group_budget[b], weights[b]), rates[b], strict=True):
            subs.append(SubProject("", "", "", "", 0, (wan * WAN * r).quantize(D("0.01")), wan))
    residual = spent * WAN - sum(s.amount_yuan for s in subs)
    biggest = max(subs[:30], key=lambda s: s.budget_wan or 0)
    biggest.amount_yuan += residual
    subs += [SubProject("", "", "", "", 0, D(0), None) for _ in range(DG_BUCKETS["none"])]
    order = list(range(len(buckets)))
    rng.shuffle(order)
    domains = [d for d, n in _DG_DOMAINS.items() for _ in range(n)]
    seen: set[str] = set()
    for seq, idx in enumerate(order, start=1):
        sub, bucket = subs[idx], buckets[idx]
        sub.code = f"{DG_CODE}-{seq:03d}"
        sub.category = domains[seq - 1]
        sub.year = {"80-90": 2019, "60-80": 2020, "<60": 2020, "none": 2021}[bucket]
        if bucket == "<60" and seq % 2:
            sub.year = 2021
        sub.unit = "东莞" + rng.choice(_UNITS)
        sub.name = _unique_name(rng, "东莞市", _DG_BASES[sub.category], sub.year, seen)
    return sorted(subs, key=lambda s: s.code)


def dongguan_ledger() -> Ledger:
    """Dongguan 2019-2021: register, budgets (万元), payments (元), scores, milestones."""
    rng = seeded(1921)
    subs = dongguan_subprojects()
    projects: list[dict[str, object]] = [
        {
            "project_code": DG_CODE,
            "project_name": DG_NAME,
            "department": DG_DEPARTMENT,
            "implementing_unit": DG_DEPARTMENT,
            "province": "广东省",
            "city": "东莞市",
            "project_level": "市级项目",
            "start_year": 2019,
            "end_year": 2021,
        }
    ]
    projects += [
        {
            "project_code": s.code,
            "project_name": s.name,
            "category": s.category,
            "department": DG_DEPARTMENT,
            "implementing_unit": s.unit,
            "province": "广东省",
            "city": "东莞市",
            "project_level": "子项目",
            "start_year": s.year,
            "end_year": 2021,
            "parent_code": DG_CODE,
        }
        for s in subs
    ]
    budget = _dongguan_parent_budget()
    budget += [
        {
            "project_code": s.code,
            "year": s.year,
            "line_type": "年初预算",
            "fund_source": "合计",
            "amount": s.budget_wan,
            "date": date(s.year, 3, 1),
            "reason": "子项目立项批复金额",
        }
        for s in subs
        if s.budget_wan is not None
    ]
    payments: list[dict[str, object]] = []
    counter = [0]
    for sub in subs:
        if not sub.amount_yuan:
            continue
        years = [
            y
            for y, share in zip((2019, 2020, 2021), _DG_YEAR_SHARES[sub.year], strict=True)
            if share
        ]
        shares = [s for s in _DG_YEAR_SHARES[sub.year] if s]
        for year, part in zip(years, split_fen(sub.amount_yuan, shares), strict=True):
            payments += _payment_rows(rng, sub, year, part, "DGZF", counter)
    evaluations: list[dict[str, object]] = [
        {
            "project_code": DG_CODE,
            "period": "2019-2021",
            "evaluation_type": "第三方评价",
            "evaluator": "广东三胜管理顾问有限公司",
            "scheme": "决策20/过程20/产出30/效益30",
            "level1": name,
            "max_score": weight,
            "score": score,
        }
        for name, weight, score in DG_SCORES
    ]
    evaluations.append(
        {
            "project_code": DG_CODE,
            "period": "2019-2021",
            "evaluation_type": "第三方评价",
            "evaluator": "广东三胜管理顾问有限公司",
            "scheme": "决策20/过程20/产出30/效益30",
            "level1": "合计",
            "max_score": 100,
            "score": D("77.20"),
            "grade": "中",
            "reported_rate": "98.42%",
        }
    )
    milestones: list[dict[str, object]] = [
        {"project_code": DG_CODE, "year": 2021, "stage": s, "planned": p, "actual": a}
        for s, p, a in DG_MILESTONES
    ]
    return Ledger(
        [
            LedgerSheet("projects", projects),
            LedgerSheet("budget_lines", budget, unit="万元"),
            LedgerSheet(
                "payments",
                payments,
                unit="元",
                headers={"amount": "金额(元)"},
                sheet_name="支付明细",
            ),
            LedgerSheet("evaluations", evaluations, sheet_name="第三方评价结果"),
            LedgerSheet("milestones", milestones, sheet_name="产出时效"),
        ],
        instructions=False,
    )


def _dongguan_parent_budget() -> list[dict[str, object]]:
    """Yearly 年初预算 and 压减 whose finals sum to 80692.06 万元 (initial total 16.3 亿元)."""
    plan = {2019: (D(35000), D(23000)), 2020: (D(58000), D("28307.94")), 2021: (D(70000), D(31000))}
    rows: list[dict[str, object]] = []
    for year, (initial, cut) in plan.items():
        rows.append(
            {
                "project_code": DG_CODE,
                "year": year,
                "line_type": "年初预算",
                "fund_source": "合计",
                "amount": initial,
                "date": date(year, 1, 10),
                "reason": "年初申请预算",
            }
        )
        rows.append(
            {
                "project_code": DG_CODE,
                "year": year,
                "line_type": "调减",
                "fund_source": "合计",
                "amount": cut,
                "date": date(year, 9, 30),
                "reason": "年度预算调整",
            }
        )
    return rows


# ------------------------------------------------------------------ Yichun 2022
def yichun_2022() -> SelfEvalProject:
    """宜春 2022 电子政务外网及智慧办公平台运维 (万元; 资金10/产出60/效益25/满意度5; 100 优)."""
    amt = D("219.91")
    out, ben, sat = "产出指标", "效益指标", "满意度指标"
    ind = [
        Indicator(out, "数量指标", "联网单位网络通畅数（家）", "≥100", "108", 10, 10),
        Indicator(out, "数量指标", "保障视频会议次数（次）", "≥300", D(386), 10, 10),
        Indicator(out, "数量指标", "市级城域网出口带宽（G）", "≥5", "5", 5, 5),
        Indicator(out, "质量指标", "政务外网安全稳定运行，不出现大面积瘫痪", "是", "是", 10, 10),
        Indicator(out, "质量指标", "数据支撑业务系统数（个）", "≥20", "22", 5, 5),
        Indicator(out, "时效指标", "故障现场响应时间（分钟）", "≤10分钟", "10分钟", 10, 10),
        Indicator(out, "成本指标", "项目运维成本（万元）", "≤219.91", "219.91", 10, 10),
        Indicator(ben, "经济效益指标", "统一视频会议节约会议经费", "逐步提升", "逐步提升", 5, 5),
        Indicator(
            ben, "社会效益指标", "保障电子政务外网、政务云平台安全稳定运行", "是", "是", 10, 10
        ),
        Indicator(
            ben, "生态效益指标", "减少人员交通出行，实现绿色办公", "逐步提升", "显著提升", 5, 5
        ),
        Indicator(ben, "可持续影响指标", "机房管理制度健全，长期稳定运行", "是", "是", 5, 5),
        Indicator(sat, "服务对象满意度指标", "联网单位满意度（%）", "≥９５％", "９８%", "５", "５"),
    ]
    return SelfEvalProject(
        sheet_name="电子政务外网运维",
        year=2022,
        project_name="电子政务外网及智慧办公平台运维工作经费",
        department="宜春市大数据发展管理局",
        implementing_unit="宜春市大数据发展管理局",
        region="江西省/宜春市",
        unit="万元",
        funding=[
            FundingRow("年度资金总额", amt, amt, amt, 10, D(1), 10),
            FundingRow("其中：当年财政拨款", amt, amt, amt),
            FundingRow("上年结转资金", D(0), D(0), D(0)),
            FundingRow("其他资金", None, None, None),
        ],
        indicators=ind,
        total_score=100,
        goal_expected="统一保障我市各级部门办公网络及安全需求，对全市网络稳定运行进行日常维护，"
        "保障视频会议网络需求及智慧办公平台稳定运行。",
        goal_actual="全年网络运行稳定，保障视频会议386次，城域网出口带宽由2.4G升级到5G。",
        notes=[
            "注：资金到位率=实际到位资金÷全年项目资金×100%=100%；"
            "预算执行率=实际支出金额÷实际到位金额×100%=100%。",
            "评价等级：90-100分（含90分）为优。",
        ],
    )


# ------------------------------------------------------------------ Xinfeng 2023
_XF_DEPARTMENT = "新丰县政务服务数据管理局"


def _xf_common(
    weights: tuple[int, int, int, int],
    scores: tuple[int, int, int, int],
    level3: tuple[str, str, str, str],
    targets: tuple[str, str, str, str],
    actuals: tuple[str, str, str, str],
) -> list[Indicator]:
    l2 = ("数量指标", "数量指标", "质量指标", "时效指标")
    return [
        Indicator("产出指标", a, b, t, v, w, s)
        for a, b, t, v, w, s in zip(l2, level3, targets, actuals, weights, scores, strict=True)
    ]


def xinfeng_2023() -> list[SelfEvalProject]:
    """新丰县 2023: three projects in 元, one per sheet, each self-scored 100 (seed 004)."""
    specs: list[tuple[Any, ...]] = [
        (
            "政务服务建设推广",
            "XF-2023-001",
            D(30000),
            D(27000),
            D(22516),
            D("0.8339"),
            (
                "发布政务服务事项实施清单（项）",
                "“一件事”主题服务事项（项）",
                "办事指南抽查问题整改率",
                "问题整改及时率",
            ),
            ("≥20000", "≥100", "100%", "≥95%"),
            ("20104", "117", "100%", "100%"),
            ("提升企业群众办事便利度", "政务服务标准化水平"),
            ("服务对象满意度（%）", "≥90%", "98%"),
        ),
        (
            "政务系统管理",
            "XF-2023-002",
            D(110000),
            D(99000),
            D(57790),
            "58.37%",
            (
                "保障运行政务系统数（个）",
                "村级便民服务事项清单（项）",
                "系统正常运行率",
                "故障响应时间",
            ),
            ("≥10", "228", "≥99%", "≤2小时"),
            ("12", "２２８", "99.5%", "1.5小时"),
            ("系统支撑政务服务能力", "系统长效运行机制"),
            ("使用单位满意度（%）", "≥90%", "95%"),
        ),
        (
            "电子政务外网网络管理",
            "XF-2023-003",
            D(320000),
            D(320000),
            D(318472),
            D("0.9952"),
            (
                "电子政务外网接入单位（个）",
                "互联网租赁线路（条）",
                "网络可用率",
                "网络故障修复时长",
            ),
            ("≥100", "2", "≥99.9%", "≤4小时"),
            ("126", "2", "99.95%", "2小时"),
            ("保障全县党政机关网络安全畅通", "网络保障能力"),
            ("接入单位满意度（%）", "≥90%", "96%"),
        ),
    ]
    out = []
    for i, (name, code, initial, final, spent, rate, l3, tgt, act, ben, sat) in enumerate(specs):
        ind = _xf_common((15, 10, 15, 10), (15, 10, 15, 10), l3, tgt, act)
        ind += [
            Indicator("效益指标", "社会效益指标", ben[0], "逐步提升", "逐步提升", 15, 15),
            Indicator("效益指标", "可持续影响指标", ben[1], "持续提升", "持续提升", 15, 15),
            Indicator("满意度指标", "服务对象满意度指标", sat[0], sat[1], sat[2], 10, 10),
        ]
        out.append(
            SelfEvalProject(
                sheet_name=name,
                year=2023,
                project_name=name,
                department=_XF_DEPARTMENT,
                implementing_unit=_XF_DEPARTMENT,
                project_code=code,
                region="广东省/韶关市/新丰县",
                unit="元",
                funding=[
                    FundingRow("年度资金总额", initial, final, spent, 10, rate, 10),
                    FundingRow("其中：当年财政拨款", initial, final, spent, "—", "—", "—"),
                    FundingRow("上年结转资金", None, None, None, "—", "—", "—"),
                    FundingRow("其他资金", None, None, None, "—", "—", "—"),
                ],
                indicators=ind,
                total_score=fullwidth("100") if i == 1 else 100,
                goal_expected=f"按计划完成{name}工作，专款专用，提升政务服务能力。",
                goal_actual=f"2023年本项目支出{spent}元，结余{final - spent}元。",
                left_label=i != 2,
                notes=["注：本表金额单位为元。", "填报人：黄涛弟  联系电话：0751-2265111"],
            )
        )
    return out
