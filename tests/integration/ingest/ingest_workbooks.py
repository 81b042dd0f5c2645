"""Small hand-built workbooks for the ingest tests (测试用工作簿), written with openpyxl.

Figures are the seed documents' real ones (Xinfeng 2023 in 元, Jiangmen 2019-2023 in 万元,
Dongguan 2019-2021), copied here so tests never read ../shared.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

XINFENG_DEPT = "新丰县政务服务数据管理局"
XINFENG = [
    # name, initial, final, executed (元), reported rate, 得分
    ("政务系统管理", 110000, 99000, 57790, "58.37%", 10),
    ("政务服务建设推广", 30000, 27000, 22516, "83.39%", 10),
]


def _put(ws: Worksheet, ref: str, value: Any, merge_to: str | None = None) -> None:
    ws[ref] = value
    if merge_to:
        ws.merge_cells(f"{ref}:{merge_to}")


def selfeval_sheet(
    ws: Worksheet,
    name: str,
    initial: Any,
    final: Any,
    executed: Any,
    rate: str,
    score: Any,
    *,
    unit_label: str = "项目资金（元）",
    label_column: bool = False,
    bad_score: bool = False,
) -> None:
    """A 项目支出绩效自评表 with merged cells, full-width digits and a note under the table."""
    _put(ws, "A1", "项目支出绩效自评表", "H1")
    _put(ws, "A2", "（2023年度）", "H2")
    _put(ws, "A3", "项目名称", "B3")
    _put(ws, "C3", name, "H3")
    _put(ws, "A4", "主管部门", "B4")
    _put(ws, "C4", XINFENG_DEPT, "D4")
    ws["E4"] = "实施单位"
    _put(ws, "F4", XINFENG_DEPT, "H4")
    _put(ws, "A5", "所属地区", "B5")
    _put(ws, "C5", "广东省/韶关市/新丰县", "H5")
    _put(ws, "A6", unit_label, "A10")
    for col, text in zip(
        "CDEFGH", ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"], strict=True
    ):
        ws[f"{col}6"] = text
    ws["B6"] = ""
    ws["B7"], ws["C7"], ws["D7"], ws["E7"] = "年度资金总额", initial, final, executed
    ws["F7"], ws["G7"], ws["H7"] = 10, rate, score
    ws["B8"], ws["C8"], ws["D8"], ws["E8"] = "其中：当年财政拨款", str(initial), final, executed
    ws["B9"], ws["B10"] = "上年结转资金", "其他资金"
    _put(ws, "A11", "年度总体目标", "A12")
    _put(ws, "B11", "预期目标", "E11")
    _put(ws, "F11", "实际完成情况", "H11")
    _put(ws, "B12", "保障政务系统稳定运行", "E12")
    _put(ws, "F12", "系统全年稳定运行", "H12")
    off = 1 if label_column else 0
    cols = [chr(ord("A") + off + i) for i in range(8)]
    header = [
        "一级指标",
        "二级指标",
        "三级指标",
        "年度指标值",
        "实际完成值",
        "分值",
        "得分",
        "偏差原因分析及改进措施",
    ]
    for c, text in zip(cols, header, strict=True):
        ws[f"{c}13"] = text
    rows = [
        ("产出指标", "数量指标", "运维系统数量（个）", "≥５", "５", 20, 20, ""),
        ("产出指标", "时效指标", "故障响应时长", "≤4小时", "2小时", 20, "20", ""),
        ("产出指标", "质量指标", "系统可用率", "≥９５％", "99.5%", 10, 10, ""),
        ("效益指标", "社会效益指标", "政务服务效率", "逐步提升", "逐步提升", 20, 20, ""),
        ("效益指标", "可持续影响指标", "系统持续运行（是/否）", "是", "是", 10, 10, ""),
        (
            "满意度指标",
            "服务对象满意度指标",
            "用户满意度",
            "≥90%",
            "95%",
            10,
            "十分" if bad_score else 10,
            "",
        ),
    ]
    for i, values in enumerate(rows):
        r = 14 + i
        for c, v in zip(cols, values, strict=True):
            ws[f"{c}{r}"] = None if v == "" else v
    ws.merge_cells(f"{cols[0]}14:{cols[0]}16")
    ws.merge_cells(f"{cols[0]}17:{cols[0]}18")
    if label_column:
        _put(ws, "A13", "绩效指标", "A19")
    ws[f"{cols[0]}20"] = "总分"
    ws.merge_cells(f"{cols[0]}20:{cols[2]}20")
    ws[f"{cols[5]}20"], ws[f"{cols[6]}20"] = 100, 100
    _put(ws, "A22", "注：定性指标按三档评分。", "H22")


def selfeval_workbook(path: Path, **kw: Any) -> Path:
    """Two Xinfeng projects, one per sheet."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, *figures in XINFENG:
        selfeval_sheet(wb.create_sheet(name[:10]), name, *figures, **kw)
    wb.save(path)
    return path


