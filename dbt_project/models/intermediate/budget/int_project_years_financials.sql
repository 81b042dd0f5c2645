-- Materialized as a table: several models and tests read it, and as a view DuckDB would rerun
-- its whole upstream chain at each reference (物化为表以免重复计算).
{{ config(materialized='table') }}

-- 项目年度资金 (project-year funds): budget, allocated, spent and the rates.
-- spent = sum of payments when the project-year has payments, else the reported executed amount.
-- execution_rate = spent / final budget (全年执行数 / 全年预算数, self-evaluation form);
-- allocation_rate = allocated / final (资金到位率); spent_to_allocated_rate = spent / allocated
-- (预算执行率 in the department framework, seed 003).
-- A parent project without its own figures takes the sum of its sub-projects' figures for the
-- year (spent_source = 'subprojects'); has_subprojects marks such parents so that department and
-- region totals can leave the sub-projects out and count nothing twice.
with

spine as (
    select * from {{ ref('int_project_years_spined') }}
),

budget as (
    select * from {{ ref('int_budget_amounts_reconciled') }} where fund_source = 'total'
),

payments as (
    select * from {{ ref('int_payments_deduplicated') }}
),

payments_summed as (
    select
        project_key,
        fiscal_year,
        sum(amount_yuan) as paid_yuan,
        count(*) as payment_count
    from payments
    group by project_key, fiscal_year
),

projects as (
    select * from {{ ref('int_projects_deduplicated') }}
),

own as (
    select
        spine.project_key,
        spine.fiscal_year,
        budget.initial_yuan,
        budget.final_yuan,
        budget.allocated_yuan,
        coalesce(payments_summed.paid_yuan, budget.executed_yuan) as spent_yuan,
        case
            when payments_summed.paid_yuan is not null then 'payments'
            when budget.executed_yuan is not null then 'reported_executed'
        end as spent_source,
        coalesce(payments_summed.payment_count, 0) as payment_count
    from spine
    left join budget
        on spine.project_key = budget.project_key
        and spine.fiscal_year = budget.fiscal_year
    left join payments_summed
        on spine.project_key = payments_summed.project_key
        and spine.fiscal_year = payments_summed.fiscal_year
),

subprojects_summed as (
    select
        projects.parent_project_key as project_key,
        own.fiscal_year,
        sum(own.final_yuan) as final_yuan,
        sum(own.allocated_yuan) as allocated_yuan,
        sum(own.spent_yuan) as spent_yuan
    from own
    inner join projects
        on own.project_key = projects.project_key
    where projects.parent_project_key is not null
    group by projects.parent_project_key, own.fiscal_year
),

parent_years as (
    select project_key, fiscal_year from subprojects_summed
    union
    select project_key, fiscal_year from own
),

joined as (
    select
        parent_years.project_key,
        parent_years.fiscal_year,
        own.initial_yuan,
        coalesce(own.final_yuan, subprojects_summed.final_yuan) as final_yuan,
        coalesce(own.allocated_yuan, subprojects_summed.allocated_yuan) as allocated_yuan,
        cast(coalesce(own.spent_yuan, subprojects_summed.spent_yuan) as decimal(18, 2)) as spent_yuan,
        case
            when own.spent_source is not null then own.spent_source
            when subprojects_summed.spent_yuan is not null then 'subprojects'
        end as spent_source,
        coalesce(own.payment_count, 0) as payment_count,
        subprojects_summed.project_key is not null as has_subprojects
    from parent_years
    left join own
        on parent_years.project_key = own.project_key
        and parent_years.fiscal_year = own.fiscal_year
    left join subprojects_summed
        on parent_years.project_key = subprojects_summed.project_key
        and parent_years.fiscal_year = subprojects_summed.fiscal_year
),

final as (
    select
        project_key,
        fiscal_year,
        initial_yuan,
        final_yuan,
        allocated_yuan,
        spent_yuan,
        spent_source,
        payment_count,
        has_subprojects,
        cast(final_yuan - spent_yuan as decimal(18, 2)) as balance_yuan,
        {{ ratio('allocated_yuan', 'final_yuan') }} as allocation_rate,
        {{ ratio('spent_yuan', 'final_yuan') }} as execution_rate,
        {{ ratio('spent_yuan', 'allocated_yuan') }} as spent_to_allocated_rate,
        -- a percentage of the same range as execution_rate (null when that one is)
        case when {{ ratio('spent_yuan', 'final_yuan') }} is not null
            then cast({{ divide('spent_yuan * 100', 'final_yuan', 2, 2) }} as decimal(20, 2))
        end as execution_rate_pct,
        -- the rates that did not fit their columns (分母过小或单位有误), for the review flag
        {{ dbt.concat([
            "case when allocated_yuan is not null and final_yuan <> 0 and " ~ ratio('allocated_yuan', 'final_yuan') ~ " is null then 'allocation_rate ' else '' end",
            "case when spent_yuan is not null and final_yuan <> 0 and " ~ ratio('spent_yuan', 'final_yuan') ~ " is null then 'execution_rate ' else '' end",
            "case when spent_yuan is not null and allocated_yuan <> 0 and " ~ ratio('spent_yuan', 'allocated_yuan') ~ " is null then 'spent_to_allocated_rate' else '' end"
        ]) }} as rates_out_of_range
    from joined
)

select * from final
