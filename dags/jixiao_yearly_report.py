"""
### jixiao_yearly_report — 年度绩效报告 / yearly performance reports

Produces the yearly reports for fiscal years (param `year`, or the years whose published data
changed): the regenerated
项目支出绩效自评表 per project and the evaluation report per department and region.

Runs on 15 January (after the fiscal year closes, for the year just ended) and whenever the
nightly DAG publishes new marts (the `jixiao://published/marts` Asset, whose event names the
years that changed). Each year is a mapped task; a year is refused unless its mart quality gate
passed, and the refusal says which expectations blocked it.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from jixiao.airflow import PUBLISHED_MARTS, YEARLY_REPORTS, default_args, fails_fast


@dag(
    dag_id="jixiao_yearly_report",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 15 1 *", timezone="Asia/Shanghai"),
        assets=[PUBLISHED_MARTS],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["jixiao", "yearly", "reports"],
    doc_md=__doc__,
    params={
        "year": Param(
            None,
            type=["null", "integer"],
            minimum=2000,
            maximum=2100,
            description="Fiscal year (评价年度); empty means the year before the run date",
        ),
        "department": Param(None, type=["null", "string"], description="主管部门 (optional)"),
        "unit": Param(
            None,
            type=["null", "string"],
            enum=[None, "wan", "yuan"],
            description="金额单位 wan（万元）/ yuan（元）; empty: $JIXIAO_REPORT_UNIT, else 万元",
        ),
    },
    default_args=default_args(),
)
def jixiao_yearly_report() -> None:
    @task
    def resolve_years(**context: Any) -> list[int]:
        """The fiscal years to report on (评价年度): the `year` param; else the years the
        triggering published-marts events say changed; else the year before the run date."""
        from jixiao import pipeline

        events = context.get("triggering_asset_events") or {}
        extras = [dict(ev.extra or {}) for evs in events.values() for ev in evs]
        run_after = context.get("logical_date") or context["dag_run"].run_after
        return pipeline.report_years(
            context["params"].get("year"),
            extras if events else None,
            pipeline.year_in_shanghai(run_after),
        )

    @task(retries=0)
    @fails_fast
    def check_gate(year: int) -> int:
        """Refuse unless the year's mart gate passed (质量闸门前置检查)."""
        from jixiao import pipeline

        pipeline.check_year_gate(year)
        return year

    @task(outlets=[YEARLY_REPORTS])
    @fails_fast
    def build_reports(year: int, **context: Any) -> dict[str, Any]:
        """Write the xlsx and HTML reports from the marts (生成年度报告)."""
        from jixiao import pipeline

        return pipeline.yearly_report(
            year,
            department=context["params"].get("department"),
            unit=context["params"].get("unit"),
        )

    build_reports.expand(year=check_gate.expand(year=resolve_years()))


jixiao_yearly_report()
