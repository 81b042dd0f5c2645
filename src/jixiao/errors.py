"""Exceptions that separate data problems (no retry) from transient ones (retry).

A data error will fail again on retry, so DAG tasks turn it into AirflowFailException;
anything else (a locked file, a full disk) is retried with backoff.
"""

from __future__ import annotations


class JixiaoError(Exception):
    """Base class (jixiao 错误)."""


class DataError(JixiaoError):
    """The data is wrong: retrying will not help (数据错误，重试无效)."""


class QualityGateBlocked(DataError):
    """A critical quality expectation failed (质量闸门拦截)."""


class ReportRefused(DataError):
    """The yearly report was refused because the year's mart gate did not pass (报告被拒绝)."""
