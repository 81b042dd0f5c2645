-- Materialized as a table: several models and tests read it, and as a view DuckDB would rerun
-- its whole upstream chain at each reference (物化为表以免重复计算).
{{ config(materialized='table') }}

-- 项目总分与等级 (project total, grade and output-completion grade).
-- total = sum of first-level scores, capped at 100; grade from seed grade_bands (lower bound
-- inclusive); output completion grade from the 产出 score rate (seed output_completion_grades).
with

level1_scores as (
    select * from {{ ref('int_project_level1_scores') }}
),

schemes as (
    select * from {{ ref('evaluation_schemes') }}
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
),

completion_grades as (
    select * from {{ ref('output_completion_grades') }}
),

totals as (
    select
        project_key,
        fiscal_year,
        max(scheme_code) as scheme_code,
        sum(max_score) as weight_total,
        sum(recomputed_score) as recomputed_sum,
        sum(reported_score) as reported_sum,
        sum(case when level1_name = '产出' then recomputed_score end) as output_score,
        sum(case when level1_name = '产出' then max_score end) as output_max_score
    from level1_scores
    group by project_key, fiscal_year
),

scored as (
    select
        totals.project_key,
        totals.fiscal_year,
        totals.scheme_code,
        coalesce(schemes.grade_band_set, '{{ var("default_grade_band_set") }}') as grade_band_set,
        cast(totals.weight_total as decimal(20, 4)) as weight_total,
        cast(round({{ cap('totals.recomputed_sum', '100') }}, 2) as decimal(20, 2)) as recomputed_score,
        cast(round(totals.reported_sum, 2) as decimal(20, 2)) as reported_indicator_score,
        {{ ratio('totals.output_score', 'totals.output_max_score', input_scale=12) }} as output_score_rate
    from totals
    left join schemes
        on totals.scheme_code = schemes.scheme_code
),

final as (
    select
        scored.project_key,
        scored.fiscal_year,
        scored.scheme_code,
        scored.grade_band_set,
        scored.weight_total,
        scored.recomputed_score,
        scored.reported_indicator_score,
        grade_bands.grade,
        scored.output_score_rate,
        completion_grades.completion_grade_zh as output_completion_grade
    from scored
    left join grade_bands
        on scored.grade_band_set = grade_bands.grade_band_set
        and scored.recomputed_score >= grade_bands.min_score
        and (grade_bands.max_score is null or scored.recomputed_score < grade_bands.max_score)
    left join completion_grades
        on scored.output_score_rate >= completion_grades.min_rate
        and (completion_grades.max_rate is null or scored.output_score_rate < completion_grades.max_rate)
)

select * from final
