"""Portability: no DuckDB-only SQL outside engine overrides (可移植性检查).

Scans the real dbt project's raw SQL (models, tests, macros) and proves the scanner catches
each construct it claims to catch, and only where it matters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.config import get_settings
from jixiao.warehouse.portability import (
    ENGINE_SPECIFIC,
    find_engine_specific_sql,
    find_in_text,
    sql_files,
)

DUCKDB_ONLY = {
    "::": "select amount::decimal(18, 2) as amount_yuan from payments",
    "qualify": "select * from payments qualify row_number() over (order by paid_on) = 1",
    "epoch": "select epoch(paid_on) as seconds from payments",
    "strftime": "select strftime(paid_on, '%Y-%m') as year_month from payments",
    "strptime": "select strptime(paid_text, '%Y%m%d') as paid_on from payments",
    "date_trunc": "select date_trunc('month', paid_on) as month_start from payments",
    "date_part": "select date_part('doy', paid_on) as day_of_year from payments",
    "date_diff": "select date_diff('day', start_on, paid_on) as days from payments",
    "date_add": "select date_add(paid_on, 1) as next_day from payments",
    "interval": "select paid_on + interval 1 day as next_day from payments",
    "day functions": "select dayofyear(paid_on) as day_of_year from payments",
    "make_date": "select make_date(fiscal_year, 1, 1) as year_start from years",
    "today/now": "select today() as load_date",
    "list/array function": "select list_aggregate(amounts, 'sum') as total from payments",
    "list literal": "select [1, 2, 3] as months",
    "unnest": "select unnest(months) as month from calendar",
    "string_agg": "select string_agg(payee, ',') as payees from payments",
    "struct": "select struct_pack(a := 1) as s",
    "duckdb integer type": "select cast(amount as hugeint) as cents from payments",
    "ilike": "select * from projects where project_name ilike '%数字%'",
    "regexp": "select regexp_replace(project_name, '\\s', '') as name from projects",
    "select * exclude/replace": "select * exclude (file_hash) from payments",
    "columns()": "select max(columns(*)) from payments",
    "group/order by all": "select project_key, sum(amount) from payments group by all",
    "union by name": "select 1 as a union all by name select 2 as a",
    "pivot": "pivot budget on fund_source using sum(amount)",
    "try_cast": "select try_cast(amount_text as decimal(18, 2)) as amount from payments",
    "count_if": "select count_if(amount > 0) as paid from payments",
    "arg_max/arg_min": "select arg_max(file_name, loaded_at) as latest from submissions",
    "any_value": "select any_value(payee) as payee from payments",
    "avg": "select avg(recomputed_score) as average_score from scores",
    "first/last": "select first(payee) as payee from payments",
    "if/iif/ifnull/nvl": "select ifnull(payee, '') as payee from payments",
    "generate_series/range": "select * from range(12)",
    "integer division //": "select month // 3 as quarter from calendar",
    "json arrows": "select payload->>'amount' as amount from events",
    "file readers": "select * from read_csv_auto('payments.csv')",
}


def test_every_declared_construct_has_an_example() -> None:
    assert {c.name for c in ENGINE_SPECIFIC} == set(DUCKDB_ONLY)


@pytest.mark.parametrize("construct", sorted(DUCKDB_ONLY))
def test_scanner_catches_duckdb_only_construct(construct: str) -> None:
    body = DUCKDB_ONLY[construct]
    sql = f"-- 示例模型\nwith\n\nfinal as (\n    {body}\n)\n\nselect * from final\n"
    found = find_in_text(sql, Path("models/example.sql"))
    assert construct in {f.construct for f in found}
    hit = next(f for f in found if f.construct == construct)
    assert hit.line == 5
    assert "models/example.sql:5" in hit.message()
    assert "数据库专有写法" in hit.message() and "engine-specific SQL" in hit.message()


def test_portable_sql_is_not_flagged() -> None:
    sql = """
    -- ANSI and dbt cross-database macros only
    select
        cast(amount as decimal(18, 2)) as amount_yuan,
        extract(month from paid_on) as month,
        case when amount > 0 then 1 else 0 end as is_paid,
        coalesce(payee, '') as payee,
        row_number() over (partition by project_key order by paid_on) as payment_rank,
        {{ dbt.dateadd('day', 1, 'paid_on') }} as next_day,
        {{ dbt.concat(["'['", 'payee', "']'"]) }} as payee_label
    from {{ ref('stg_raw__payments') }}
    where payee like '%局%' and note <> 'a::b [x] // today()'
    group by 1, 2, 3, 4, 5, 6, 7
    """
    assert find_in_text(sql) == []


def test_comments_strings_jinja_and_engine_overrides_are_ignored() -> None:
    sql = """
    {#- qualify and :: in a Jinja comment -#}
    /* date_trunc('month', x) in a block comment */
    {% macro divide(a, b) -%}
        {{ return(adapter.dispatch('divide', 'jixiao')(a, b)) }}
    {%- endmacro %}

    {% macro duckdb__divide(a, b) -%}
        cast({{ a }} as hugeint) // cast({{ b }} as hugeint)
    {%- endmacro %}

    {% macro default__divide(a, b) -%}
        cast({{ a }} as numeric) / {{ b }}
    {%- endmacro %}
    """
    assert find_in_text(sql) == []


def test_default_implementation_must_be_portable() -> None:
    sql = """{% macro default__quarter(d) -%}
    date_trunc('quarter', {{ d }})
{%- endmacro %}
"""
    found = find_in_text(sql, Path("macros/quarter.sql"))
    assert [(f.construct, f.line) for f in found] == [("date_trunc", 2)]


def test_project_sql_is_portable() -> None:
    """模型、测试与宏的可移植部分不含 DuckDB 专有写法 (the real project passes the scan)."""
    project_dir = get_settings().dbt_project_dir
    scanned = list(sql_files(project_dir))
    assert len([p for p in scanned if "models" in p.parts]) >= 50  # the scan really ran
    findings = find_engine_specific_sql(project_dir)
    assert findings == [], "\n".join(f.message() for f in findings)
