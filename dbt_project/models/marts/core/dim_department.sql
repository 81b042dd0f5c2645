-- 部门维度 (department dimension) with region: province > city > county.
with

projects as (
    select * from {{ ref('dim_project') }}
),

departments as (
    select
        department_name,
        max(province) as province,
        max(city) as city,
        max(county) as county
    from projects
    group by department_name
),

final as (
    select
        department_name,
        province,
        city,
        county,
        cast(case
            when county is not null then 'county'
            when city is not null then 'city'
            when province is not null then 'province'
        end as {{ dbt.type_string() }}) as region_level
    from departments
)

select * from final
