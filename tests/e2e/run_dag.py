"""Run one DAG with ``dag.test()`` in a fresh process and print the outcome as JSON.

Usage: python run_dag.py DAG_ID [CONF_JSON]. The caller sets AIRFLOW_HOME / JIXIAO_HOME
(see jixiao.orchestration.airflow_env) and has run ``airflow db migrate``.
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    from airflow.dag_processing.dagbag import DagBag

    from jixiao.config import PROJECT_ROOT

    dag_id = sys.argv[1]
    conf = json.loads(sys.argv[2]) if len(sys.argv) > 2 else None
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    dag = bag.dags[dag_id]
    dr = dag.test(run_conf=conf)
    tis = {ti.task_id: str(ti.state) for ti in dr.get_task_instances()}
    tries = {ti.task_id: ti.try_number for ti in dr.get_task_instances()}
    print("DAGRUN_RESULT " + json.dumps({"state": str(dr.state), "tasks": tis, "tries": tries}))


if __name__ == "__main__":
    main()
