-- Materialized as a table: several models and tests read it, and as a view DuckDB would rerun
-- its whole upstream chain at each reference (物化为表以免重复计算).
{{ config(materialized='table') }}

-- 复核标记 (review findings for evaluators), one row per finding. Thresholds and severities are
-- seeds (review_thresholds, review_flag_types).
{%- set s = dbt.type_string() %}
with

indicator_scores as (
    select * from {{ ref('int_indicators_scored') }}
),

project_scores as (
    select * from {{ ref('int_project_scores_graded') }}
),

evaluations as (
    select * from {{ ref('int_evaluations_summarized') }}
),

period_financials as (
    select * from {{ ref('int_evaluation_periods_financials') }}
),

monthly as (
    select * from {{ ref('int_payments_monthly_cumulated') }}
),

reported_totals as (
    select * from {{ ref('int_reported_totals_compared') }}
),

versions as (
    select * from {{ ref('stg_raw__submission_versions') }}
),

project_financials as (
    select * from {{ ref('int_project_years_financials') }}
),

flag_types as (
    select * from {{ ref('review_flag_types') }}
),

thresholds_raw as (
    select * from {{ ref('review_thresholds') }}
),

thresholds as (
    select
        max(case when threshold_code = 'over_achievement_ratio' then threshold_value end) as over_achievement_ratio,
        max(case when threshold_code = 'rate_gap_tolerance' then threshold_value end) as rate_gap_tolerance,
        max(case when threshold_code = 'score_tolerance' then threshold_value end) as score_tolerance,
        max(case when threshold_code = 'weight_sum_tolerance' then threshold_value end) as weight_sum_tolerance,
        max(case when threshold_code = 'lagging_tolerance' then threshold_value end) as lagging_tolerance,
        max(case when threshold_code = 'low_execution_severe_rate' then threshold_value end) as low_execution_severe_rate,
        max(case when threshold_code = 'low_execution_rate' then threshold_value end) as low_execution_rate
    from thresholds_raw
),

indicator_score_above as (
    select
        'reported_score_above_recomputed' as flag_code,
        indicator_scores.project_key,
        indicator_scores.fiscal_year,
        indicator_scores.indicator_id,
        indicator_scores.level3_name as detail,
        {{ dbt.concat(["'指标「'", 'level3_name', "'」自评得分 '", fmt_num('reported_score'), "' 高于按规则（'", 'rule_applied', "'）重算的 '", fmt_num('recomputed_score'), "'，分值 '", fmt_num('weight')]) }} as message_zh,
        {{ dbt.concat(["'Indicator \"'", 'level3_name', "'\": reported score '", fmt_num('reported_score'), "' is above the recomputed '", fmt_num('recomputed_score'), "' (rule '", 'rule_applied', "', weight '", fmt_num('weight'), "')'"]) }} as message_en
    from indicator_scores
    cross join thresholds
    where indicator_scores.reported_score > indicator_scores.recomputed_score + thresholds.score_tolerance
),

total_score_above as (
    select
        'reported_score_above_recomputed' as flag_code,
        project_scores.project_key,
        project_scores.fiscal_year,
        cast(null as {{ s }}) as indicator_id,
        '总分/total' as detail,
        {{ dbt.concat(["'自评总分 '", fmt_num('coalesce(evaluations.self_score, project_scores.reported_indicator_score)'), "' 高于重算总分 '", fmt_num('project_scores.recomputed_score')]) }} as message_zh,
        {{ dbt.concat(["'Reported total '", fmt_num('coalesce(evaluations.self_score, project_scores.reported_indicator_score)'), "' is above the recomputed total '", fmt_num('project_scores.recomputed_score')]) }} as message_en
    from project_scores
    left join evaluations
        on project_scores.project_key = evaluations.project_key
        and project_scores.fiscal_year = evaluations.fiscal_year
    cross join thresholds
    where coalesce(evaluations.self_score, project_scores.reported_indicator_score)
        > project_scores.recomputed_score + thresholds.score_tolerance
),

