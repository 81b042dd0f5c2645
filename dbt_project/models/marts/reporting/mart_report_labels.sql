-- 报告用代码标签 (Chinese and English labels for every code a report shows): flag types, fund
-- sources and spending buckets from their seeds; severities, evaluation types and scoring
-- rules, which have no seed of their own, listed here once.
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

fixed (code_type, code, label_zh, label_en, sort_order) as (
    values
        ('severity', 'error', '严重', 'error', 1),
        ('severity', 'warning', '警示', 'warning', 2),
        ('severity', 'info', '提示', 'info', 3),
        ('evaluation_type', 'self', '单位自评', 'self-evaluation', 1),
        ('evaluation_type', 'department', '部门评价', 'department evaluation', 2),
        ('evaluation_type', 'third_party', '第三方评价', 'third-party evaluation', 3),
        ('evaluation_type', 'reported_indicators', '自评（按指标汇总）', 'self-evaluation by indicator', 4),
        ('evaluation_type', 'recomputed', '复核重算', 'recomputed', 5),
        ('rule', 'budget_execution_rate', '预算执行率 × 分值', 'budget execution rate x weight', 1),
        ('rule', 'allocation_rate', '资金到位率 × 分值', 'allocation rate x weight', 2),
        ('rule', 'higher_is_better_met', '正向指标，达到目标得满分', 'higher is better, target met: full marks', 3),
        ('rule', 'higher_is_better_proportional', '正向指标，按完成比例得分', 'higher is better: proportional to completion', 4),
        ('rule', 'lower_is_better_met', '反向指标，达到目标得满分', 'lower is better, target met: full marks', 5),
        ('rule', 'lower_is_better_linear', '反向指标，按超出比例扣分', 'lower is better: linear deduction', 6),
        ('rule', 'equal_met', '等于目标值，得满分', 'equal to target: full marks', 7),
        ('rule', 'equal_deviation', '偏离目标值，按偏差扣分', 'deviation from target: deduction bands', 8),
        ('rule', 'yes_no_met', '是否类指标，已达成', 'yes/no indicator met', 9),
        ('rule', 'yes_no_not_met', '是否类指标，未达成', 'yes/no indicator not met', 10),
        ('rule', 'qualitative_reported_checked', '定性指标，自评得分经档次核对', 'qualitative: reported score checked against its tier', 11),
        ('rule', 'qualitative_tier_max', '定性指标，按档次上限计分', 'qualitative: top of the tier', 12),
        ('rule', 'reported_used', '无可复核的数据，按自评计入', 'no data to check: reported score used', 13)
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
    select 'fund_source', fund_source, fund_source_zh, fund_source_en, sort_order from fund_sources
    union all
    select 'spending_bucket', bucket_code, bucket_label_zh, bucket_label_en, sort_order from buckets
    union all
    select code_type, code, label_zh, label_en, sort_order from fixed
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
