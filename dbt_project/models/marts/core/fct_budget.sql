-- 预算事实 (budget per project, year and fund source): final = initial + additions - cuts.
-- Incremental by submission (按报送增量): only the (project, year) keys whose raw inputs
-- changed are rebuilt (macros/incremental_by_submission.sql); --full-refresh rebuilds all.
{{ config(
    materialized=submission_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ submission_keys_delete(['budget_lines', 'funding_reported']) }}",
    post_hook="{{ submission_keys_save(['budget_lines', 'funding_reported']) }}",
) }}
with

budget as (
    select * from {{ ref('int_budget_amounts_reconciled') }}
),

final as (
    select
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(fund_source as {{ dbt.type_string() }}) as fund_source,
        cast(initial_yuan as decimal(18, 2)) as initial_yuan,
        cast(additions_yuan as decimal(18, 2)) as additions_yuan,
        cast(cuts_yuan as decimal(18, 2)) as cuts_yuan,
        cast(final_yuan as decimal(18, 2)) as final_yuan,
        cast(stated_final_yuan as decimal(18, 2)) as stated_final_yuan,
        cast(allocated_local_yuan as decimal(18, 2)) as allocated_local_yuan,
        cast(allocated_transfer_yuan as decimal(18, 2)) as allocated_transfer_yuan,
        cast(allocated_yuan as decimal(18, 2)) as allocated_yuan,
        cast(executed_yuan as decimal(18, 2)) as executed_yuan,
        cast(is_adjustment_implied as boolean) as is_adjustment_implied,
        cast(is_derived_total as boolean) as is_derived_total
    from budget
    {{ submission_keys_filter(['budget_lines', 'funding_reported']) }}
)

select * from final