indicator_rate_gap as (
    select
        'reported_rate_mismatch' as flag_code,
        indicator_scores.project_key,
        indicator_scores.fiscal_year,
        indicator_scores.indicator_id,
        indicator_scores.level3_name as detail,
        {{ dbt.concat(["'「'", 'level3_name', "'」报告执行率 '", fmt_pct('reported_rate'), "'，按金额重算为 '", fmt_pct('rate_value')]) }} as message_zh,
        {{ dbt.concat(["'\"'", 'level3_name', "'\": reported rate '", fmt_pct('reported_rate'), "', recomputed from amounts '", fmt_pct('rate_value')]) }} as message_en
    from indicator_scores
    cross join thresholds
    where indicator_scores.reported_rate is not null
        and indicator_scores.rate_value is not null
        and abs(indicator_scores.reported_rate - indicator_scores.rate_value) > thresholds.rate_gap_tolerance
),

period_rate_gap as (
    select
        'reported_rate_mismatch' as flag_code,
        period_financials.project_key,
        period_financials.fiscal_year,
        cast(null as {{ s }}) as indicator_id,
        {{ dbt.concat(["cast(period_start_year as " ~ s ~ ")", "'-'", "cast(fiscal_year as " ~ s ~ ")"]) }} as detail,
        {{ dbt.concat(["'评价期间报告支出率 '", fmt_pct('reported_rate'), "'，按 '", fmt_num('period_spent_yuan'), "' / '", fmt_num('period_final_yuan'), "' 元重算为 '", fmt_pct('period_execution_rate')]) }} as message_zh,
        {{ dbt.concat(["'Reported spending rate '", fmt_pct('reported_rate'), "' for the period; '", fmt_num('period_spent_yuan'), "' / '", fmt_num('period_final_yuan'), "' yuan recomputes to '", fmt_pct('period_execution_rate')]) }} as message_en
    from period_financials
    cross join thresholds
    where period_financials.reported_rate is not null
        and period_financials.period_execution_rate is not null
        and abs(period_financials.reported_rate - period_financials.period_execution_rate) > thresholds.rate_gap_tolerance
),

qualitative_outside as (
    select
        'qualitative_score_outside_tier' as flag_code,
        project_key,
        fiscal_year,
        indicator_id,
        level3_name as detail,
        {{ dbt.concat(["'定性指标「'", 'level3_name', "'」得分 '", fmt_num('reported_score'), "' 不在档次「'", 'tier_code', "'」区间 '", fmt_num('weight * tier_min_rate'), "'-'", fmt_num('weight * tier_max_rate'), "' 内'"]) }} as message_zh,
        {{ dbt.concat(["'Qualitative indicator \"'", 'level3_name', "'\": score '", fmt_num('reported_score'), "' is outside tier '", 'tier_code', "' range '", fmt_num('weight * tier_min_rate'), "'-'", fmt_num('weight * tier_max_rate')]) }} as message_en
    from indicator_scores
    where kind = 'qualitative'
        and tier_code is not null
        and reported_score is not null
        and (reported_score < weight * tier_min_rate or reported_score > weight * tier_max_rate)
),

target_too_low as (
    select
        'target_too_low' as flag_code,
        project_key,
        fiscal_year,
        indicator_id,
        level3_name as detail,
        {{ dbt.concat(["'指标「'", 'level3_name', "'」实际完成 '", fmt_num('actual_value', 4), "'，目标 '", fmt_num('target_value', 4), "'，为目标的 '", fmt_num(divide('actual_value', 'target_value')), "' 倍，目标可能设置偏低'"]) }} as message_zh,
        {{ dbt.concat(["'Indicator \"'", 'level3_name', "'\": actual '", fmt_num('actual_value', 4), "' is '", fmt_num(divide('actual_value', 'target_value')), "' times the target '", fmt_num('target_value', 4), "'; the target may be set too low'"]) }} as message_en
    from indicator_scores
    cross join thresholds
    where kind = 'quantitative'
        and direction = '>='
        and target_value > 0
        and actual_value >= target_value * thresholds.over_achievement_ratio
),

first_lagging_month as (
    select
        project_key,
        fiscal_year,
        min(month) as month
    from monthly
    where is_lagging
    group by project_key, fiscal_year
),

lagging as (
    select
        'lagging_execution' as flag_code,
        monthly.project_key,
        monthly.fiscal_year,
        cast(null as {{ s }}) as indicator_id,
        {{ dbt.concat(["cast(monthly.month as " ~ s ~ ")", "'月'"]) }} as detail,
        {{ dbt.concat(["cast(monthly.month as " ~ s ~ ")", "'月末累计执行率 '", fmt_pct('monthly.cumulative_execution_rate'), "'，低于序时进度 '", fmt_pct('monthly.time_schedule_rate')]) }} as message_zh,
        {{ dbt.concat(["'End of month '", "cast(monthly.month as " ~ s ~ ")", "': cumulative execution '", fmt_pct('monthly.cumulative_execution_rate'), "' is behind the time schedule '", fmt_pct('monthly.time_schedule_rate')]) }} as message_en
    from monthly
    inner join first_lagging_month
        on monthly.project_key = first_lagging_month.project_key
        and monthly.fiscal_year = first_lagging_month.fiscal_year
        and monthly.month = first_lagging_month.month
),

