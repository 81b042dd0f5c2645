-- 项目三级指标完成情况 (what a report says of each project's indicators): per project and year
-- the number of third-level indicators, how many got full marks on review
-- (fct_indicator_scores.is_full_marks) and how many did not (an indicator whose score or weight
-- is unknown is not counted as full marks), and the full-marks share.
with

indicators as (
    select * from {{ ref('mart_indicator_results') }}
),

counted as (
    select
        project_key,
        fiscal_year,
        max(department_name) as department_name,
        count(*) as indicator_count,
        sum(case when is_full_marks then 1 else 0 end) as full_marks_count
    from indicators
    group by project_key, fiscal_year
),

final as (
    select
        {{ surrogate_key(['project_key', 'fiscal_year']) }} as project_indicators_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(department_name as {{ dbt.type_string() }}) as department_name,
        cast(indicator_count as integer) as indicator_count,
        cast(full_marks_count as integer) as full_marks_count,
        cast(indicator_count - full_marks_count as integer) as short_of_full_marks_count,
        {{ ratio('full_marks_count', 'indicator_count', input_scale=0) }} as full_marks_share
    from counted
)

select * from final