def scoring_workbook(path: Path, *, split_header: bool = False, unit: str = "万元") -> Path:
    """Seed 002 (Jiangmen 2023 指标评分表), a subset of the indicators, merged like the original."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "指标评分表"
    ws["A1"] = "附件2"
    if split_header:
        ws["A2"], ws["F2"] = "填报单位名称：江门市政务服务和数据管理局", f"金额单位：{unit}"
    else:
        ws["A2"] = f"填报单位名称：江门市政务服务和数据管理局 金额单位：{unit}"
    ws["A3"], ws["B3"], ws["C3"], ws["D3"], ws["E3"], ws["F3"] = (
        "项目名称",
        "“数字政府”建设专项资金",
        "评价年度",
        "2023",
        "评价金额",
        9150,
    )
    ws["A4"], ws["B4"] = "项目级次", "一级专项资金"
    ws["A5"], ws["B5"] = "预算计划安排", 9150
    ws["A6"], ws["B6"], ws["C6"] = "实际分配下达", "市本级 9150", "转移支付至下级 /"
    ws["A7"], ws["B7"], ws["C7"] = "实际支出金额", "市本级 8967.19", "转移支付至下级 76.95"
    ws["A8"] = "指标评分表"
    for c1, c2, text in (("A", "B", "一级指标"), ("C", "D", "二级指标"), ("E", "F", "三级指标")):
        _put(ws, f"{c1}9", text, f"{c2}9")
        ws[f"{c1}10"], ws[f"{c2}10"] = "名称", "权重(%)"
    for col, text in zip(
        "GHIJKL",
        [
            "评价年度预期值",
            "评价年度实现值",
            "自评分数",
            "未达标原因分析",
            "评分标准",
            "参考佐证材料",
        ],
        strict=True,
    ):
        _put(ws, f"{col}9", text, f"{col}10")
    rule = "各项指标权重=40/指标总数"
    data = [
        # r, l1, l1w, l2, l2w, l3, l3w, target, actual, score
        (11, "决策", 20, "资金管理", 12, "资金支出率", 12, None, None, 12),
        (12, "决策", 20, "事项管理", 8, "监管有效性", 8, None, None, 6),
        (13, None, None, "数量指标", None, "视频终端接入数量（万路）", None, "2.8", 4.7, None),
        (
            14,
            None,
            None,
            None,
            None,
            "公共数据资源社会开放数据集（个）",
            None,
            "1,330",
            "5453",
            None,
        ),
        (15, None, None, "质量指标", None, "行政许可事项全程网办率（%）", None, "≥95", 96.54, None),
        (
            16,
            None,
            None,
            "时效指标",
            None,
            "共享数据平均审核时长（小时）",
            None,
            "≤4",
            "1.58",
            None,
        ),
        (
            17,
            None,
            None,
            "社会效益指标",
            None,
            "推进电子证照扩大应用领域",
            None,
            "逐步提升",
            "逐步提升",
            None,
        ),
        (18, None, None, None, None, "实现可网办事项单点登录（是/否）", None, "是", "是", None),
        (19, None, None, "满意度指标", None, "政务服务用户满意度(%)", None, "≥85", 100, None),
    ]
    for r, l1, l1w, l2, l2w, l3, l3w, target, actual, score in data:
        for col, v in zip(
            "ABCDEFGHI", (l1, l1w, l2, l2w, l3, l3w, target, actual, score), strict=True
        ):
            if v is not None:
                ws[f"{col}{r}"] = v
        ws[f"J{r}"] = "已达标"
    ws["A13"], ws["B13"], ws["D13"], ws["F13"], ws["I13"] = "产出", 40, rule, rule, 40
    for rng in ("A13:A16", "B13:B16", "C13:C14", "D13:D16", "F13:F16", "I13:I16"):
        ws.merge_cells(rng)
    ws["A17"], ws["B17"], ws["D17"], ws["F17"], ws["I17"] = "效益", 40, rule, rule, 40
    for rng in ("A17:A19", "B17:B19", "C17:C18", "D17:D19", "F17:F19", "I17:I19"):
        ws.merge_cells(rng)
    ws["A20"], ws["B20"], ws["D20"], ws["F20"], ws["I20"] = "合计：", 100, 100, 100, 98
    ws["A22"] = "一、资金使用绩效：实际支付9044.14万元。"
    wb.save(path)
    return path


PAYMENT_HEADER = [
    "项目编码",
    "年度",
    "支付日期",
    "支付金额",
    "资金来源",
    "收款单位",
    "凭证号",
    "摘要",
    "支出类别",
]


def payments_workbook(
    path: Path,
    rows: list[list[Any]],
    *,
    caption: str | None = "金额单位：万元",
    header: list[str] | None = None,
    hidden_extra: bool = True,
    instructions: bool = True,
) -> Path:
    """A payments ledger: instructions sheet, optional caption, header, rows, a note."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "支付"
    if instructions:
        info = wb.create_sheet("填写说明", 0)
        info["A1"] = "请按表头填写；金额单位见表头。"
    r = 1
    if caption:
        ws.cell(r, 1, caption)
        r += 2
    for c, text in enumerate(header or PAYMENT_HEADER, start=1):
        ws.cell(r, c, text)
    for values in rows:
        r += 1
        for c, v in enumerate(values, start=1):
            ws.cell(r, c, v)
    ws.cell(r + 2, 1, "注：本表由财务科填报。")
    if hidden_extra:
        hidden = wb.create_sheet("旧数据")
        hidden["A1"] = "不要读取"
        hidden.sheet_state = "hidden"
    wb.save(path)
    return path


