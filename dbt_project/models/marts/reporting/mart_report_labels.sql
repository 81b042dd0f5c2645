-- 报告用代码标签 (Chinese and English labels for every code a report shows), all from seeds:
-- flag types, fund sources and spending buckets from their own seeds; severities, evaluation
-- types and scoring rules from seeds/report_code_labels.csv.
with

flag_types as (
    select * from {{ ref('review_flag_types') }}
),

fund_sources as (
    select * from {{ ref('fund_sources') }}
),

buckets as (
    select * from {{ ref('spending_rate_buckets') }}
),

code_labels as (
    select * from {{ ref('report_code_labels') }}
),

unioned as (
    select
        'flag_type' as code_type,
        flag_code as code,
        title_zh as label_zh,
        title_en as label_en,
        row_number() over (order by flag_code) as sort_order
    from flag_types
    union all
    select
        'fund_source' as code_type,
        fund_source as code,
        fund_source_zh as label_zh,
        fund_source_en as label_en,
        sort_order
    from fund_sources
    union all
    select
        'spending_bucket' as code_type,
        bucket_code as code,
        bucket_label_zh as label_zh,
        bucket_label_en as label_en,
        sort_order
    from buckets
    union all
    select code_type, code, label_zh, label_en, sort_order from code_labels
),

final as (
    select
        {{ surrogate_key(['code_type', 'code']) }} as label_id,
        cast(code_type as {{ dbt.type_string() }}) as code_type,
        cast(code as {{ dbt.type_string() }}) as code,
        cast(label_zh as {{ dbt.type_string() }}) as label_zh,
        cast(label_en as {{ dbt.type_string() }}) as label_en,
        cast(sort_order as integer) as sort_order
    from unioned
)

select * from final
