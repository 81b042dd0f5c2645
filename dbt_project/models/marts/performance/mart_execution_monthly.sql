-- 月度执行进度 (monthly cumulative execution vs 序时进度, lagging months flagged).
with

monthly as (
    select * from {{ ref('int_payments_monthly_cumulated') }}
),

project_years as (
    select project_key, fiscal_year, department_name from {{ ref('mart_project_year') }}
),

final as (
    select
        cast(monthly.project_key as {{ dbt.type_string() }}) as project_key,
        cast(project_years.department_name as {{ dbt.type_string() }}) as department_name,
        cast(monthly.fiscal_year as integer) as fiscal_year,
        cast(monthly.month as integer) as month,
        cast(monthly.month_spent_yuan as decimal(18, 2)) as month_spent_yuan,
        cast(monthly.cumulative_spent_yuan as decimal(18, 2)) as cumulative_spent_yuan,
        cast(monthly.cumulative_execution_rate as decimal(12, 6)) as cumulative_execution_rate,
        cast(monthly.time_schedule_rate as decimal(12, 6)) as time_schedule_rate,
        cast(monthly.is_lagging as boolean) as is_lagging
    from monthly
    left join project_years
        on monthly.project_key = project_years.project_key
        and monthly.fiscal_year = project_years.fiscal_year
)

select * from final
