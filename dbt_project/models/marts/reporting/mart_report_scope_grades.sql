-- 报告范围的等级分布 (the 等级分布 a department or region report prints): for every report scope
-- and year, each grade of the standard band set (seed grade_bands) with the number of the
-- scope's projects graded so by their self-evaluation (自评等级) and by the review (复核等级,
-- mart_project_year.grade), zero counts included.
with

scope_projects as (
    select * from {{ ref('mart_report_scope_projects') }}
),

project_years as (
    select * from {{ ref('mart_project_year') }}
),

grade_bands as (
    -- the default band set (var default_grade_band_set), the one every scheme uses today
    select * from {{ ref('grade_bands') }}
    where grade_band_set = '{{ var("default_grade_band_set") }}'
),

members as (
    select
        scope_projects.scope_kind,
        scope_projects.scope_name,
        scope_projects.fiscal_year,
        project_years.reported_grade,
        project_years.grade
    from scope_projects
    inner join project_years
        on scope_projects.project_key = project_years.project_key
        and scope_projects.fiscal_year = project_years.fiscal_year
),

scopes as (
    select distinct scope_kind, scope_name, fiscal_year from scope_projects
),

counted as (
    select
        members.scope_kind,
        members.scope_name,
        members.fiscal_year,
        grade_bands.grade,
        sum(case when members.reported_grade = grade_bands.grade then 1 else 0 end)
            as reported_project_count,
        sum(case when members.grade = grade_bands.grade then 1 else 0 end)
            as recomputed_project_count
    from members
    cross join grade_bands
    group by members.scope_kind, members.scope_name, members.fiscal_year, grade_bands.grade
),

final as (
    select
        {{ surrogate_key(['scopes.scope_kind', 'scopes.scope_name', 'scopes.fiscal_year', 'grade_bands.grade']) }} as scope_grade_id,
        {{ surrogate_key(['scopes.scope_kind', 'scopes.scope_name', 'scopes.fiscal_year']) }} as scope_id,
        cast(scopes.scope_kind as {{ dbt.type_string() }}) as scope_kind,
        cast(scopes.scope_name as {{ dbt.type_string() }}) as scope_name,
        cast(scopes.fiscal_year as integer) as fiscal_year,
        cast(grade_bands.grade as {{ dbt.type_string() }}) as grade,
        cast(grade_bands.sort_order as integer) as sort_order,
        cast(coalesce(counted.reported_project_count, 0) as integer) as reported_project_count,
        cast(coalesce(counted.recomputed_project_count, 0) as integer) as recomputed_project_count
    from scopes
    cross join grade_bands
    left join counted
        on scopes.scope_kind = counted.scope_kind
        and scopes.scope_name = counted.scope_name
        and scopes.fiscal_year = counted.fiscal_year
        and grade_bands.grade = counted.grade
)

select * from final
