-- 指标维度 (indicator dimension): one row per distinct indicator definition (一级/二级/三级指标,
-- kind, direction, unit) across projects and years. indicator_key is a hash of those six fields,
-- so the same definition keeps the same key in every build.
with

indicator_scores as (
    select * from {{ ref('int_indicators_scored') }}
),

definitions as (
    select
        indicator_key,
        level1_name,
        level2_name,
        level3_name,
        kind,
        direction,
        unit,
        count(*) as indicator_count,
        count(distinct project_key) as project_count,
        min(fiscal_year) as first_fiscal_year,
        max(fiscal_year) as last_fiscal_year
    from indicator_scores
    group by indicator_key, level1_name, level2_name, level3_name, kind, direction, unit
),

final as (
    select
        cast(indicator_key as {{ dbt.type_string() }}) as indicator_key,
        cast(level1_name as {{ dbt.type_string() }}) as level1_name,
        cast(level2_name as {{ dbt.type_string() }}) as level2_name,
        cast(level3_name as {{ dbt.type_string() }}) as level3_name,
        cast(kind as {{ dbt.type_string() }}) as kind,
        cast(direction as {{ dbt.type_string() }}) as direction,
        cast(unit as {{ dbt.type_string() }}) as unit,
        cast(case
            when kind = 'quantitative' then '定量'
            when kind = 'yes_no' then '是否'
            when kind = 'qualitative' then '定性'
            when kind = 'budget_rate' then '资金比率'
        end as {{ dbt.type_string() }}) as kind_zh,
        cast(indicator_count as integer) as indicator_count,
        cast(project_count as integer) as project_count,
        cast(first_fiscal_year as integer) as first_fiscal_year,
        cast(last_fiscal_year as integer) as last_fiscal_year
    from definitions
)

select * from final
