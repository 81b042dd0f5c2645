-- 偏离度扣分建议的边界 (the deviation proposal stays a proposal): the proposed deduction lies in
-- [0, weight], the proposed score in [0, recomputed], and only over-achieving quantitative ">="
-- indicators get a deduction. Any row returned is a failure.
select
    indicator_id,
    weight,
    recomputed_score,
    proposed_deviation_deduction,
    proposed_score_after_deduction
from {{ ref('fct_indicator_scores') }}
where proposed_deviation_deduction < 0
    or proposed_deviation_deduction > weight
    or proposed_score_after_deduction < 0
    or proposed_score_after_deduction > recomputed_score
    or (proposed_deviation_deduction > 0 and (kind <> 'quantitative' or direction <> '>=' or deviation_band_code is null))
