-- Materialized as a table: several models and tests read it, and as a view DuckDB would rerun
-- its whole upstream chain at each reference (物化为表以免重复计算).
{{ config(materialized='table') }}

-- 指标重算得分 (each indicator's recomputed score, with the rule applied and its inputs).
-- Rules (weights are w, results are capped to [0, w]):
--   budget_execution_rate / allocation_rate : w x min(rate, 1); the execution rate uses the
--       scheme's denominator (final budget or allocated funds, seed evaluation_schemes);
--       when the final budget is unknown the allocated funds stand in
--   higher_is_better (>=) : actual >= target -> w, else w x actual / target
--   lower_is_better (<=)  : actual <= target -> w, else w x (2 - actual / target), 0 at 2 x target
--   equal (=)             : actual = target -> w, else w x (1 - |actual - target| / target)
--   yes_no                : answer matches the target -> w, else 0
--   qualitative           : the reported score, capped at w, checked against the tier range
--   reported_used         : inputs missing, the reported score capped at w is kept (and shown)
with

indicators as (
    select * from {{ ref('int_indicators_weighted') }}
),

financials as (
    select * from {{ ref('int_project_years_financials') }}
),

schemes as (
    select * from {{ ref('evaluation_schemes') }}
),

yes_no_values as (
    select * from {{ ref('yes_no_values') }}
),

tiers as (
    select * from {{ ref('qualitative_tiers') }}
),

with_inputs as (
    select
        indicators.*,
        case
            when indicators.rate_code = 'allocation' then financials.allocation_rate
            when schemes.execution_denominator = 'allocated' then financials.spent_to_allocated_rate
            -- final budget unknown (e.g. only 实际分配下达 given): the allocated funds stand in
            else coalesce(financials.execution_rate, financials.spent_to_allocated_rate)
        end as rate_value,
        coalesce(target_answer.is_yes, case when indicators.kind = 'yes_no' and indicators.target_value is not null
            then indicators.target_value = 1 end) as target_is_yes,
        coalesce(actual_answer.is_yes, case when indicators.kind = 'yes_no' and indicators.actual_value is not null
            then indicators.actual_value = 1 end) as actual_is_yes
    from indicators
    left join financials
        on indicators.project_key = financials.project_key
        and indicators.fiscal_year = financials.fiscal_year
    left join schemes
        on indicators.scheme_code = schemes.scheme_code
    left join yes_no_values as target_answer
        on lower(indicators.target_text) = target_answer.answer_text
    left join yes_no_values as actual_answer
        on lower(indicators.actual_text) = actual_answer.answer_text
),

tier_matches as (
    select
        with_inputs.indicator_id,
        tiers.tier_code,
        tiers.min_rate,
        tiers.max_rate,
        row_number() over (
            partition by with_inputs.indicator_id order by tiers.match_priority
        ) as match_rank
    from with_inputs
    inner join tiers
        on with_inputs.kind = 'qualitative'
        and (
            {{ dbt.position('tiers.match_keyword', "coalesce(with_inputs.actual_text, '')") }} > 0
            or (tiers.tier_code = 'achieved' and with_inputs.actual_text = with_inputs.target_text)
        )
),

with_tier as (
    select
        with_inputs.*,
        tier_matches.tier_code,
        tier_matches.min_rate as tier_min_rate,
        tier_matches.max_rate as tier_max_rate
    from with_inputs
    left join tier_matches
        on with_inputs.indicator_id = tier_matches.indicator_id
        and tier_matches.match_rank = 1
),

ruled as (
    select
        with_tier.*,
        case
            when kind = 'budget_rate' and rate_value is not null then
                case when rate_code = 'allocation' then 'allocation_rate' else 'budget_execution_rate' end
            when kind = 'quantitative' and actual_value is not null and target_value is not null then
                case
                    when direction = '<=' and actual_value <= target_value then 'lower_is_better_met'
                    when direction = '<=' then 'lower_is_better_linear'
                    when direction = '=' and actual_value = target_value then 'equal_met'
                    when direction = '=' then 'equal_deviation'
                    when actual_value >= target_value then 'higher_is_better_met'
                    else 'higher_is_better_proportional'
                end
            when kind = 'yes_no' and actual_is_yes is not null then
                case when actual_is_yes = coalesce(target_is_yes, true) then 'yes_no_met' else 'yes_no_not_met' end
            when kind = 'qualitative' and reported_score is not null then 'qualitative_reported_checked'
            when kind = 'qualitative' and tier_code is not null then 'qualitative_tier_max'
            else 'reported_used'
        end as rule_applied
    from with_tier
),

-- The products and differences go through decimal_product / decimal_difference
-- (macros/spark_portability.sql): the plain `*` and `-` on DuckDB and PostgreSQL; on Spark,
-- steps that keep every decimal (Spark would cut a 38-digit product to 6 decimals).
scored as (
    select
        ruled.*,
        case rule_applied
            when 'allocation_rate' then {{ decimal_product('weight', 'rate_value') }}
            when 'budget_execution_rate' then {{ decimal_product('weight', 'rate_value') }}
            when 'higher_is_better_met' then weight
            when 'higher_is_better_proportional' then
                case when target_value = 0 then weight
                     else {{ divide(decimal_product('weight', 'actual_value'), 'target_value') }} end
            when 'lower_is_better_met' then weight
            when 'lower_is_better_linear' then
                case when target_value = 0 then 0
                     else {{ decimal_difference(decimal_product('weight', '2'),
                         divide(decimal_product('weight', 'actual_value'), 'target_value')) }} end
            when 'equal_met' then weight
            when 'equal_deviation' then
                case when target_value = 0 then 0
                     else {{ decimal_difference('weight',
                         divide(decimal_product('weight', 'abs(actual_value - target_value)'), 'target_value')) }} end
            when 'yes_no_met' then weight
            when 'yes_no_not_met' then 0
            when 'qualitative_reported_checked' then reported_score
            when 'qualitative_tier_max' then {{ decimal_product('weight', 'tier_max_rate') }}
            else reported_score
        end as raw_score
    from ruled
),

final as (
    select
        indicator_id,
        -- 指标定义键 (indicator definition key): the same three levels, kind, direction and unit
        -- give the same key in every project and year (dim_indicator)
        {{ surrogate_key(['level1_name', 'level2_name', 'level3_name', 'kind', 'direction', 'unit']) }} as indicator_key,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        submission_id,
        project_key,
        fiscal_year,
        scheme_code,
        level1_name,
        level1_weight,
        level2_name,
        level3_name,
        kind,
        direction,
        target_text,
        target_value,
        unit,
        actual_text,
        actual_value,
        weight,
        weight_source,
        reported_weight,
        reported_score,
        reported_rate,
        rate_value,
        tier_code,
        tier_min_rate,
        tier_max_rate,
        rule_applied,
        cast({{ cap('raw_score', 'weight') }} as decimal(38, 12)) as recomputed_score,
        cast(round({{ cap('raw_score', 'weight') }}, 2) as decimal(20, 2)) as recomputed_score_2dp,
        deviation_reason
    from scored
)

select * from final
