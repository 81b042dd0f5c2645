-- 复核清单 (review flags for evaluators), one row per finding.
with

flags as (
    select * from {{ ref('int_review_flags_unioned') }}
),

projects as (
    -- 部门键 (department key, as dim_department names it) for slicing by department
    select project_key, department_name from {{ ref('dim_project') }}
),

final as (
    select
        cast(flags.flag_id as {{ dbt.type_string() }}) as flag_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(flag_code as {{ dbt.type_string() }}) as flag_code,
        cast(severity as {{ dbt.type_string() }}) as severity,
        cast(indicator_id as {{ dbt.type_string() }}) as indicator_id,
        cast(message_zh as {{ dbt.type_string() }}) as message_zh,
        cast(message_en as {{ dbt.type_string() }}) as message_en,
        cast(detail as {{ dbt.type_string() }}) as detail,
        cast(execution_rate as decimal(12, 6)) as execution_rate,
        cast(final_yuan as decimal(18, 2)) as final_yuan,
        cast(spent_yuan as decimal(18, 2)) as spent_yuan,
        cast(projects.department_name as {{ dbt.type_string() }}) as department_name
    from flags
    left join projects using (project_key)
)

select * from final
