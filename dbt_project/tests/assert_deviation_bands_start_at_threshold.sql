-- 偏离度扣分档次与阈值一致 (deviation bands start at the over-achievement threshold): the lowest
-- band of seeds/deviation_deduction_bands begins exactly at
-- review_thresholds.over_achievement_ratio, and each band's upper bound is the next band's lower
-- bound (no gaps, no overlaps). Any row returned is a failure.
with

bands as (
    select * from {{ ref('deviation_deduction_bands') }}
),

thresholds as (
    select * from {{ ref('review_thresholds') }}
),

ordered as (
    select
        band_code,
        min_ratio,
        max_ratio,
        lead(min_ratio) over (order by min_ratio) as next_min_ratio,
        row_number() over (order by min_ratio) as band_rank
    from bands
),

first_band_mismatch as (
    select
        ordered.band_code,
        'lowest band does not start at over_achievement_ratio' as problem
    from ordered
    cross join thresholds
    where ordered.band_rank = 1
        and thresholds.threshold_code = 'over_achievement_ratio'
        and ordered.min_ratio <> thresholds.threshold_value
),

gaps as (
    select
        band_code,
        'band upper bound is not the next band lower bound' as problem
    from ordered
    where (next_min_ratio is null and max_ratio is not null)
        or (next_min_ratio is not null and (max_ratio is null or max_ratio <> next_min_ratio))
)

select * from first_band_mismatch
union all
select * from gaps
