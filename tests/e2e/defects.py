"""A critical defect the ingest accepts but the raw quality gate must stop.

A department types an indicator's 分值 as 150 (a well-formed number, so ingest loads it with
lineage) in a 项目支出绩效自评表 whose weights can then no longer make 100. The raw gate's
critical expectation "indicator weight within [0, 100]" must fail the night so that nothing is
published.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from jixiao.samples.forms import FundingRow, Indicator, SelfEvalProject, write_selfeval_form

DEFECT_FILE = "测试县财政局_2023_项目支出绩效自评表_分值错误.xlsx"


def write_critical_defect(inbox: Path) -> Path:
    project = SelfEvalProject(
        sheet_name="政务云租赁",
        year=2023,
        project_name="测试县政务云租赁",
        department="测试县财政局",
        implementing_unit="测试县信息中心",
        unit="元",
        funding=[
            FundingRow(
                "年度资金总额",
                Decimal("100000"),
                Decimal("100000"),
                Decimal("95000"),
                10,
                "95%",
                Decimal("9.5"),
            ),
            FundingRow(
                "其中：当年财政拨款", Decimal("100000"), Decimal("100000"), Decimal("95000")
            ),
        ],
        indicators=[
            Indicator("产出指标", "数量指标", "云主机数量（台）", "≥40", "42", 150, 150),
            Indicator("效益指标", "社会效益指标", "业务系统上云率", "100%", "100%", 30, 30),
            Indicator("满意度指标", "服务对象满意度指标", "使用单位满意度", "≥90%", "93%", 10, 10),
        ],
        total_score=Decimal("199.5"),
    )
    return write_selfeval_form(inbox / DEFECT_FILE, [project])