weights_not_100 as (
    select
        'weights_not_100' as flag_code,
        project_key,
        fiscal_year,
        cast(null as {{ s }}) as indicator_id,
        cast(weight_total as {{ s }}) as detail,
        {{ dbt.concat(["'指标权重合计为 '", fmt_num('weight_total'), "'，应为 100'"]) }} as message_zh,
        {{ dbt.concat(["'Indicator weights sum to '", fmt_num('weight_total'), "'; expected 100'"]) }} as message_en
    from project_scores
    cross join thresholds
    where abs(weight_total - 100) > thresholds.weight_sum_tolerance
),

missing_reason as (
    select
        'missing_deviation_reason' as flag_code,
        project_key,
        fiscal_year,
        indicator_id,
        level3_name as detail,
        {{ dbt.concat(["'指标「'", 'level3_name', "'」得分 '", fmt_num('reported_score'), "' 低于分值 '", fmt_num('weight'), "'，但未填写偏差原因分析'"]) }} as message_zh,
        {{ dbt.concat(["'Indicator \"'", 'level3_name', "'\": score '", fmt_num('reported_score'), "' is below its weight '", fmt_num('weight'), "' but no deviation reason is given'"]) }} as message_en
    from indicator_scores
    cross join thresholds
    where reported_score < weight - thresholds.score_tolerance
        and deviation_reason is null
        and level1_name <> '预算执行率'
),

score_unverified as (
    select
        'reported_score_unverified' as flag_code,
        project_key,
        fiscal_year,
        indicator_id,
        level3_name as detail,
        {{ dbt.concat(["'指标「'", 'level3_name', "'」缺少可复核的指标值或实际完成值，得分按自评 '", fmt_num('reported_score'), "' 计入，未经复核'"]) }} as message_zh,
        {{ dbt.concat(["'Indicator \"'", 'level3_name', "'\": no target or actual to check it by; the reported score '", fmt_num('reported_score'), "' is used unverified'"]) }} as message_en
    from indicator_scores
    where rule_applied = 'reported_used'
        and reported_score is not null
),

reported_total_differs as (
    select
        'reported_total_mismatch' as flag_code,
        project_key,
        fiscal_year,
        cast(null as {{ s }}) as indicator_id,
        {{ dbt.concat(["file_name", "' '", "sheet_name", "'!'", "cast(row_number as " ~ s ~ ")", "' '", "measure"]) }} as detail,
        case when reported_amount_yuan is not null
            then {{ dbt.concat(["'文件「'", 'file_name', "'」工作表「'", 'sheet_name', "'」第 '", "cast(row_number as " ~ s ~ ")", "' 行报告 '", fmt_num('reported_amount_yuan'), "' 元，按明细重算为 '", "coalesce(" ~ fmt_num('recomputed_amount_yuan') ~ ", '无数据')", "' 元（'", "cast(period_start_year as " ~ s ~ ")", "'-'", "cast(fiscal_year as " ~ s ~ ")", "'）'"]) }}
            else {{ dbt.concat(["'文件「'", 'file_name', "'」工作表「'", 'sheet_name', "'」第 '", "cast(row_number as " ~ s ~ ")", "' 行报告比率 '", fmt_pct('reported_rate'), "'，按明细重算为 '", "coalesce(" ~ fmt_pct('recomputed_rate') ~ ", '无数据')", "'（'", "cast(period_start_year as " ~ s ~ ")", "'-'", "cast(fiscal_year as " ~ s ~ ")", "'）'"]) }}
        end as message_zh,
        case when reported_amount_yuan is not null
            then {{ dbt.concat(["'File '", 'file_name', "', sheet '", 'sheet_name', "', row '", "cast(row_number as " ~ s ~ ")", "' states '", fmt_num('reported_amount_yuan'), "' yuan; its detail rows recompute to '", "coalesce(" ~ fmt_num('recomputed_amount_yuan') ~ ", 'no data')", "' yuan ('", "cast(period_start_year as " ~ s ~ ")", "'-'", "cast(fiscal_year as " ~ s ~ ")", "')'"]) }}
            else {{ dbt.concat(["'File '", 'file_name', "', sheet '", 'sheet_name', "', row '", "cast(row_number as " ~ s ~ ")", "' states a rate of '", fmt_pct('reported_rate'), "'; the detail recomputes to '", "coalesce(" ~ fmt_pct('recomputed_rate') ~ ", 'no data')", "' ('", "cast(period_start_year as " ~ s ~ ")", "'-'", "cast(fiscal_year as " ~ s ~ ")", "')'"]) }}
        end as message_en
    from reported_totals
    where is_different
),

