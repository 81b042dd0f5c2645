-- 预算明细事实 (budget lines of the latest submissions, with lineage).
-- Incremental by submission (按报送增量): only the (project, year) keys whose raw inputs
-- changed are rebuilt (macros/incremental_by_submission.sql); --full-refresh rebuilds all.
{{ config(
    materialized=submission_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ submission_keys_delete(['budget_lines']) }}",
    post_hook="{{ submission_keys_save(['budget_lines']) }}",
) }}
with

budget_lines as (
    select * from {{ ref('int_budget_lines_deduplicated') }}
),

final as (
    select
        cast(budget_line_id as {{ dbt.type_string() }}) as budget_line_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(line_type as {{ dbt.type_string() }}) as line_type,
        cast(fund_source as {{ dbt.type_string() }}) as fund_source,
        cast(amount_yuan as decimal(18, 2)) as amount_yuan,
        cast(original_text as {{ dbt.type_string() }}) as original_text,
        cast(original_unit as {{ dbt.type_string() }}) as original_unit,
        cast(line_date as date) as line_date,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(file_name as {{ dbt.type_string() }}) as file_name,
        cast(sheet_name as {{ dbt.type_string() }}) as sheet_name,
        cast(row_number as integer) as row_number
    from budget_lines
    {{ submission_keys_filter(['budget_lines']) }}
)

select * from final
