-- 报告范围的三级指标完成情况 (the 绩效评价工作开展情况 sentence of a department or region
-- report): per scope and year, the third-level indicators of the scope's projects
-- (mart_report_project_indicators), with full marks on review and without.
with

scope_projects as (
    select * from {{ ref('mart_report_scope_projects') }}
),

project_indicators as (
    select * from {{ ref('mart_report_project_indicators') }}
),

summed as (
    select
        scope_projects.scope_kind,
        scope_projects.scope_name,
        scope_projects.fiscal_year,
        coalesce(sum(project_indicators.indicator_count), 0) as indicator_count,
        coalesce(sum(project_indicators.full_marks_count), 0) as full_marks_count
    from scope_projects
    left join project_indicators
        on scope_projects.project_key = project_indicators.project_key
        and scope_projects.fiscal_year = project_indicators.fiscal_year
    group by scope_projects.scope_kind, scope_projects.scope_name, scope_projects.fiscal_year
),

final as (
    select
        {{ surrogate_key(['scope_kind', 'scope_name', 'fiscal_year']) }} as scope_id,
        cast(scope_kind as {{ dbt.type_string() }}) as scope_kind,
        cast(scope_name as {{ dbt.type_string() }}) as scope_name,
        cast(fiscal_year as integer) as fiscal_year,
        cast(indicator_count as integer) as indicator_count,
        cast(full_marks_count as integer) as full_marks_count,
        cast(indicator_count - full_marks_count as integer) as short_of_full_marks_count
    from summed
)

select * from final
