-- 项目维度 (project dimension): the register, plus projects only known from submissions.
with

projects as (
    select * from {{ ref('int_projects_deduplicated') }}
),

submissions as (
    select * from {{ ref('int_submissions_ranked') }}
),

unregistered as (
    select
        submissions.project_key,
        max(submissions.project_name) as project_name,
        max(submissions.department_name) as department_name,
        min(submissions.fiscal_year) as period_start_year,
        max(submissions.fiscal_year) as period_end_year
    from submissions
    left join projects
        on submissions.project_key = projects.project_key
    where projects.project_key is null
    group by submissions.project_key
),

-- a project known only from a form inherits its department's region (部门所在地区)
department_regions as (
    select
        department_name,
        max(province) as province,
        max(city) as city,
        max(county) as county
    from projects
    where province is not null
    group by department_name
),

unioned as (
    select
        projects.project_key,
        projects.project_code,
        projects.project_name,
        projects.category,
        projects.department_name,
        projects.implementing_unit,
        case when {{ no_region('projects') }} then department_regions.province
            else projects.province end as province,
        case when {{ no_region('projects') }} then department_regions.city
            else projects.city end as city,
        case when {{ no_region('projects') }} then department_regions.county
            else projects.county end as county,
        projects.project_level,
        projects.period_start_year,
        projects.period_end_year,
        projects.parent_project_key
    from projects
    left join department_regions
        on projects.department_name = department_regions.department_name
    union all
    select
        unregistered.project_key,
        cast(null as {{ dbt.type_string() }}) as project_code,
        coalesce(unregistered.project_name, unregistered.project_key) as project_name,
        cast(null as {{ dbt.type_string() }}) as category,
        unregistered.department_name,
        cast(null as {{ dbt.type_string() }}) as implementing_unit,
        department_regions.province,
        department_regions.city,
        department_regions.county,
        cast(null as {{ dbt.type_string() }}) as project_level,
        unregistered.period_start_year,
        unregistered.period_end_year,
        cast(null as {{ dbt.type_string() }}) as parent_project_key
    from unregistered
    left join department_regions
        on unregistered.department_name = department_regions.department_name
),

final as (
    select
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(project_code as {{ dbt.type_string() }}) as project_code,
        cast(project_name as {{ dbt.type_string() }}) as project_name,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(department_name as {{ dbt.type_string() }}) as department_name,
        cast(implementing_unit as {{ dbt.type_string() }}) as implementing_unit,
        cast(province as {{ dbt.type_string() }}) as province,
        cast(city as {{ dbt.type_string() }}) as city,
        cast(county as {{ dbt.type_string() }}) as county,
        cast(project_level as {{ dbt.type_string() }}) as project_level,
        cast(period_start_year as integer) as period_start_year,
        cast(period_end_year as integer) as period_end_year,
        cast(parent_project_key as {{ dbt.type_string() }}) as parent_project_key
    from unioned
)

select * from final
