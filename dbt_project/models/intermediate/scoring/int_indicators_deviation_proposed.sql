-- 偏离度扣分建议 (proposed deviation deduction): a proposal for the evaluator, never applied.
-- The MoF self-evaluation guidance asks for the cause when an actual is far above its target
-- (完成值高于指标值较多): an unreasonably low target should cost points in proportion to the
-- deviation (按偏离度适度扣分). For a quantitative ">=" indicator whose actual / target reaches
-- review_thresholds.over_achievement_ratio, the band in seeds/deviation_deduction_bands gives the
-- share of the weight to deduct; the deduction is capped by the weight and the proposed score
-- never goes below zero. recomputed_score is passed through unchanged.
-- Ratios are compared exactly (actual >= target x bound), as the target_too_low flag does.
with

indicator_scores as (
    select * from {{ ref('int_indicators_scored') }}
),

thresholds as (
    select * from {{ ref('review_thresholds') }}
),

bands as (
    select * from {{ ref('deviation_deduction_bands') }}
),

over_achievement as (
    select threshold_value as over_achievement_ratio
    from thresholds
    where threshold_code = 'over_achievement_ratio'
),

eligible as (
    select
        indicator_scores.indicator_id,
        indicator_scores.actual_value,
        indicator_scores.target_value
    from indicator_scores
    cross join over_achievement
    where indicator_scores.kind = 'quantitative'
        and indicator_scores.direction = '>='
        and indicator_scores.target_value > 0
        and indicator_scores.actual_value >= indicator_scores.target_value * over_achievement.over_achievement_ratio
),

banded as (
    select
        eligible.indicator_id,
        bands.band_code,
        bands.deduction_share
    from eligible
    inner join bands
        on eligible.actual_value >= eligible.target_value * bands.min_ratio
        and (bands.max_ratio is null or eligible.actual_value < eligible.target_value * bands.max_ratio)
),

proposed as (
    select
        indicator_scores.*,
        case
            when indicator_scores.kind = 'quantitative' and indicator_scores.direction = '>='
                then {{ within_range(divide('indicator_scores.actual_value', 'indicator_scores.target_value', 6), 20, 6) }}
        end as deviation_ratio,
        banded.band_code as deviation_band_code,
        coalesce(banded.deduction_share, 0) as deviation_deduction_share,
        case
            when banded.band_code is null then 0
            else {{ cap('cast(indicator_scores.weight as decimal(26, 12)) * cast(banded.deduction_share as decimal(12, 6))', 'indicator_scores.weight') }}
        end as deduction
    from indicator_scores
    left join banded
        on indicator_scores.indicator_id = banded.indicator_id
),

final as (
    select
        proposed.*,
        cast(deduction as decimal(38, 12)) as proposed_deviation_deduction,
        -- both sides narrowed to what they hold (a score of at most 10^14, a deduction of a
        -- weight times a share, 18 decimals): the difference is exact on every engine; Spark
        -- would round a DECIMAL(38, 12) minus a DECIMAL(38, 18) to 11 decimals
        cast(case
            when recomputed_score is null then null
            when cast(recomputed_score as decimal(26, 12)) - cast(deduction as decimal(26, 18)) < 0 then 0
            else cast(recomputed_score as decimal(26, 12)) - cast(deduction as decimal(26, 18))
        end as decimal(38, 12)) as proposed_score_after_deduction
    from proposed
)

select * from final
