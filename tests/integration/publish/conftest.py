"""Small synthetic warehouses for the publish tests (发布测试用的小型合成工作库).

Every table carries a ``run_id`` column holding the run that built it, so a reader can check
that everything it sees belongs to the version named in ``marts._publish_info``.

These synthetic marts are not shaped for the real GX suites, so ``make_marts`` records a
passing marts gate result for exactly the state it built (:func:`approve_marts`); the tests
of the gate enforcement itself (``test_gate_publish_enforced.py``) run the real gate.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from jixiao.config import Settings, get_settings
from jixiao.publish.publisher import warehouse_marts_fingerprint

MakeMarts = Callable[..., Settings]


def build_marts(settings: Settings, run_id: str, n_projects: int, *, broken: bool = False) -> None:
    """(Re)build ``warehouse/jixiao.duckdb`` with a few marts shaped like the real ones.

    ``broken=True`` adds a view that fails when it is read, after the good tables in name
    order, so a publish fails midway through copying.
    """
    settings.ensure()
    settings.warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("create schema staging; create schema marts")
        con.execute(
            """
            create table staging.stg_projects as
            select 'P' || lpad(i::varchar, 4, '0') as project_key,
                   '项目' || i as project_name,
                   case when i % 2 = 0 then '教育局' else '财政局' end as department_name
            from range(?) as r(i)
            """,
            [n_projects],
        )
        con.execute(
            """
            create table marts.fct_budget as
            select p.project_key, y.fiscal_year, '一般公共预算' as fund_source,
                   (1000 * (row_number() over ()) + 0.25)::decimal(18, 2) as final_yuan,
                   ?::varchar as run_id
            from staging.stg_projects as p
            cross join (values (2023), (2024)) as y(fiscal_year)
            """,
            [run_id],
        )
        con.execute("comment on table marts.fct_budget is '预算事实表 / budget facts'")
        con.execute("comment on column marts.fct_budget.final_yuan is '调整后预算（元）'")
        con.execute(
            "create table marts.dim_department as "
            "select distinct department_name, ?::varchar as run_id from staging.stg_projects",
            [run_id],
        )
        # A dbt-style view, catalog-qualified the way dbt-duckdb writes it.
        con.execute(
            """
            create view marts.mart_project_year as
            select b.project_key, b.fiscal_year, p.project_name, p.department_name,
                   b.final_yuan as final_budget_yuan, b.run_id
            from jixiao.marts.fct_budget as b
            inner join jixiao.staging.stg_projects as p using (project_key)
            """
        )
        if broken:
            con.execute(
                "create view marts.zz_broken as "
                "select error('模拟构建失败 / simulated failure') as boom, "
                f"'{run_id}' as run_id"
            )
    finally:
        con.close()


def approve_marts(settings: Settings) -> str:
    """Record a passing marts gate for the warehouse's current marts (a stand-in for GX)."""
    fingerprint = warehouse_marts_fingerprint(settings)
    path = settings.quality / "gates" / "marts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "gate": "marts",
        "year": None,
        "success": True,
        "run_at": "2026-01-01T00:00:00+00:00",
        "run_id": "approved-by-test",
        "critical_failure_count": 0,
        "marts_fingerprint": fingerprint,
        "suites": [],
    }
    path.write_text(json.dumps(result), encoding="utf-8")
    return fingerprint


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return get_settings(tmp_path / "home").ensure()


@pytest.fixture
def make_marts(settings: Settings) -> MakeMarts:
    def _make(run_id: str, n_projects: int = 3, *, broken: bool = False) -> Settings:
        build_marts(settings, run_id, n_projects, broken=broken)
        if not broken:  # a broken view cannot be read, so it cannot be fingerprinted
            approve_marts(settings)
        return settings

    return _make
