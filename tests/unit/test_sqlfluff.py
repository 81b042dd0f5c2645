"""sqlfluff lint of the dbt models (SQL 规范检查).

The configuration is ``.sqlfluff`` at the repository root (dialect duckdb, jinja templater
with the project's macros and ``dbt_project/sqlfluff_libs``; why not the dbt templater is
written there). sqlfluff runs as a subprocess: its jinja templater imports the library
folder into ``sys.modules``, which this test process should not share.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jixiao.config import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SQLFLUFF = Path(sys.executable).with_name("sqlfluff")


def lint(paths: list[str], cwd: Path) -> list[dict[str, Any]]:
    """``sqlfluff lint`` of ``paths`` (relative to ``cwd``): one result per file linted."""
    proc = subprocess.run(
        [str(SQLFLUFF), "lint", *paths, "--format", "json", "--processes", "2"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    # 0: no violations, 1: violations; anything else is sqlfluff failing to run
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return results


def violations(results: list[dict[str, Any]]) -> list[str]:
    return [
        f"{r['filepath']}:{v['start_line_no']}: {v['code']} {v['description']}"
        for r in results
        for v in r["violations"]
    ]


def test_dbt_models_pass_sqlfluff() -> None:
    results = lint(["dbt_project/models"], PROJECT_ROOT)
    found = violations(results)
    assert not found, "sqlfluff lint dbt_project/models:\n  " + "\n  ".join(found)
    # every model was linted (none skipped, e.g. for its size)
    models = sorted(
        str(p.relative_to(PROJECT_ROOT))
        for p in (PROJECT_ROOT / "dbt_project/models").rglob("*.sql")
    )
    assert sorted(r["filepath"] for r in results) == models


def test_sqlfluff_reports_a_badly_formatted_model(tmp_path: Path) -> None:
    """In a copy of the project, a sloppy model fails and a real model next to it passes."""
    shutil.copy(PROJECT_ROOT / ".sqlfluff", tmp_path / ".sqlfluff")
    for folder in ("macros", "sqlfluff_libs"):
        shutil.copytree(
            PROJECT_ROOT / "dbt_project" / folder,
            tmp_path / "dbt_project" / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    marts = tmp_path / "dbt_project" / "models" / "marts"
    marts.mkdir(parents=True)
    shutil.copy(
        PROJECT_ROOT / "dbt_project/models/marts/performance/mart_department_year.sql",
        marts / "mart_department_year.sql",
    )
    (marts / "mart_sloppy.sql").write_text(
        "SELECT project_key,SUM(amount_yuan) total   \n"
        "from {{ ref('fct_payments') }} AS payments\n"
        "group by project_key\n",
        encoding="utf-8",
    )
    results = lint(["dbt_project/models"], tmp_path)
    by_file = {Path(r["filepath"]).name: {v["code"] for v in r["violations"]} for r in results}
    assert by_file["mart_department_year.sql"] == set()
    # upper-case keywords, no space after a comma, trailing spaces, an alias without `as`
    assert {"CP01", "LT01", "AL02"} <= by_file["mart_sloppy.sql"], by_file
