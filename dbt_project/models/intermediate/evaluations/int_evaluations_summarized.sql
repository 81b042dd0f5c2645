-- 评价结果汇总 (evaluation totals per project and year, by who evaluated).
-- A total row (level1_name null) wins; without one, the first-level scores are summed.
-- The evaluator's score prefers a third-party evaluation over a department evaluation.
with

evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
),

per_type as (
    select
        project_key,
        fiscal_year,
        evaluation_type,
        min(period_start_year) as period_start_year,
        max(evaluator) as evaluator,
        max(case when level1_name is null then score end) as total_score,
        sum(case when level1_name is not null then score end) as level1_score_sum,
        max(case when level1_name is null then grade end) as grade,
        max(reported_rate) as reported_rate
    from evaluations
    group by project_key, fiscal_year, evaluation_type
),

ranked as (
    select
        per_type.*,
        cast(round(coalesce(total_score, level1_score_sum), 2) as decimal(20, 2)) as score,
        row_number() over (
            partition by project_key, fiscal_year
            order by case evaluation_type when 'third_party' then 1 when 'department' then 2 else 3 end
        ) as evaluator_rank
    from per_type
    where evaluation_type <> 'self'
),

self_evaluations as (
    select
        per_type.*,
        cast(round(coalesce(total_score, level1_score_sum), 2) as decimal(20, 2)) as score
    from per_type
    where evaluation_type = 'self'
),

keys as (
    select distinct project_key, fiscal_year from per_type
),

final as (
    select
        keys.project_key,
        keys.fiscal_year,
        coalesce(self_evaluations.period_start_year, ranked.period_start_year, keys.fiscal_year) as period_start_year,
        self_evaluations.score as self_score,
        self_evaluations.grade as self_grade,
        ranked.evaluation_type as evaluator_type,
        ranked.evaluator,
        ranked.score as evaluator_score,
        ranked.grade as evaluator_reported_grade,
        cast(coalesce(self_evaluations.reported_rate, ranked.reported_rate) as decimal(20, 6)) as reported_rate
    from keys
    left join self_evaluations
        on keys.project_key = self_evaluations.project_key
        and keys.fiscal_year = self_evaluations.fiscal_year
    left join ranked
        on keys.project_key = ranked.project_key
        and keys.fiscal_year = ranked.fiscal_year
        and ranked.evaluator_rank = 1
)

select * from final
