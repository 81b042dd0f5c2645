"""The Celery test worker's name as Airflow's hostname (测试工作节点名).

``tests/e2e/test_celery_nightly.py`` starts its one Celery worker with
``AIRFLOW__CORE__HOSTNAME_CALLABLE=tests.e2e.worker_host.name`` and ``JIXIAO_TEST_WORKER``
set, and nothing else of the test has them: a task instance whose hostname is that name ran
in a process the Celery worker started.
"""

from __future__ import annotations

import os


def name() -> str:
    """``$JIXIAO_TEST_WORKER``: the worker's name."""
    return os.environ["JIXIAO_TEST_WORKER"]
