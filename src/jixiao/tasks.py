"""Helpers for Airflow task bodies (任务辅助).

A data error fails the task at once (``AirflowFailException``: retries would only repeat it);
any other exception propagates and Airflow retries it with backoff.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from jixiao.errors import DataError


@contextmanager
def fail_fast_on_data_error() -> Iterator[None]:
    try:
        yield
    except DataError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc
