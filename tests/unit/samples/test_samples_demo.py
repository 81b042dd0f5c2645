"""The demo inbox reproduces the seed documents' published figures exactly (演示数据对账)."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from decimal import Decimal as D
from pathlib import Path

from openpyxl import load_workbook
from tests.unit.samples._samples_read import as_date, num, table

from jixiao.samples.demo import build_demo_inbox

# Published figures, typed in from the seed documents (not imported from the code under test).
SEED000_CATEGORIES = {
    "基础设施": (38, D("7228.19")),
    "营商环境": (31, D("5350.27")),
    "政务服务": (20, D("3451.72")),
    "民生保障": (37, D("2831.78")),
    "社会治理": (55, D("14777.15")),
    "政府协同和部门管理": (84, D("16779.87")),
}
SEED000_PAID_WAN = D("50418.98")
SEED000_FINAL_BUDGET_WAN = {2019: D(10000), 2020: D(11000), 2021: D(20000), 2022: D(10000)}
WAN = D(10000)


def _jiangmen(path: Path) -> tuple[list[dict], list[dict], list[dict]]:
    wb = load_workbook(path)
    return (
        table(wb["项目登记"], "项目编码"),
        table(wb["预算"], "项目编码"),
        table(wb["支付"], "项目编码"),
    )


def test_jiangmen_categories_reconcile_to_the_fen(demo_files: dict[str, Path]) -> None:
    projects, _, payments = _jiangmen(demo_files["jiangmen_ledger"])
    category = {p["项目编码"]: p["项目类别"] for p in projects if p["上级项目编码"] == "JM-SZZF"}
    assert len(category) == 265
    assert Counter(category.values()) == {k: n for k, (n, _) in SEED000_CATEGORIES.items()}
    paid: dict[str, D] = defaultdict(D)
    for row in payments:
        paid[category[row["项目编码"]]] += num(row["支付金额（元）"])
        assert row["支出类别"] == category[row["项目编码"]]
    assert dict(paid) == {k: a * WAN for k, (_, a) in SEED000_CATEGORIES.items()}
    assert sum(paid.values()) == SEED000_PAID_WAN * WAN


def test_jiangmen_budget_and_monthly_spread(demo_files: dict[str, Path]) -> None:
    wb = load_workbook(demo_files["jiangmen_ledger"])
    assert any(r[0] == "金额单位：万元" for r in wb["预算"].iter_rows(values_only=True))
    _, budget, payments = _jiangmen(demo_files["jiangmen_ledger"])
    final: dict[int, D] = defaultdict(D)
    for line in budget:
        sign = -1 if line["类型"] == "压减" else 1
        final[int(line["年度"])] += sign * num(line["金额"])
    assert dict(final) == SEED000_FINAL_BUDGET_WAN
    assert sum(final.values()) == D(51000)
    by_year: dict[int, D] = defaultdict(D)
    months: dict[int, set[int]] = defaultdict(set)
    for row in payments:
        day = as_date(row["支付日期"])
        assert day.year == row["年度"]
        by_year[day.year] += num(row["支付金额（元）"])
        months[day.year].add(day.month)
    for year, amount in by_year.items():
        assert amount <= final[year] * WAN, year  # never paid more than the budget
        assert len(months[year]) >= 8, year  # spread across the year
    # some rows are typed the messy way: text dates and text amounts
    assert any(isinstance(r["支付日期"], str) for r in payments)
    assert any(isinstance(r["支付金额（元）"], str) for r in payments)


def test_jiangmen_self_evaluation(demo_files: dict[str, Path]) -> None:
    [row] = table(load_workbook(demo_files["jiangmen_ledger"])["评价结果"], "项目编码")
    assert (row["评价得分"], row["等级"], row["报告比率"]) == (91, "优", "97.61%")
    assert (SEED000_PAID_WAN / D(51000)).quantize(D("0.0001")) == D("0.9886")


def test_dongguan_buckets_budget_and_scores(demo_files: dict[str, Path]) -> None:
    wb = load_workbook(demo_files["dongguan"])
    projects = table(wb["项目登记"], "项目编码")
    subs = [p["项目编码"] for p in projects if p["上级项目编码"] == "DG-SZZF"]
    assert len(subs) == 75
    budget: dict[str, D] = defaultdict(D)
    for line in table(wb["预算"], "项目编码"):
        sign = -1 if line["类型"] in ("压减", "调减") else 1
        budget[line["项目编码"]] += sign * num(line["金额（万元）"]) * WAN
    spent: dict[str, D] = defaultdict(D)
    for row in table(wb["支付明细"], "项目编码"):
        spent[row["项目编码"]] += num(row["金额(元)"])
    assert budget["DG-SZZF"] == D("80692.06") * WAN
    assert sum(spent.values()) == D("79420.32") * WAN
    assert sum(budget[s] for s in subs) == D("122071.99") * WAN

    def bucket(code: str) -> str:
        if not budget.get(code):
            return "no funds"
        rate = spent[code] / budget[code]
        for low, name in (
            (1, "100%"),
            (D("0.9"), "90-100%"),
            (D("0.8"), "80-90%"),
            (D("0.6"), "60-80%"),
        ):
            if rate >= low:
                return name
        return "<60%"

    assert Counter(bucket(s) for s in subs) == {
        "80-90%": 30,
        "60-80%": 8,
        "<60%": 35,
        "no funds": 2,
    }
    scores = table(wb["第三方评价结果"], "项目编码")
    parts = [num(r["评价得分"]) for r in scores if r["一级指标"] != "合计"]
    total = next(r for r in scores if r["一级指标"] == "合计")
    assert sum(parts) == num(total["评价得分"]) == D("77.20") and total["等级"] == "中"
    stages = {r["阶段"]: (r["计划数"], r["实际数"]) for r in table(wb["产出时效"], "项目编码")}
    assert stages == {
        "启动": (100, 96),
        "可研": (27, 25),
        "初步设计": (48, 44),
        "立项": (75, 69),
        "入场实施": (66, 59),
        "初验": (40, 40),
        "终验": (24, 23),
    }


def _selfeval_rows(path: Path, sheet: str) -> list[tuple]:
    return list(load_workbook(path)[sheet].iter_rows(values_only=True))


def _indicator_block(rows: list[tuple]) -> tuple[list[tuple], tuple]:
    start = next(i for i, r in enumerate(rows) if "一级指标" in r)
    col = rows[start].index("一级指标")
    end = next(i for i, r in enumerate(rows) if r[0] == "总分")
    body = [r[col : col + 8] for r in rows[start + 1 : end]]
    return body, rows[end]


def test_yichun_form_weights_and_score(demo_files: dict[str, Path]) -> None:
    rows = _selfeval_rows(demo_files["yichun"], "电子政务外网运维")
    funding = next(r for r in rows if r[0] == "项目资金（万元）")
    total_row = rows[rows.index(funding) + 1]
    assert total_row[1] == "年度资金总额"
    assert [num(v) for v in total_row[2:5]] == [D("219.91")] * 3
    assert num(total_row[5]) == 10 and num(total_row[7]) == 10
    body, total = _indicator_block(rows)
    weights: dict[str, D] = defaultdict(D)
    level1 = None
    for r in body:
        level1 = r[0] or level1  # merged cells: value only in the top-left cell
        weights[level1] += num(r[5])
    assert dict(weights) == {"产出指标": 60, "效益指标": 25, "满意度指标": 5}
    scores = sum(num(r[6]) for r in body) + num(total_row[7])
    assert scores == num(total[-3]) == 100


def test_xinfeng_three_projects_in_yuan(demo_files: dict[str, Path]) -> None:
    wb = load_workbook(demo_files["xinfeng"])
    expected = {
        "政务服务建设推广": (30000, 27000, 22516, D("0.8339")),
        "政务系统管理": (110000, 99000, 57790, D("0.5837")),
        "电子政务外网网络管理": (320000, 320000, 318472, D("0.9952")),
    }
    assert wb.sheetnames == list(expected)
    for name, (initial, final, spent, rate) in expected.items():
        rows = list(wb[name].iter_rows(values_only=True))
        funding = next(r for r in rows if r[0] == "项目资金（元）")
        total_row = rows[rows.index(funding) + 1]
        assert [num(v) for v in total_row[2:5]] == [initial, final, spent]
        assert num(total_row[6]) == rate == (D(spent) / D(final)).quantize(D("0.0001"))
        body, total = _indicator_block(rows)
        assert (
            sum(num(r[6]) for r in body) + num(total_row[7])
            == num(next(v for v in reversed(total) if v is not None))
            == 100
        )


def test_jiangmen_2023_scoring_table_is_seed_002(demo_files: dict[str, Path]) -> None:
    ws = load_workbook(demo_files["jiangmen_2023"])["指标评分表"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][0] == "填报单位名称：江门市政务服务数据管理局  金额单位：万元"
    spent = next(r for r in rows if r[1] == "实际支出金额")
    assert num(spent[4]) + num(spent[6]) == D("9044.14")
    start = next(i for i, r in enumerate(rows) if r[0] == "名称") + 1
    end = next(i for i, r in enumerate(rows) if r[0] == "合计：")
    body = rows[start:end]
    assert len(body) == 2 + 17 + 3
    assert [r[0] for r in body if r[0]] == ["决策", "产出", "效益"]
    assert [num(r[1]) for r in body if r[1] is not None] == [20, 40, 40]
    assert sum(num(r[8]) for r in body if r[8] is not None) == num(rows[end][8]) == 98
    assert [r[3] for r in body if isinstance(r[3], str)] == ["各项指标权重=40/指标总数"] * 2
    names = [r[4] for r in body]
    assert names[names.index("公共数据资源社会开放数据集（个）")] and body[
        names.index("公共数据资源社会开放数据集（个）")
    ][6:8] == (1330, "5453")


def test_demo_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    def digests(folder: Path) -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in build_demo_inbox(folder)
        }

    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == second and len(first) == 5