older_versions as (
    select
        versions.*,
        case versions.ordered_by
            when 'filled_on' then '填报日期'
            when 'document_modified_at' then '文档修改时间'
            when 'received_at' then '文件修改时间'
            else '到达顺序'
        end as ordered_by_zh,
        case versions.ordered_by
            when 'filled_on' then 'date filled'
            when 'document_modified_at' then 'document modified time'
            when 'received_at' then 'file modification time'
            else 'arrival order'
        end as ordered_by_en
    from versions
    where versions.arrived_after_current
),

older_version_arrived_later as (
    select
        'older_version_arrived_later' as flag_code,
        older.project_key,
        older.fiscal_year,
        cast(null as {{ s }}) as indicator_id,
        older.file_name as detail,
        {{ dbt.concat(["'文件「'", "older.file_name", "'」晚于「'", "kept.file_name", "'」到达，但按文件自身的日期（'", "older.ordered_by_zh", "'）是较旧的版本：保留「'", "kept.file_name", "'」（'", "'填报日期 '", "coalesce(cast(kept.filled_on as " ~ s ~ "), '无')", "'，文档修改时间 '", "coalesce(cast(kept.document_modified_at as " ~ s ~ "), '无')", "'，文件时间 '", "coalesce(cast(kept.received_at as " ~ s ~ "), '无')", "'，到达 '", "cast(kept.arrived_at as " ~ s ~ ")", "'），「'", "older.file_name", "'」（'", "'填报日期 '", "coalesce(cast(older.filled_on as " ~ s ~ "), '无')", "'，文档修改时间 '", "coalesce(cast(older.document_modified_at as " ~ s ~ "), '无')", "'，文件时间 '", "coalesce(cast(older.received_at as " ~ s ~ "), '无')", "'，到达 '", "cast(older.arrived_at as " ~ s ~ ")", "'）留在历史中、不计入汇总；如它才是最新版本，请更正其填报日期后重新报送'"]) }} as message_zh,
        {{ dbt.concat(["'File '", "older.file_name", "' arrived after '", "kept.file_name", "' but is the older version by the documents'' own dates ('", "older.ordered_by_en", "'): kept '", "kept.file_name", "' ('", "'filled on '", "coalesce(cast(kept.filled_on as " ~ s ~ "), 'none')", "', modified '", "coalesce(cast(kept.document_modified_at as " ~ s ~ "), 'none')", "', file time '", "coalesce(cast(kept.received_at as " ~ s ~ "), 'none')", "', arrived '", "cast(kept.arrived_at as " ~ s ~ ")", "'); '", "older.file_name", "' ('", "'filled on '", "coalesce(cast(older.filled_on as " ~ s ~ "), 'none')", "', modified '", "coalesce(cast(older.document_modified_at as " ~ s ~ "), 'none')", "', file time '", "coalesce(cast(older.received_at as " ~ s ~ "), 'none')", "', arrived '", "cast(older.arrived_at as " ~ s ~ ")", "') stays in history and is not counted; if it is the newest version, correct its 填报日期 (date filled) and resubmit'"]) }} as message_en
    from older_versions as older
    inner join versions as kept
        on older.department_name = kept.department_name
        and older.project_key = kept.project_key
        and older.fiscal_year = kept.fiscal_year
        and kept.is_current
),

