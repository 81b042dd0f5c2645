-- 月度累计执行 (monthly cumulative spending against 序时进度, the share of the year elapsed).
-- Only project-years with dated payments and a final budget; time_schedule_rate = month / 12;
-- lagging when the cumulative rate is below the schedule by more than lagging_tolerance.
with

payments as (
    select * from {{ ref('int_payments_deduplicated') }} where payment_date is not null
),

financials as (
    select * from {{ ref('int_project_years_financials') }}
),

months as (
    select * from {{ ref('calendar_months') }}
),

thresholds as (
    select * from {{ ref('review_thresholds') }}
),

project_years as (
    select distinct payments.project_key, payments.fiscal_year, financials.final_yuan
    from payments
    inner join financials
        on payments.project_key = financials.project_key
        and payments.fiscal_year = financials.fiscal_year
    where financials.final_yuan > 0
),

monthly as (
    select
        project_key,
        fiscal_year,
        cast({{ date_part_month('payment_date') }} as integer) as month,
        sum(amount_yuan) as spent_yuan
    from payments
    group by 1, 2, 3
),

grid as (
    select
        project_years.project_key,
        project_years.fiscal_year,
        project_years.final_yuan,
        months.month,
        coalesce(monthly.spent_yuan, 0) as month_spent_yuan
    from project_years
    cross join months
    left join monthly
        on project_years.project_key = monthly.project_key
        and project_years.fiscal_year = monthly.fiscal_year
        and months.month = monthly.month
),

cumulated as (
    select
        grid.*,
        sum(month_spent_yuan) over (
            partition by project_key, fiscal_year order by month
            rows between unbounded preceding and current row
        ) as cumulative_spent_yuan
    from grid
),

final as (
    select
        cumulated.project_key,
        cumulated.fiscal_year,
        cumulated.month,
        cast(cumulated.month_spent_yuan as decimal(18, 2)) as month_spent_yuan,
        cast(cumulated.cumulative_spent_yuan as decimal(18, 2)) as cumulative_spent_yuan,
        {{ ratio('cumulated.cumulative_spent_yuan', 'cumulated.final_yuan') }} as cumulative_execution_rate,
        cast({{ divide('cumulated.month', '12') }} as decimal(12, 6)) as time_schedule_rate,
        {{ divide('cumulated.cumulative_spent_yuan', 'cumulated.final_yuan', 12, 2) }}
            < {{ divide('cumulated.month', '12') }} - thresholds.threshold_value as is_lagging
    from cumulated
    cross join thresholds
    where thresholds.threshold_code = 'lagging_tolerance'
)

select * from final
