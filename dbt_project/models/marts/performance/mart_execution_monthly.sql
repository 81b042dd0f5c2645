-- 月度执行进度 (monthly cumulative execution vs 序时进度, lagging months flagged).
with

monthly as (
    select * from {{ ref('int_payments_monthly_cumulated') }}
),

final as (
    select
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(month as integer) as month,
        cast(month_spent_yuan as decimal(18, 2)) as month_spent_yuan,
        cast(cumulative_spent_yuan as decimal(18, 2)) as cumulative_spent_yuan,
        cast(cumulative_execution_rate as decimal(12, 6)) as cumulative_execution_rate,
        cast(time_schedule_rate as decimal(12, 6)) as time_schedule_rate,
        cast(is_lagging as boolean) as is_lagging
    from monthly
)

select * from final
