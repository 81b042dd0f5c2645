"""Each reconciliation rule has one owner (每条规则只有一个归属), dbt or the gates.

A rule that must stop the build is a dbt test; the marts gate runs after ``dbt build`` and
would only see data that passed it, so its copy of the rule could never fail. The rules dbt
owns are named here with the dbt test that owns them; none of them may come back as a column
a marts suite checks or a frame computes.
"""

from __future__ import annotations

import json

from jixiao.config import PROJECT_ROOT
from jixiao.quality.frames import FRAMES

DBT_TESTS = PROJECT_ROOT / "dbt_project" / "tests"
SUITES = PROJECT_ROOT / "expectations" / "expectations"

#: rule -> (the dbt test that owns it, the frame column a GX copy used, the suite it was in)
DBT_OWNED = {
    "final budget = initial + additions - cuts": (
        "assert_budget_reconciles",
        "budget_gap_yuan",
        "marts__fct_budget",
    ),
    "recomputed indicator score <= weight": (
        "assert_scores_within_weights",
        "recomputed_over_weight",
        "marts__fct_indicator_scores",
    ),
}


def suite_columns(name: str) -> set[str]:
    suite = json.loads((SUITES / f"{name}.json").read_text(encoding="utf-8"))
    return {e["kwargs"]["column"] for e in suite["expectations"] if "column" in e["kwargs"]}


def test_dbt_owns_them_and_no_suite_repeats_them() -> None:
    for rule, (dbt_test, column, suite) in DBT_OWNED.items():
        sql = (DBT_TESTS / f"{dbt_test}.sql").read_text(encoding="utf-8")
        assert sql.strip(), rule
        for path in SUITES.glob("marts__*.json"):
            assert column not in suite_columns(path.stem), (rule, path.name)
        assert column not in FRAMES[suite].sql, (rule, suite)


def test_the_check_sees_a_copy() -> None:
    """The check reads the suites' columns: the ledger gap, which the gate owns, is found."""
    assert "ledger_gap_yuan" in suite_columns("marts__payment_reconciliation")
    assert "ledger_gap_yuan" in FRAMES["marts__payment_reconciliation"].sql
