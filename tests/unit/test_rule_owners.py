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

#: rules dbt owns on a column the suites still read for other rules: no range on the column
#: in the suite (rule -> the column, the dbt test that owns it, the suite the copy was in)
DBT_OWNED_ON_SHARED_COLUMNS = {
    "project total in [0, 100]": (
        "recomputed_score",
        "assert_scores_within_weights",
        "marts__mart_project_year",
    ),
    "a grade is the band of its basis score (seeds/grade_bands.csv)": (
        "recomputed_score",
        "assert_grades_match_bands",
        "marts__mart_project_year",
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


def score_ranges(suite: str, column: str) -> list[dict[str, object]]:
    """The between-expectations of ``suite`` on ``column`` (范围校验)."""
    data = json.loads((SUITES / f"{suite}.json").read_text(encoding="utf-8"))
    return [
        e["kwargs"]
        for e in data["expectations"]
        if e["type"] == "expect_column_values_to_be_between" and e["kwargs"].get("column") == column
    ]


def test_no_suite_repeats_the_score_bounds_or_the_grade_bands() -> None:
    """The project total's [0, 100] and the grade bands are dbt's (one owner); a suite may
    still bound other scores, but not these, and no suite conditions a range on a grade."""
    bands = (PROJECT_ROOT / "seeds" / "grade_bands.csv").read_text(encoding="utf-8")
    assert "standard,优" in bands
    for rule, (column, dbt_test, suite) in DBT_OWNED_ON_SHARED_COLUMNS.items():
        assert (DBT_TESTS / f"{dbt_test}.sql").read_text(encoding="utf-8").strip(), rule
        assert score_ranges(suite, column) == [], (rule, suite)
    for path in SUITES.glob("*.json"):
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            condition = e["kwargs"].get("row_condition") or {}
            assert (condition.get("column") or {}).get("name") != "grade", path.name


def test_the_check_sees_a_copy() -> None:
    """The check reads the suites' columns: the ledger gap, which the gate owns, is found."""
    assert "ledger_gap_yuan" in suite_columns("marts__payment_reconciliation")
    assert score_ranges("marts__mart_project_year", "evaluator_score")
