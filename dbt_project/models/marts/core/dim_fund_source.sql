-- 资金来源维度 (fund source dimension).
with

fund_sources as (
    select * from {{ ref('fund_sources') }}
),

final as (
    select
        cast(fund_source as {{ dbt.type_string() }}) as fund_source,
        cast(fund_source_zh as {{ dbt.type_string() }}) as fund_source_zh,
        cast(fund_source_en as {{ dbt.type_string() }}) as fund_source_en,
        cast(sort_order as integer) as sort_order
    from fund_sources
)

select * from final
