-- 预算按类型汇总 (budget amounts per project, year and fund source, one column per line type).
-- Budget lines come first; the self-evaluation form's funding block fills what lines lack.
-- Where a file gives only fund-source components, a 'total' row is derived from them.
with

budget_lines as (
    select * from {{ ref('int_budget_lines_deduplicated') }}
),

funding_reported as (
    select * from {{ ref('int_funding_reported_deduplicated') }}
),

lines_pivoted as (
    select
        project_key,
        fiscal_year,
        fund_source,
        sum(case when line_type = 'initial' then amount_yuan end) as initial_yuan,
        sum(case when line_type = 'addition' then amount_yuan end) as additions_yuan,
        sum(case when line_type = 'cut' then amount_yuan end) as cuts_yuan,
        sum(case when line_type = 'final' then amount_yuan end) as stated_final_yuan,
        sum(case when line_type = 'allocated' then amount_yuan end) as allocated_local_yuan,
        sum(case when line_type = 'transfer_down' then amount_yuan end) as allocated_transfer_yuan,
        sum(case when line_type = 'executed' then amount_yuan end) as executed_yuan
    from budget_lines
    group by project_key, fiscal_year, fund_source
),

funding_pivoted as (
    select
        project_key,
        fiscal_year,
        fund_source,
        sum(initial_budget_yuan) as initial_yuan,
        sum(final_budget_yuan) as stated_final_yuan,
        sum(allocated_yuan) as allocated_yuan,
        sum(executed_yuan) as executed_yuan
    from funding_reported
    group by project_key, fiscal_year, fund_source
),

combined as (
    select
        coalesce(lines_pivoted.project_key, funding_pivoted.project_key) as project_key,
        coalesce(lines_pivoted.fiscal_year, funding_pivoted.fiscal_year) as fiscal_year,
        coalesce(lines_pivoted.fund_source, funding_pivoted.fund_source) as fund_source,
        coalesce(lines_pivoted.initial_yuan, funding_pivoted.initial_yuan) as initial_yuan,
        lines_pivoted.additions_yuan,
        lines_pivoted.cuts_yuan,
        coalesce(lines_pivoted.stated_final_yuan, funding_pivoted.stated_final_yuan) as stated_final_yuan,
        coalesce(lines_pivoted.allocated_local_yuan, funding_pivoted.allocated_yuan)
            as allocated_local_yuan,
        lines_pivoted.allocated_transfer_yuan,
        coalesce(lines_pivoted.executed_yuan, funding_pivoted.executed_yuan) as executed_yuan,
        false as is_derived_total
    from lines_pivoted
    full outer join funding_pivoted
        on lines_pivoted.project_key = funding_pivoted.project_key
        and lines_pivoted.fiscal_year = funding_pivoted.fiscal_year
        and lines_pivoted.fund_source = funding_pivoted.fund_source
),

derived_totals as (
    select
        components.project_key,
        components.fiscal_year,
        'total' as fund_source,
        sum(components.initial_yuan) as initial_yuan,
        sum(components.additions_yuan) as additions_yuan,
        sum(components.cuts_yuan) as cuts_yuan,
        sum(components.stated_final_yuan) as stated_final_yuan,
        sum(components.allocated_local_yuan) as allocated_local_yuan,
        sum(components.allocated_transfer_yuan) as allocated_transfer_yuan,
        sum(components.executed_yuan) as executed_yuan,
        true as is_derived_total
    from combined as components
    left join combined as stated_totals
        on components.project_key = stated_totals.project_key
        and components.fiscal_year = stated_totals.fiscal_year
        and stated_totals.fund_source = 'total'
    where components.fund_source <> 'total'
        and stated_totals.project_key is null
    group by components.project_key, components.fiscal_year
),

final as (
    select * from combined
    union all
    select * from derived_totals
)

select * from final
