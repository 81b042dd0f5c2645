"""Jiangmen 2023 指标评分表, copied from seed document 002 (江门市2023年数字政府专项资金指标评分表).

Every figure below is as published: weights 决策20/产出40/效益40, 资金支出率 12 of 12 at
9044.14 of 9150 万元, 监管有效性 6 of 8, 产出 and 效益 each scored as one merged 40 with
"各项指标权重=40/指标总数", total 98.
"""

from __future__ import annotations

from decimal import Decimal as D

from jixiao.samples.forms import ScoringIndicator as SI
from jixiao.samples.forms import ScoringLevel1, ScoringLevel2, ScoringTable

DEPARTMENT = "江门市政务服务数据管理局"
PROJECT_NAME = "“数字政府”建设专项资金"
RULE = "各项指标权重=40/指标总数"

FUND_RULE = (
    "主要依据“支付额/预算额度*100*指标权重”计算核定得分，同时综合考虑工作进度，以及是否垫资"
    "或履行支付手续而影响支出率等因素适当调整最后得分。"
)
FUND_EVIDENCE = (
    "1.专项资金预算执行通报（含地市/资金使用单位使用资金）；\n2.其他能反映地市/资金使用单位支出"
    "情况的系统截图或统计表。\n3.该项如实填报即可，非因挤占转移支付资金等不规范使用资金情况的，"
    "自评可不扣分。"
)
SUPERVISION_RULE = (
    "各级业务主管部门按规定对项目建设或方案实施开展有效的检查、监控、督促整改的，得满分；"
    "否则，视情况扣分。"
)
SUPERVISION_EVIDENCE = "1.专项资金监督检查的通知及检查报告；\n2.监督检查发现问题整改情况报告。"
OUTPUT_RULE = (
    "1.定量指标：自评分数=评价年度实现值/评价年度预期值*指标权重*100；\n2.定性指标：根据指标完成"
    "情况分为“全部或基本达成预期指标”、“部分达成预期指标并具有一定效果”、“未达成预期指标且效果"
    "较差”三挡，分别按照80%（含）-100%、60%（含）-80%、0-60%填写完成比例。自评分数=完成比例*"
    "指标权重*100。"
)
OUTPUT_EVIDENCE = (
    "1.年度工作计划、工作总结；\n2.专项上报给省委省政府、部委的工作报告；\n3.国家或部委的考核结果；"
    "\n4.人大、审计厅等部门对单位贯彻落实国家重大决策部署情况出具的绩效评价报告、绩效审计报告；"
    "\n5.其他产出、效益相关佐证材料等；\n6.项目绩效目标申报表。"
)
OVERALL_GOAL = (
    "围绕省、市“数字政府”改革建设重点任务和市委市政府重点工作，结合我市建设广东省数字政府市域"
    "社会治理“一网统管”示范区和省数据要素市场化配置改革试验区等目标任务，按照政府数字化“夯基"
    "垒台、优化提升、创新发展”的要求，持续增强“数字政府”基础支撑能力，保障政务信息化安全可靠运行，"
    "推进数字政府在支撑民生实事、加强社会治理、优化营商环境、促进乡村振兴、提升行政效能等方面创新"
    "发展，以数字政府改革赋能新时代侨都高质量发展。"
)
NOTES = [
    "一、资金使用绩效:",
    "（一）资金支出情况：2024年数字政府建设专项资金预算9150万元，实际支付9044.14万元，支出率达"
    "98.84%。",
    "（二）资金完成绩效目标情况：各项目能有序开展，并完成各项指标。",
    "二、资金使用绩效存在的问题：（一）2023年数字政府建设专项资金到期，需先申请继续设立数字政府建设"
    "专项资金，才可以安排年度预算。（二）结合市财政局“压减通知”总预算压减50%的要求，年中重新制定"
    "2023年“数字政府”建设专项资金分配方案。（三）数字政府建设专项资金涉及的部门和项目非常多，而且"
    "申报审批流程较长，导致专项资金细化分配方案与2023年10月份才完成审批流程，导致资金支出序时进度"
    "滞后。",
    "四、到期资金：2025年依合同支付资金需求预计19863.10万元。",
    "仅专项资金需填报",
]

