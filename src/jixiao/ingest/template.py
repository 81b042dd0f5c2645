"""The canonical submission workbook (标准报送模板): ``jixiao template`` writes it.

One instructions sheet (填写说明) and one sheet per ledger kind (项目登记, 预算, 支付, 评价结果,
里程碑, 绩效指标), each with its header row, one example row from the seed figures and
drop-down data validation: categories, line types, fund sources, evaluation types, grades,
stages, the money unit (元/万元, in a "金额单位：" caption above the budget and payment
tables), and indicator directions (≥/≤/=) and kinds (定量/定性/是否).
The headers are the first alias of each column in :data:`jixiao.ingest.layouts.ledger.LEDGERS`,
so a filled template always reads back through the ledger reader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from jixiao import rules
from jixiao.ingest.layouts.ledger import STAGES

#: drop-down lists the seeds hold (规则即数据: jixiao.rules reads seeds/*.csv)
CATEGORIES = rules.categories()
LINE_TYPES = ("年初预算", "追加", "压减", "调整后预算", "下达本级", "转移支付至下级")
FUND_SOURCES = tuple(name for _, name in rules.fund_sources())
EVALUATION_TYPES = ("单位自评", "部门评价", "第三方评价")
GRADES = rules.grades()
UNITS = ("万元", "元")
DIRECTIONS = ("≥", "≤", "=")
KINDS = ("定量", "定性", "是否")

#: sheet name -> (header, example row, {column letter: choices})
SHEETS: dict[str, tuple[list[str], list[Any], dict[int, tuple[str, ...]]]] = {
    "项目登记": (
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
            "示例-JM-SZZF",
            "（示例）“数字政府”建设专项资金",
            "政府协同和部门管理",
            "江门市政务服务数据管理局",
            "江门市政务服务数据管理局",
            "广东省",
            "江门市",
            "",
            "一级专项资金",
            2019,
            2022,
            "",
        ],
        {3: CATEGORIES},
    ),
    "预算": (
        ["项目编码", "年度", "类型", "资金来源", "金额", "日期", "原因"],
        ["示例-JM-SZZF", 2020, "压减", FUND_SOURCES[0], 1000, "2020-07-01", "年中压减"],
        {3: LINE_TYPES, 4: FUND_SOURCES},
    ),
    "支付": (
        [
            "项目编码",
            "年度",
            "支付日期",
            "支付金额",
            "资金来源",
            "收款单位",
            "凭证号",
            "摘要",
            "支出类别",
        ],
        [
            "示例-JM-SZZF",
            2022,
            "2022-03-01",
            28.3,
            "当年财政拨款",
            "某科技有限公司",
            "记-0001",
            "政务云运维",
            "基础设施",
        ],
        {5: FUND_SOURCES, 9: CATEGORIES},
    ),
    "评价结果": (
        [
            "项目编码",
            "评价期间",
            "评价类型",
            "评价机构",
            "评价体系",
            "一级指标",
            "指标分值",
            "评价得分",
            "等级",
            "报告比率",
        ],
        [
            "示例-DG-SZZF",
            "2019-2021",
            "第三方评价",
            "第三方机构",
            "决策20/过程20/产出30/效益30",
            "合计",
            100,
            77.20,
            "中",
            "",
        ],
        {3: EVALUATION_TYPES, 9: GRADES},
    ),
    "里程碑": (
        ["项目编码", "年度", "阶段", "计划数", "实际数"],
        ["示例-DG-SZZF", 2021, "立项", 75, 69],
        {3: STAGES},
    ),
    "绩效指标": (
        [
            "项目编码",
            "年度",
            "一级指标",
            "二级指标",
            "三级指标",
            "分值",
            "指标方向",
            "年度指标值",
            "计量单位",
            "指标性质",
            "实际完成值",
            "得分",
            "偏差原因分析及改进措施",
        ],
        [
            "示例-JM-SZZF",
            2023,
            "产出指标",
            "数量指标",
            "公共数据资源社会开放数据集",
            "",
            "≥",
            1330,
            "个",
            "定量",
            5453,
            "",
            "完成值高于指标值较多，指标值设置偏低",
        ],
        {7: DIRECTIONS, 10: KINDS},
    ),
}

#: a project code starting with one of these is the template's example, never real data: a
#: row carrying it is rejected (template_example), so an example left in never loads
EXAMPLE_PREFIXES = ("示例-", "EXAMPLE-")

#: example rows of the templates written before the example codes were marked (sheet -> row
#: as printed): a row left exactly like this in a workbook made from the template (it has the
#: 填写说明 sheet and the template's sheets) is rejected too (template_example)
LEGACY_EXAMPLES: dict[str, list[Any]] = {
    # Only the rows whose figures were made up for the template (payee 某科技有限公司, voucher
    # 记-0001; the 年中压减 line): the older register, evaluation, milestone and indicator
    # examples were copied from the seed forms' real figures, which real ledgers also hold.
    "预算": ["JM-SZZF", 2020, "压减", "合计", 1000, "2020-07-01", "年中压减"],
    "支付": [
        "JM-SZZF",
        2022,
        "2022-03-01",
        28.3,
        "当年财政拨款",
        "某科技有限公司",
        "记-0001",
        "政务云运维",
        "基础设施",
    ],
}

#: sheets whose money unit is chosen in a "金额单位：" caption above the header (下拉选择)
UNIT_CAPTION_SHEETS = ("预算", "支付")

INSTRUCTIONS = [
    "填写说明 / Instructions",
    "1. 每张工作表是一类台账；表头请勿修改，可增加行。Each sheet is one ledger; keep the header row.",  # noqa: E501
    "2. 预算、支付表第 1 行的“金额单位”请从下拉框选 万元 或 元。"
    "Pick the money unit (万元 or 元) in row 1 of the budget and payment sheets.",
    "3. 带下拉框的列请从列表中选择。Pick coded columns from their drop-down lists.",
    "4. 表头下第一行是示例（项目编码以“示例-”开头），提交前请删除或用实际数据覆盖；"
    "未删除的示例行不会入库。The row under the header is an example (its project code starts "
    "with 示例-): delete or overwrite it; an example row left in is rejected.",
    "5. 绩效指标：指标方向选 ≥/≤/=，指标性质选 定量/定性/是否；年度指标值可写“≥95%”。"
    "Indicators: pick a direction and a kind; targets may be written like '≥95%'.",
    "6. 自评表、指标评分表另有版式，见 docs/input-formats.md。"
    "Self-evaluation forms and scoring tables have their own layouts.",
    "可用单位 Units: " + " / ".join(UNITS),
]


def write_template(path: Path) -> Path:
    """Write the canonical workbook to ``path`` and return it (写出标准模板)."""
    wb = Workbook()
    info = wb.active
    info.title = "填写说明"
    for i, line in enumerate(INSTRUCTIONS, start=1):
        info.cell(i, 1, line)
    info["A1"].font = Font(bold=True, size=14)
    info.column_dimensions["A"].width = 100
    for name, (header, example, choices) in SHEETS.items():
        ws = wb.create_sheet(name)
        top = 1
        if name in UNIT_CAPTION_SHEETS:
            ws.append(["金额单位：", "万元"])
            ws["A1"].font = Font(bold=True)
            _drop_down(ws, "B1:B1", UNITS)
            top = 2
        ws.append(header)
        ws.append(example)
        for c in range(1, len(header) + 1):
            cell = ws.cell(top, c)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            ws.column_dimensions[get_column_letter(c)].width = max(12, 2 * len(header[c - 1]) + 2)
        for col, values in choices.items():
            letter = get_column_letter(col)
            _drop_down(ws, f"{letter}{top + 1}:{letter}5000", values)
        ws.freeze_panes = f"A{top + 1}"
    lists = wb.create_sheet("代码表")
    for c, (title, values) in enumerate(
        (
            ("项目类别", CATEGORIES),
            ("预算类型", LINE_TYPES),
            ("资金来源", FUND_SOURCES),
            ("评价类型", EVALUATION_TYPES),
            ("阶段", STAGES),
            ("单位", UNITS),
            ("方向", DIRECTIONS),
            ("指标性质", KINDS),
        ),
        start=1,
    ):
        lists.cell(1, c, title)
        for r, v in enumerate(values, start=2):
            lists.cell(r, c, v)
    lists.sheet_state = "hidden"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _drop_down(ws: Any, ref: str, values: tuple[str, ...]) -> None:
    """A list data validation (下拉框) on ``ref`` that refuses other values."""
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(values) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="无效值 / invalid value",
        error="请从下拉列表中选择 / pick a value from the list",
    )
    dv.add(ref)
    ws.add_data_validation(dv)
