"""Exit codes of ``jixiao publish``, ``jixiao build`` and ``jixiao validate`` (退出码).

* ``0``: done (成功).
* ``2``: refused by a gate: a critical quality expectation failed, a dbt data test failed,
  or the publisher refused because the marts gate did not pass on exactly these marts
  (被质量闸门拒绝：数据需要修正，重试无效).
* ``1``: failed: anything else (an error in a dbt model, a missing warehouse, a locked file)
  (运行失败).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer

from jixiao.errors import JixiaoError, QualityGateBlocked

T = TypeVar("T")

OK, FAILED, REFUSED = 0, 1, 2


def is_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` means a gate refused the data (exit 2) rather than a failure (exit 1)."""
    from jixiao.publish.publisher import PublishRefused
    from jixiao.warehouse.dbt import DbtBuildFailed

    if isinstance(exc, QualityGateBlocked | PublishRefused):
        return True
    if isinstance(exc, DbtBuildFailed):
        errors = [n for n in exc.result.failed if n.status != "skipped"]
        # only data tests failed (status "fail"): the data was refused by dbt's tests
        return bool(errors) and exc.error is None and all(n.status == "fail" for n in errors)
    return False


def run_with_exit_codes(fn: Callable[[], T]) -> T:
    """Run ``fn``; a gate refusal exits 2, any other jixiao error exits 1 (按原因返回退出码)."""
    try:
        return fn()
    except JixiaoError as exc:
        refused = is_refusal(exc)
        label = "被闸门拒绝 / refused by a gate" if refused else "失败 / failed"
        typer.secho(f"[{label}] {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(REFUSED if refused else FAILED) from exc