rate_out_of_range as (
    select
        'rate_out_of_range' as flag_code,
        project_key,
        fiscal_year,
        cast(null as {{ s }}) as indicator_id,
        trim(rates_out_of_range) as detail,
        {{ dbt.concat(["'比率 '", "trim(rates_out_of_range)", "' 超出可信范围（绝对值达到 1000000 倍），已留空不计入：调整后预算 '", "coalesce(" ~ fmt_num('final_yuan') ~ ", '无')", "' 元，到位 '", "coalesce(" ~ fmt_num('allocated_yuan') ~ ", '无')", "' 元，支出 '", "coalesce(" ~ fmt_num('spent_yuan') ~ ", '无')", "' 元；分母过小，多为金额单位（元/万元）填错，请核对原文件后重新报送'"]) }} as message_zh,
        {{ dbt.concat(["'Rate '", "trim(rates_out_of_range)", "' is out of any plausible range (1,000,000 times or more) and is left blank: final budget '", "coalesce(" ~ fmt_num('final_yuan') ~ ", 'none')", "' yuan, allocated '", "coalesce(" ~ fmt_num('allocated_yuan') ~ ", 'none')", "' yuan, spent '", "coalesce(" ~ fmt_num('spent_yuan') ~ ", 'none')", "' yuan; the denominator is tiny, most often an amount typed in the wrong unit (元 vs 万元): check the file and resubmit'"]) }} as message_en
    from project_financials
    where rates_out_of_range <> ''
),

-- 执行不足 (low budget execution) per project-year: spent / final budget below a threshold of
-- seeds/review_thresholds.csv (low_execution_severe_rate 0.6, low_execution_rate 0.8). A
-- project-year gets one of the two flags, the severe one when both apply. Yearly, so it needs no
-- dated payments (unlike lagging_execution). Seed 004: 政务系统管理 57790 / 99000 = 58.37 %.
low_execution_rated as (
    select
        project_financials.project_key,
        project_financials.fiscal_year,
        project_financials.execution_rate,
        project_financials.final_yuan,
        project_financials.spent_yuan,
        case
            when project_financials.execution_rate < thresholds.low_execution_severe_rate
                then 'low_execution_severe'
            when project_financials.execution_rate < thresholds.low_execution_rate
                then 'low_execution'
        end as flag_code,
        case
            when project_financials.execution_rate < thresholds.low_execution_severe_rate
                then thresholds.low_execution_severe_rate
            else thresholds.low_execution_rate
        end as threshold_rate
    from project_financials
    cross join thresholds
    where project_financials.execution_rate is not null
        and project_financials.final_yuan > 0
),

low_execution as (
    select
        flag_code,
        project_key,
        fiscal_year,
        cast(null as {{ s }}) as indicator_id,
        {{ fmt_pct('execution_rate') }} as detail,
        {{ dbt.concat(["'预算执行率 '", fmt_pct('execution_rate'), "'（实际支出 '", fmt_num('spent_yuan'), "' 元 / 调整后预算 '", fmt_num('final_yuan'), "' 元），低于 '", fmt_pct('threshold_rate'), "'：请说明资金未按计划使用的原因'"]) }} as message_zh,
        {{ dbt.concat(["'Budget execution '", fmt_pct('execution_rate'), "' (spent '", fmt_num('spent_yuan'), "' of a final budget of '", fmt_num('final_yuan'), "' yuan) is below '", fmt_pct('threshold_rate'), "': explain why the funds were not used as planned'"]) }} as message_en
    from low_execution_rated
    where flag_code is not null
),

unioned as (
    select * from indicator_score_above
    union all select * from total_score_above
    union all select * from indicator_rate_gap
    union all select * from period_rate_gap
    union all select * from qualitative_outside
    union all select * from target_too_low
    union all select * from lagging
    union all select * from weights_not_100
    union all select * from missing_reason
    union all select * from reported_total_differs
    union all select * from score_unverified
    union all select * from older_version_arrived_later
    union all select * from rate_out_of_range
    union all select * from low_execution
),

final as (
    select
        {{ surrogate_key(['unioned.flag_code', 'unioned.project_key', 'unioned.fiscal_year', 'unioned.indicator_id', 'unioned.detail']) }} as flag_id,
        unioned.project_key,
        unioned.fiscal_year,
        unioned.flag_code,
        flag_types.severity,
        unioned.indicator_id,
        unioned.detail,
        unioned.message_zh,
        unioned.message_en,
        low_execution_rated.execution_rate,
        low_execution_rated.final_yuan,
        low_execution_rated.spent_yuan
    from unioned
    left join flag_types
        on unioned.flag_code = flag_types.flag_code
    left join low_execution_rated
        on unioned.flag_code = low_execution_rated.flag_code
        and unioned.project_key = low_execution_rated.project_key
        and unioned.fiscal_year = low_execution_rated.fiscal_year
)

select * from final
