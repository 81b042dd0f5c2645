"""
### jixiao_nightly — 每晚载入 / the nightly load

Runs at 02:00 Asia/Shanghai. Pulls new and changed workbooks from the departments' folders
and SFTP servers (the sources file, docs/operations.md; none: the local inbox only), finds new
and changed departmental workbooks in the inbox,
loads them into the DuckDB raw schema (bad files are quarantined with their reasons), gates the
raw data with Great Expectations, builds the dbt warehouse, gates the marts, and publishes the
marts for BI readers. Publishing emits the `jixiao://published/marts` Asset that the yearly
report DAG listens to. The stewards' quality report is rebuilt at the end of every run, pass
or fail, and shows every stage of this run (recorded under the Airflow run id) with its own
status: a stage that did not run says so.

A night with nothing new does nothing: after ingest, `plan_night` (a short-circuit task;
the decision is `jixiao.pipeline.plan_night`) skips the raw gate, dbt build, marts gate and
publish when no file was loaded or quarantined and neither the dbt project nor the gates
changed since the published build. The skipped stages read "skipped: nothing new /
无新增或变更文件，跳过" in the quality report, which still records the night, and the run
ends `success`. Trigger with `{"force": true}` to run every stage anyway.

The publisher itself refuses unless the marts gate passed on exactly the marts being
published, so the gate holds even outside this DAG's task order.

Data errors (a failed gate, a failing dbt test) fail at once; anything else is retried with
exponential backoff.

The one-slot `jixiao_warehouse` pool is for the DuckDB file: DuckDB allows one read-write
process or many readers, never both. On DuckDB (the default) every task that opens the
warehouse runs in it. With `JIXIAO_WAREHOUSE=postgres` the warehouse is a PostgreSQL server:
`dbt_build` copies the raw tables there, builds and tests the models there and secures the
marts, and `gate_marts` validates one consistent snapshot of the server's marts. The server
takes many readers and writers at once, so these two tasks, the long part of a night, leave
the pool (`jixiao.orchestration.build_pool`). The DuckDB file is still the staging store, one
writer: `ingest` writes it, `plan_night` and `gate_raw` read its raw tables, and `publish` and
`quality_report` (which may run at the same time) both open it, so those five keep the pool on
every engine. What `dbt_build` and `gate_marts` still do to the file (read raw for the copy,
record the build state, replace the copy of the marts) no other task of the night runs
beside: they sit in the chain between `gate_raw` and `publish`/`quality_report`, and
`max_active_runs=1` keeps a second night out. Running nights side by side on PostgreSQL would
also need a staging file per run, which this DAG does not do. The pool is decided when the
DAG file is parsed, so the dag-processor must see the workers' `JIXIAO_WAREHOUSE`.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, task

from jixiao.airflow import (
    MARTS_BUILT,
    PUBLISHED_MARTS,
    RAW_LOADED,
    WAREHOUSE_POOL,
    default_args,
    fails_fast,
)
from jixiao.orchestration import build_pool

#: dbt_build's and gate_marts' pool: the one-slot warehouse pool on DuckDB, none on PostgreSQL
BUILD_POOL = build_pool()


@dag(
    dag_id="jixiao_nightly",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["jixiao", "nightly", "ingest", "dbt", "quality"],
    doc_md=__doc__,
    params={
        "force": Param(
            False,
            type="boolean",
            description="Run every stage even when nothing is new (无新增也全部运行)",
        )
    },
    default_args=default_args(),
)
def jixiao_nightly() -> None:
    @task
    @fails_fast
    def pull(**context: Any) -> dict[str, Any]:
        """Fetch new and changed workbooks from the departments' folders and SFTP servers
        (拉取); a source that is down is reported and the others still load."""
        from jixiao import pipeline

        return pipeline.pull(run_id=str(context["run_id"]))

    @task(trigger_rule="all_done")
    def discover() -> list[str]:
        """Find new and changed workbooks (查找新增或变更的工作簿); runs even when the pull
        failed (a wrong sources file): what is in the inbox still loads."""
        from jixiao import pipeline

        return pipeline.discover()

    @task(pool=WAREHOUSE_POOL, outlets=[RAW_LOADED])
    @fails_fast
    def ingest(paths: list[str]) -> dict[str, Any]:
        """Load into raw, quarantine bad files (载入与隔离)."""
        from airflow.sdk import get_current_context

        from jixiao import pipeline

        return pipeline.ingest(paths, run_id=str(get_current_context()["run_id"]))

    @task.short_circuit(pool=WAREHOUSE_POOL, ignore_downstream_trigger_rules=False)
    def plan_night(paths: list[str], ingested: dict[str, Any], **context: Any) -> bool:
        """Skip the rest when nothing is new (无新增或变更则跳过): False skips the raw gate,
        and through it dbt, the marts gate and publish; the quality report still runs."""
        from jixiao import pipeline

        plan = pipeline.plan_night(
            run_id=str(context["run_id"]),
            discovered=len(paths),
            force=bool((context.get("params") or {}).get("force")),
        )
        return not plan["nothing_to_do"]

    @task(pool=WAREHOUSE_POOL)
    @fails_fast
    def gate_raw(**context: Any) -> dict[str, Any]:
        """GX gate on the raw schema (原始层质量闸门)."""
        from jixiao import pipeline

        return pipeline.gate_raw(run_id=str(context["run_id"]))

    @task(pool=BUILD_POOL, outlets=[MARTS_BUILT])
    @fails_fast
    def dbt_build(**context: Any) -> dict[str, Any]:
        """dbt seed, run and test (dbt 构建); on PostgreSQL with the raw copy before and the
        readers' security after."""
        from jixiao import pipeline

        return pipeline.dbt_build(run_id=str(context["run_id"]))

    @task(pool=BUILD_POOL)
    @fails_fast
    def gate_marts(**context: Any) -> dict[str, Any]:
        """GX gate on the marts (集市层质量闸门); on PostgreSQL on a snapshot of the server's."""
        from jixiao import pipeline

        return pipeline.gate_marts(run_id=str(context["run_id"]))

    @task(pool=WAREHOUSE_POOL, outlets=[PUBLISHED_MARTS])
    @fails_fast
    def publish(**context: Any) -> dict[str, Any]:
        """Atomic publish of the validated marts (原子发布); the Asset event names the years
        whose data changed, so the yearly report DAG regenerates exactly those."""
        from jixiao import pipeline

        result = pipeline.publish(run_id=str(context["run_id"]))
        context["outlet_events"][PUBLISHED_MARTS].extra = {
            "years_changed": result["years_changed"],
            "run_id": result["run_id"],
        }
        return result

    @task(pool=WAREHOUSE_POOL, trigger_rule="all_done", retries=0)
    def quality_report(**context: Any) -> str:
        """Rebuild the stewards' quality report for this run, pass or fail (质量报告)."""
        from jixiao import pipeline

        return pipeline.quality_report(run_id=str(context["run_id"]))

    marts_gate = gate_marts()
    pulled = pull()
    paths = discover()
    pulled >> paths
    ingested = ingest(paths)
    plan_night(paths, ingested) >> gate_raw() >> dbt_build() >> marts_gate >> publish()
    [ingested, marts_gate] >> quality_report()


jixiao_nightly()
