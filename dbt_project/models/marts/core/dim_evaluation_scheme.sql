-- 评价体系维度 (evaluation scheme dimension): one row per scheme and first-level group.
with

schemes as (
    select * from {{ ref('evaluation_schemes') }}
),

weights as (
    select * from {{ ref('scheme_weights') }}
),

final as (
    select
        cast(schemes.scheme_code as {{ dbt.type_string() }}) as scheme_code,
        cast(schemes.scheme_name_zh as {{ dbt.type_string() }}) as scheme_name_zh,
        cast(schemes.scheme_name_en as {{ dbt.type_string() }}) as scheme_name_en,
        cast(schemes.execution_denominator as {{ dbt.type_string() }}) as execution_denominator,
        cast(weights.level1_name as {{ dbt.type_string() }}) as level1_name,
        cast(weights.level1_name_en as {{ dbt.type_string() }}) as level1_name_en,
        cast(weights.weight as decimal(20, 4)) as weight,
        cast(weights.sort_order as integer) as sort_order
    from schemes
    inner join weights
        on schemes.scheme_code = weights.scheme_code
)

select * from final
