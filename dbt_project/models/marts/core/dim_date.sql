-- 日期维度 (date dimension): every date of every year present (fiscal years and the years of
-- payment dates), with month, quarter, day of year and the share of the year elapsed (序时进度).
-- Portable: the day numbers come from dbt's generate_series (a powers-of-two cross join), the
-- dates from dbt.dateadd and the calendar fields from the dispatched date-part macros.
with

fiscal_years as (
    select * from {{ ref('dim_fiscal_year') }}
),

payments as (
    select * from {{ ref('int_payments_deduplicated') }}
),

day_numbers as (
    {{ dbt.generate_series(366) }}
),

payment_years as (
    select distinct
        {{ extract_date_part('year', 'payment_date') }} as calendar_year
    from payments
    where payment_date is not null
),

years as (
    select fiscal_year as calendar_year from fiscal_years
    union
    select calendar_year from payment_years
),

year_bounds as (
    select
        calendar_year,
        cast({{ dbt.concat(["cast(calendar_year as " ~ dbt.type_string() ~ ")", "'-01-01'"]) }} as date) as year_start_date,
        cast({{ dbt.concat(["cast(calendar_year as " ~ dbt.type_string() ~ ")", "'-12-31'"]) }} as date) as year_end_date
    from years
),

spined as (
    select
        year_bounds.calendar_year,
        year_bounds.year_end_date,
        cast(day_numbers.generated_number as integer) as day_of_year,
        cast({{ dbt.dateadd('day', 'cast(day_numbers.generated_number as integer) - 1', 'year_bounds.year_start_date') }} as date) as calendar_date
    from year_bounds
    cross join day_numbers
),

in_year as (
    select
        calendar_date,
        calendar_year,
        day_of_year,
        {{ extract_date_part('month', 'calendar_date') }} as month,
        {{ extract_date_part('day', 'calendar_date') }} as day_of_month,
        {{ day_of_week_iso('calendar_date') }} as day_of_week_iso,
        count(*) over (partition by calendar_year) as days_in_year
    from spined
    where calendar_date <= year_end_date
),

with_month_end as (
    select
        in_year.*,
        max(day_of_month) over (partition by calendar_year, month) as days_in_month
    from in_year
),

final as (
    select
        cast(calendar_date as date) as calendar_date,
        cast(calendar_year as integer) as fiscal_year,
        cast(month as integer) as month,
        cast(case
            when month <= 3 then 1
            when month <= 6 then 2
            when month <= 9 then 3
            else 4
        end as integer) as quarter,
        cast(calendar_year * 100 + month as integer) as year_month,
        cast(day_of_month as integer) as day_of_month,
        cast(day_of_year as integer) as day_of_year,
        cast(days_in_year as integer) as days_in_year,
        cast(day_of_week_iso as integer) as day_of_week_iso,
        cast(day_of_week_iso >= 6 as boolean) as is_weekend,
        cast(day_of_month = days_in_month as boolean) as is_month_end,
        cast({{ divide('day_of_year', 'days_in_year') }} as decimal(12, 6)) as year_elapsed_rate,
        cast({{ divide('month', '12') }} as decimal(12, 6)) as month_schedule_rate
    from with_month_end
)

select * from final
