"""Which errors are a gate's refusal (exit 2) and which are failures (exit 1) (退出码分类)."""

from __future__ import annotations

import pytest
import typer

from jixiao.cli._exit import FAILED, REFUSED, is_refusal, run_with_exit_codes
from jixiao.errors import JixiaoError, QualityGateBlocked
from jixiao.publish.publisher import NothingToPublish, PublishRefused, RollbackUnavailable
from jixiao.warehouse.dbt import DbtBuildFailed, DbtRunResult, NodeResult


def _dbt(*nodes: tuple[str, str]) -> DbtBuildFailed:
    return DbtBuildFailed(
        DbtRunResult("build", False, [NodeResult(uid, status, "msg") for uid, status in nodes])
    )


def test_gate_refusals_are_exit_2() -> None:
    assert is_refusal(QualityGateBlocked("gate"))
    assert is_refusal(PublishRefused("refused"))
    # only data tests failed: the data was refused
    assert is_refusal(
        _dbt(("test.jixiao.assert_budget_reconciles", "fail"), ("model.x", "skipped"))
    )


def test_failures_are_exit_1() -> None:
    assert not is_refusal(_dbt(("model.jixiao.fct_budget", "error")))
    assert not is_refusal(_dbt(("test.jixiao.t", "fail"), ("model.jixiao.m", "error")))
    assert not is_refusal(NothingToPublish("nothing"))
    assert not is_refusal(RollbackUnavailable("none"))
    assert not is_refusal(JixiaoError("other"))


@pytest.mark.parametrize(
    ("exc", "code"),
    [(PublishRefused("闸门 / gate"), REFUSED), (NothingToPublish("空 / empty"), FAILED)],
)
def test_run_with_exit_codes(exc: Exception, code: int) -> None:
    def boom() -> None:
        raise exc

    with pytest.raises(typer.Exit) as info:
        run_with_exit_codes(boom)
    assert info.value.exit_code == code
    assert run_with_exit_codes(lambda: 7) == 7
