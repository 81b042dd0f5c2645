-- 预算事实 (budget per project, year and fund source): final = initial + additions - cuts.
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
)

select * from final