#: (name, expected, actual) of the 产出 block, in document order, by 二级指标.
OUTPUT_INDICATORS: dict[str, list[tuple[str, str, str]]] = {
    "数量指标": [
        ("视频终端接入数量（万路）", "2.8", "4.7"),
        ("感知终端接入数量（万路）", "0.2", "0.7"),
        ("政务云资源算力规模（万核）", "3.9", "4.577"),
        ("“粤政图”平台地图产品数（个）", "19", "32"),
        ("粤省事日活跃用户数（万名）", "≥2.5", "2.84"),
        ("粤商通月活跃用户数（万名）", "≥5", "7.78"),
        ("粤政易日活跃用户数（万名）", "≥7", "8.5"),
        ("“一件事”主题集成服务数量（件）", "200", "210"),
        ("“一网统管”专题接入数（个）", "16", "17"),
        ("公共数据资源社会开放数据集（个）", "1330", "5453"),
    ],
    "质量指标": [
        ("政务外网接入率（%）", "100", "100"),
        ("一体化政务服务平台可网办事项单点登录率（%）", "100", "100"),
        ("行政许可事项全程网办率（%）", "≥95", "96.54"),
        ("政务服务一体机镇街覆盖率（%）", "100", "100"),
        ("政府部门电子印章覆盖率（%）", "100", "100"),
        ("电子证照用证安全率（%）", "≥90", "100"),
    ],
    "时效指标": [
        ("共享数据平均审核时长（小时）", "≤4", "1.58"),
    ],
}

BENEFIT_INDICATORS: dict[str, list[tuple[str, str, str]]] = {
    "社会效益指标": [
        (
            "推进电子证照扩大应用领域和全国互通互认，深化“放管服”改革和优化营商环境。",
            "逐步提升",
            "逐步提升",
        ),
        ("实现可网办事项单点登录，优化公众办事流程。（是/否）", "是", "是"),
    ],
    "满意度指标": [
        ("政务服务用户满意度(%)", "≥85", "100"),
    ],
}


def _groups(spec: dict[str, list[tuple[str, str, str]]], messy: bool) -> list[ScoringLevel2]:
    out = []
    for name, rows in spec.items():
        indicators = []
        for label, expected, actual in rows:
            # The published values are text in the source; write plain numbers as numbers
            # where a department's Excel would have them, keep the rest as typed.
            numeric = expected.replace(".", "").isdigit()
            exp: str | D = D(expected) if messy and numeric else expected
            indicators.append(SI(label, expected=exp, actual=actual))
        out.append(ScoringLevel2(name, None, indicators))
    return out


def jiangmen_2023_scoring_table() -> ScoringTable:
    """The whole seed-002 table as a :class:`ScoringTable` (万元)."""
    decision = ScoringLevel1(
        "决策",
        20,
        [
            ScoringLevel2(
                "资金管理",
                12,
                [
                    SI(
                        "资金支出率",
                        12,
                        score=12,
                        reason="已达标",
                        scoring_rule=FUND_RULE,
                        evidence=FUND_EVIDENCE,
                    )
                ],
            ),
            ScoringLevel2(
                "事项管理",
                8,
                [
                    SI(
                        "监管有效性",
                        8,
                        score=6,
                        reason="年度进行了二次资金调整",
                        scoring_rule=SUPERVISION_RULE,
                        evidence=SUPERVISION_EVIDENCE,
                    )
                ],
            ),
        ],
    )
    output = ScoringLevel1(
        "产出",
        40,
        _groups(OUTPUT_INDICATORS, messy=True),
        weight_rule=RULE,
        block_score=40,
        block_reason="已达标",
        block_scoring_rule=OUTPUT_RULE,
        block_evidence=OUTPUT_EVIDENCE,
    )
    benefit = ScoringLevel1(
        "效益",
        40,
        _groups(BENEFIT_INDICATORS, messy=False),
        weight_rule=RULE,
        block_score=40,
        block_reason="已达标",
        block_scoring_rule=OUTPUT_RULE,
        block_evidence=OUTPUT_EVIDENCE,
    )
    return ScoringTable(
        sheet_name="指标评分表",
        filler=DEPARTMENT,
        project_name=PROJECT_NAME,
        year=2023,
        eval_amount=9150,
        planned=9150,
        allocated_local=9150,
        allocated_transfer="/",
        spent_local=D("8967.19"),
        spent_transfer=D("76.95"),
        levels=[decision, output, benefit],
        total_score=98,
        unit="万元",
        project_level="一级专项资金",
        basis="《江门市市级“数字政府”建设专项资金管理办法（修订）》",
        contact="岑英创",
        phone="3988977",
        overall_goal=OVERALL_GOAL,
        goal_achieved="是",
        notes=NOTES,
    )
