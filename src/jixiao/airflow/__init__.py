"""Airflow glue in one place (Airflow 公共部件): the Assets the DAGs exchange, the default args
with the alert and retry callbacks, and the decorator that fails a task at once on a data
error. The DAG files in ``dags/`` keep only their schedule, params, tasks and dependencies.

Kept light: DAG files import this at parse time, so it imports nothing heavy and does no I/O
(tests/dags/test_dag_integrity.py proves both). Task bodies import ``jixiao.pipeline`` lazily.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

from airflow.sdk import Asset

from jixiao.errors import DataError
from jixiao.orchestration import WAREHOUSE_POOL

__all__ = [
    "MARTS_BUILT",
    "PUBLISHED_MARTS",
    "RAW_LOADED",
    "RETRY_DELAY_SECONDS",
    "WAREHOUSE_POOL",
    "YEARLY_REPORTS",
    "default_args",
    "fail_fast_on_data_error",
    "fails_fast",
]

RAW_LOADED = Asset("jixiao://warehouse/raw")
"""The raw schema got new rows (原始层已载入)."""
MARTS_BUILT = Asset("jixiao://warehouse/marts")
"""dbt rebuilt the marts (集市层已构建)."""
PUBLISHED_MARTS = Asset("jixiao://published/marts")
"""The validated marts were published; the event's extra names ``years_changed`` (已发布)."""
YEARLY_REPORTS = Asset("jixiao://reports/yearly")
"""The yearly reports were written (年度报告)."""

RETRY_DELAY_SECONDS = int(os.environ.get("JIXIAO_RETRY_DELAY_SECONDS", "120"))
"""First retry delay for transient failures (doubles with exponential backoff)."""


def on_failure(context: Any) -> None:
    """A task failed for good: the alert record, webhook and mail (jixiao.alerts)."""
    from jixiao.alerts import record_failure

    record_failure(context)


def on_retry(context: Any) -> None:
    """A task failed and will be retried: recorded, no webhook or mail."""
    from jixiao.alerts import record_retry

    record_retry(context)


def default_args(**overrides: Any) -> dict[str, Any]:
    """Every jixiao DAG's default args (默认参数): two retries with exponential backoff from
    ``JIXIAO_RETRY_DELAY_SECONDS`` (at most 30 min apart) and the alert callbacks."""
    args: dict[str, Any] = {
        "owner": "jixiao",
        "retries": 2,
        "retry_delay": timedelta(seconds=RETRY_DELAY_SECONDS),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": on_failure,
        "on_retry_callback": on_retry,
    }
    args.update(overrides)
    return args


@contextmanager
def fail_fast_on_data_error() -> Iterator[None]:
    """A data error fails the task at once (``AirflowFailException``: retries would only
    repeat it); any other exception propagates and Airflow retries it with backoff."""
    try:
        yield
    except DataError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc


F = TypeVar("F", bound=Callable[..., Any])


def fails_fast(fn: F) -> F:
    """Decorate a task body (under ``@task``) so that a data error fails it without retries."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with fail_fast_on_data_error():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
