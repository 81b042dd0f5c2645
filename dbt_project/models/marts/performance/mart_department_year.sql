-- 部门年度汇总 (department and year): projects, funds, execution rate, average score, flags.
with

project_years_all as (
    select * from {{ ref('mart_project_year') }}
),

project_years as (
    {{ top_level_projects('project_years_all') }}
),

summed as (
    {{ project_year_totals('project_years', ['department_name', 'fiscal_year']) }}
),

final as (
    select
        cast(department_name as {{ dbt.type_string() }}) as department_name,
        cast(fiscal_year as integer) as fiscal_year,
        cast(project_count as integer) as project_count,
        cast(final_budget_yuan as decimal(18, 2)) as final_budget_yuan,
        cast(allocated_yuan as decimal(18, 2)) as allocated_yuan,
        cast(spent_yuan as decimal(18, 2)) as spent_yuan,
        {{ ratio('spent_yuan', 'final_budget_yuan') }} as execution_rate,
        cast({{ divide('recomputed_score_sum', 'scored_project_count', 2) }} as decimal(20, 2)) as avg_recomputed_score,
        cast(flag_count as integer) as flag_count
    from summed
)

select * from final
