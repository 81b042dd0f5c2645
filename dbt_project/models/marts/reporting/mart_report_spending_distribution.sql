-- 报告中的子项目支出率分布 (the 支出率分布 a yearly report prints for a parent project): the
-- year's distribution in that year's report; and, for a parent whose sub-projects span several
-- years (a multi-year evaluation such as seed 001's 2019-2021), the whole period's
-- distribution in the report of the period's last year, where the evaluation counts it
-- (seed 001: 0 / 0 / 30 / 8 / 37 incl. 2 暂未下达资金). A bucket the seed counts inside another
-- (暂未下达资金 inside 低于60%, as the evaluation reports count them) adds its projects to that
-- bucket's reported_project_count and is printed as its 其中 line.
with

distribution as (
    select * from {{ ref('mart_spending_rate_distribution') }}
),

spans as (
    select
        parent_project_key,
        min(fiscal_year) as period_start_year,
        max(fiscal_year) as period_end_year
    from distribution
    where fiscal_year is not null
    group by parent_project_key
),

per_year as (
    select
        distribution.*,
        distribution.fiscal_year as report_year,
        distribution.fiscal_year as period_start_year,
        distribution.fiscal_year as period_end_year,
        false as is_whole_period
    from distribution
    where distribution.fiscal_year is not null
),

whole_period as (
    select
        distribution.*,
        spans.period_end_year as report_year,
        spans.period_start_year,
        spans.period_end_year,
        true as is_whole_period
    from distribution
    inner join spans on distribution.parent_project_key = spans.parent_project_key
    where distribution.fiscal_year is null
        and spans.period_start_year < spans.period_end_year
),

unioned as (
    select * from per_year
    union all
    select * from whole_period
),

counted as (
    {{ report_bucket_counts('unioned', ['parent_project_key', 'report_year', 'is_whole_period']) }}
),

final as (
    select
        {{ surrogate_key(['parent_project_key', 'report_year', 'is_whole_period', 'bucket_code']) }} as report_distribution_id,
        cast(parent_project_key as {{ dbt.type_string() }}) as parent_project_key,
        cast(report_year as integer) as report_year,
        cast(period_start_year as integer) as period_start_year,
        cast(period_end_year as integer) as period_end_year,
        cast(is_whole_period as boolean) as is_whole_period,
        cast(bucket_code as {{ dbt.type_string() }}) as bucket_code,
        cast(bucket_label as {{ dbt.type_string() }}) as bucket_label,
        cast(project_count as integer) as project_count,
        cast(sort_order as integer) as sort_order,
        cast(department_name as {{ dbt.type_string() }}) as department_name,
        cast(counted_in_bucket_code as {{ dbt.type_string() }}) as counted_in_bucket_code,
        cast(coalesce(report_label, bucket_label) as {{ dbt.type_string() }}) as report_label,
        cast(reported_project_count as integer) as reported_project_count,
        cast(total_project_count as integer) as total_project_count
    from counted
)

select * from final