def ledger_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Any ledgers: sheet name -> rows (first row is the header, may be preceded by captions)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for values in rows:
            ws.append(values)
    wb.save(path)
    return path


JIANGMEN_PROJECTS = [
    [
        "项目编码",
        "项目名称",
        "项目类别",
        "主管部门",
        "实施单位",
        "省",
        "市",
        "县",
        "项目级次",
        "开始年度",
        "结束年度",
        "上级项目编码",
    ],
    [
        "JM-SZZF",
        "“数字政府”建设专项资金",
        "政府协同和部门管理",
        "江门市政务服务数据管理局",
        "江门市政务服务数据管理局",
        "广东省",
        "江门市",
        None,
        "一级专项资金",
        2019,
        2022,
        None,
    ],
]
JIANGMEN_BUDGETS = [
    ["金额单位：万元"],
    [],
    ["项目编码", "年度", "类型", "资金来源", "金额", "日期", "原因"],
    ["JM-SZZF", 2019, "年初预算", "合计", 10000, "2019-01-15", None],
    ["JM-SZZF", 2020, "年初预算", "合计", "12,000", "2020/1/10", None],
    ["JM-SZZF", 2020, "压减", "合计", 1000, "2020年7月1日", "疫情防控压减"],
    ["JM-SZZF", 2021, "年初预算", "合计", "２００００", 44210, None],
    ["JM-SZZF", 2022, "年初预算", "合计", 22000, None, None],
    ["JM-SZZF", 2022, "压减", "合计", 12000, None, "年中调减"],
]
DONGGUAN_EVALUATIONS = [
    [
        "项目编码",
        "主管部门",
        "评价期间",
        "评价类型",
        "评价机构",
        "一级指标",
        "指标分值",
        "评价得分",
        "等级",
    ],
    [
        "DG-SZZF",
        "东莞市政务服务数据管理局",
        "2019-2021",
        "第三方评价",
        "第三方机构",
        "决策",
        20,
        14.00,
        None,
    ],
    [
        "DG-SZZF",
        "东莞市政务服务数据管理局",
        "2019-2021",
        "第三方评价",
        "第三方机构",
        "过程",
        20,
        15.92,
        None,
    ],
    [
        "DG-SZZF",
        "东莞市政务服务数据管理局",
        "2019-2021",
        "第三方评价",
        "第三方机构",
        "产出",
        30,
        23.88,
        None,
    ],
    [
        "DG-SZZF",
        "东莞市政务服务数据管理局",
        "2019-2021",
        "第三方评价",
        "第三方机构",
        "效益",
        30,
        23.40,
        None,
    ],
    [
        "DG-SZZF",
        "东莞市政务服务数据管理局",
        "2019-2021",
        "第三方评价",
        "第三方机构",
        "合计",
        100,
        "77.20",
        "中",
    ],
]
DONGGUAN_MILESTONES = [
    ["项目编码", "年度", "阶段", "计划数", "实际数"],
    *[
        ["DG-SZZF", 2021, s, p, a]
        for s, p, a in (
            ("启动", 100, 96),
            ("可研", 27, 25),
            ("初步设计", 48, 44),
            ("立项", 75, 69),
            ("入场实施", 66, 59),
            ("初验", 40, 40),
            ("终验", 24, 23),
        )
    ],
]


def rezip(
    src: Path,
    dst: Path,
    *,
    add: dict[str, bytes] | None = None,
    replace: dict[str, Callable[[bytes], bytes]] | None = None,
) -> Path:
    """Copy an xlsx entry by entry, replacing or adding entries (改写 zip 包)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if replace and info.filename in replace:
                data = replace[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst
