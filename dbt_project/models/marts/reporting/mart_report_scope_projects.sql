-- 报告范围与所含项目 (which projects each yearly report covers): one row per report scope
-- (a department, or a region of mart_region_year), year and top-level project. Sub-projects
-- are inside their parent's rolled-up figures and are not members, as in mart_department_year;
-- a region level left empty covers every project below it (a city row without a county covers
-- the city's counties).
with

project_years_all as (
    select * from {{ ref('mart_project_year') }}
),

regions as (
    select * from {{ ref('mart_region_year') }}
),

project_years as (
    {{ top_level_projects('project_years_all') }}
),

departments as (
    select
        'department' as scope_kind,
        department_name as scope_name,
        department_name,
        cast(null as {{ dbt.type_string() }}) as province,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as county,
        fiscal_year,
        project_key
    from project_years
),

region_members as (
    select
        'region' as scope_kind,
        regions.region_name as scope_name,
        project_years.department_name,
        regions.province,
        regions.city,
        regions.county,
        regions.fiscal_year,
        project_years.project_key
    from regions
    inner join project_years
        on regions.fiscal_year = project_years.fiscal_year
        and (regions.province is null or regions.province = project_years.province)
        and (regions.city is null or regions.city = project_years.city)
        and (regions.county is null or regions.county = project_years.county)
),

unioned as (
    select * from departments
    union all
    select * from region_members
),

final as (
    select
        {{ surrogate_key(['scope_kind', 'scope_name', 'fiscal_year', 'project_key']) }} as scope_project_id,
        {{ surrogate_key(['scope_kind', 'scope_name', 'fiscal_year']) }} as scope_id,
        cast(scope_kind as {{ dbt.type_string() }}) as scope_kind,
        cast(scope_name as {{ dbt.type_string() }}) as scope_name,
        cast(department_name as {{ dbt.type_string() }}) as department_name,
        cast(province as {{ dbt.type_string() }}) as province,
        cast(city as {{ dbt.type_string() }}) as city,
        cast(county as {{ dbt.type_string() }}) as county,
        cast(fiscal_year as integer) as fiscal_year,
        cast(project_key as {{ dbt.type_string() }}) as project_key
    from unioned
)

select * from final
