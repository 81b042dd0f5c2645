-- 项目资金安排 (each project's 年初预算 / 追加 / 压减 / 全年预算 / 实际到位 for the report's
-- budget table): the budget's total line (fund source empty) where the project has one, else
-- the sum of its fund-source lines. An amount no line states stays unknown (null), never zero.
with

budget as (
    select * from {{ ref('fct_budget') }}
),

totals as (
    select
        project_key,
        fiscal_year,
        sum(initial_yuan) as initial_yuan,
        sum(additions_yuan) as additions_yuan,
        sum(cuts_yuan) as cuts_yuan,
        sum(final_yuan) as final_yuan,
        sum(allocated_yuan) as allocated_yuan,
        'total_line' as funds_basis
    from budget
    where fund_source is null
    group by project_key, fiscal_year
),

by_source as (
    select
        budget.project_key,
        budget.fiscal_year,
        sum(budget.initial_yuan) as initial_yuan,
        sum(budget.additions_yuan) as additions_yuan,
        sum(budget.cuts_yuan) as cuts_yuan,
        sum(budget.final_yuan) as final_yuan,
        sum(budget.allocated_yuan) as allocated_yuan,
        'sum_of_sources' as funds_basis
    from budget
    left join totals
        on budget.project_key = totals.project_key
        and budget.fiscal_year = totals.fiscal_year
    where budget.fund_source is not null and totals.project_key is null
    group by budget.project_key, budget.fiscal_year
),

projects as (
    select project_key, department_name from {{ ref('dim_project') }}
),

unioned as (
    select * from totals
    union all
    select * from by_source
),

final as (
    select
        {{ surrogate_key(['unioned.project_key', 'unioned.fiscal_year']) }} as project_funds_id,
        cast(unioned.project_key as {{ dbt.type_string() }}) as project_key,
        cast(unioned.fiscal_year as integer) as fiscal_year,
        cast(unioned.initial_yuan as decimal(18, 2)) as initial_yuan,
        cast(unioned.additions_yuan as decimal(18, 2)) as additions_yuan,
        cast(unioned.cuts_yuan as decimal(18, 2)) as cuts_yuan,
        cast(unioned.final_yuan as decimal(18, 2)) as final_yuan,
        cast(unioned.allocated_yuan as decimal(18, 2)) as allocated_yuan,
        cast(unioned.funds_basis as {{ dbt.type_string() }}) as funds_basis,
        cast(projects.department_name as {{ dbt.type_string() }}) as department_name
    from unioned
    left join projects on unioned.project_key = projects.project_key
)

select * from final
