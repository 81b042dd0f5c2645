-- 一级指标得分 (recomputed and reported scores per project, year and first-level group).
-- The group's maximum is its stated weight, else the scheme's weight, else the sum of its
-- indicator weights; the group score is capped at that maximum.
with

indicator_scores as (
    select * from {{ ref('int_indicators_scored') }}
),

grouped as (
    select
        project_key,
        fiscal_year,
        max(scheme_code) as scheme_code,
        level1_name,
        max(level1_weight) as level1_weight,
        sum(weight) as weight_sum,
        sum(recomputed_score) as recomputed_sum,
        sum(reported_score) as reported_sum,
        count(*) as indicator_count
    from indicator_scores
    group by project_key, fiscal_year, level1_name
),

final as (
    select
        project_key,
        fiscal_year,
        scheme_code,
        level1_name,
        indicator_count,
        cast(coalesce(level1_weight, weight_sum) as decimal(38, 12)) as max_score,
        cast(weight_sum as decimal(38, 12)) as weight_sum,
        cast({{ cap('recomputed_sum', 'coalesce(level1_weight, weight_sum)') }} as decimal(38, 12)) as recomputed_score,
        cast(reported_sum as decimal(38, 12)) as reported_score
    from grouped
)

select * from final
