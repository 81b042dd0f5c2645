-- MetricFlow 时间轴 (MetricFlow time spine): one row per calendar day of every year in
-- marts.dim_date, the table MetricFlow joins when a query asks for metric_time. The metrics
-- themselves are yearly (agg_time_dimension fiscal_year_start, granularity year).
with

dates as (
    select * from {{ ref('dim_date') }}
)

select cast(calendar_date as date) as date_day
from dates
