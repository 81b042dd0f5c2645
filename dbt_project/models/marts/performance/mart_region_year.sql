-- 地区年度汇总 (region and year: province > city > county).
with

project_years_all as (
    select * from {{ ref('mart_project_year') }}
),

project_years as (
    {{ top_level_projects('project_years_all') }}
),

summed as (
    {{ project_year_totals('project_years', ['province', 'city', 'county', 'fiscal_year']) }}
),

final as (
    select
        {{ surrogate_key(['province', 'city', 'county', 'fiscal_year']) }} as region_year_id,
        cast(province as {{ dbt.type_string() }}) as province,
        cast(city as {{ dbt.type_string() }}) as city,
        cast(county as {{ dbt.type_string() }}) as county,
        -- 地区名称: 省市县 joined, 未指定地区 when none is known (the region report's scope name)
        cast(coalesce(
            nullif({{ dbt.concat(["coalesce(province, '')", "coalesce(city, '')", "coalesce(county, '')"]) }}, ''),
            '未指定地区'
        ) as {{ dbt.type_string() }}) as region_name,
        cast(fiscal_year as integer) as fiscal_year,
        cast(project_count as integer) as project_count,
        cast(final_budget_yuan as decimal(18, 2)) as final_budget_yuan,
        cast(spent_yuan as decimal(18, 2)) as spent_yuan,
        {{ ratio('spent_yuan', 'final_budget_yuan') }} as execution_rate
    from summed
)

select * from final
