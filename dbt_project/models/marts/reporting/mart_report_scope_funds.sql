-- 报告范围的资金合计 (the 合计 row of a report's budget table): per report scope and year, the
-- sums of its projects' 年初预算 / 追加 / 压减 / 全年预算 / 实际到位 / 实际支出 / 结余 and the rates
-- on them. A sum is unknown (null) when any project's amount is unknown: an unknown 实际到位
-- never counts as zero.
with

members as (
    select * from {{ ref('mart_report_scope_projects') }}
),

projects as (
    select * from {{ ref('mart_project_year') }}
),

funds as (
    select * from {{ ref('mart_report_project_funds') }}
),

joined as (
    select
        members.scope_id,
        members.scope_kind,
        members.scope_name,
        members.fiscal_year,
        members.project_key,
        funds.initial_yuan,
        funds.additions_yuan,
        funds.cuts_yuan,
        projects.final_budget_yuan,
        projects.allocated_yuan,
        projects.spent_yuan,
        projects.balance_yuan
    from members
    inner join projects
        on members.project_key = projects.project_key
        and members.fiscal_year = projects.fiscal_year
    left join funds
        on members.project_key = funds.project_key
        and members.fiscal_year = funds.fiscal_year
),

summed as (
    select
        scope_id,
        scope_kind,
        scope_name,
        fiscal_year,
        count(*) as project_count,
        case when count(initial_yuan) = count(*) then sum(initial_yuan) end as initial_yuan,
        case when count(additions_yuan) = count(*) then sum(additions_yuan) end as additions_yuan,
        case when count(cuts_yuan) = count(*) then sum(cuts_yuan) end as cuts_yuan,
        case when count(final_budget_yuan) = count(*) then sum(final_budget_yuan) end as final_budget_yuan,
        case when count(allocated_yuan) = count(*) then sum(allocated_yuan) end as allocated_yuan,
        sum(spent_yuan) as spent_yuan,
        case when count(balance_yuan) = count(*) then sum(balance_yuan) end as balance_yuan
    from joined
    group by scope_id, scope_kind, scope_name, fiscal_year
),

final as (
    select
        cast(scope_id as {{ dbt.type_string() }}) as scope_id,
        cast(scope_kind as {{ dbt.type_string() }}) as scope_kind,
        cast(scope_name as {{ dbt.type_string() }}) as scope_name,
        cast(fiscal_year as integer) as fiscal_year,
        cast(project_count as integer) as project_count,
        cast(initial_yuan as decimal(18, 2)) as initial_yuan,
        cast(additions_yuan as decimal(18, 2)) as additions_yuan,
        cast(cuts_yuan as decimal(18, 2)) as cuts_yuan,
        cast(final_budget_yuan as decimal(18, 2)) as final_budget_yuan,
        cast(allocated_yuan as decimal(18, 2)) as allocated_yuan,
        {{ ratio('allocated_yuan', 'final_budget_yuan') }} as allocation_rate,
        cast(spent_yuan as decimal(18, 2)) as spent_yuan,
        {{ ratio('spent_yuan', 'final_budget_yuan') }} as execution_rate,
        cast(balance_yuan as decimal(18, 2)) as balance_yuan
    from summed
)

select * from final
