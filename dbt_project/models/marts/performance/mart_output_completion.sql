-- 产出完成情况 (output completion grade) for every evaluation: one row per project, year and
-- 产出 score source, graded on the 产出 score rate by seeds/output_completion_grades.csv
-- (全部完成 / 大部分完成 / 部分完成 / 不太明显, lower bound inclusive). Sources:
--   recomputed           the warehouse's 产出 score from the indicators (by rule)
--   reported_indicators  the sum of the department's own 产出 indicator scores
--   third_party / department / self   a 产出 (level-1) score an evaluation reports
-- is_preferred marks the one row per project-year a report shows: recomputed, else third
-- party, else department, else self, else the reported indicators. Seed 001: the third party's
-- 产出 23.88 of 30 = 79.6 % -> 部分完成, though the project has no indicators to recompute.
with

level1_scores as (
    select * from {{ ref('int_project_level1_scores') }}
),

evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
),

scheme_weights as (
    select * from {{ ref('scheme_weights') }}
),

completion_grades as (
    select * from {{ ref('output_completion_grades') }}
),

recomputed as (
    select
        project_key,
        fiscal_year,
        'recomputed' as score_source,
        recomputed_score as output_score,
        max_score as output_max_score,
        cast(null as {{ dbt.type_string() }}) as file_name,
        cast(null as {{ dbt.type_string() }}) as sheet_name,
        cast(null as integer) as row_number
    from level1_scores
    where level1_name = '产出'
),

reported_indicators as (
    select
        project_key,
        fiscal_year,
        'reported_indicators' as score_source,
        reported_score as output_score,
        max_score as output_max_score,
        cast(null as {{ dbt.type_string() }}) as file_name,
        cast(null as {{ dbt.type_string() }}) as sheet_name,
        cast(null as integer) as row_number
    from level1_scores
    where level1_name = '产出'
        and reported_score is not null
),

-- an evaluation's 产出 row; without a stated maximum, the scheme's 产出 weight
evaluation_rows as (
    select
        evaluations.project_key,
        evaluations.fiscal_year,
        evaluations.evaluation_type as score_source,
        evaluations.score as output_score,
        coalesce(evaluations.max_score, scheme_weights.weight) as output_max_score,
        evaluations.file_name,
        evaluations.sheet_name,
        evaluations.row_number,
        row_number() over (
            partition by evaluations.project_key, evaluations.fiscal_year, evaluations.evaluation_type
            order by evaluations.file_name, evaluations.sheet_name, evaluations.row_number
        ) as row_rank
    from evaluations
    left join scheme_weights
        on evaluations.scheme_code = scheme_weights.scheme_code
        and scheme_weights.level1_name = '产出'
    where evaluations.level1_name = '产出'
        and evaluations.score is not null
),

evaluated as (
    select project_key, fiscal_year, score_source, output_score, output_max_score,
        file_name, sheet_name, row_number
    from evaluation_rows
    where row_rank = 1
),

unioned as (
    select * from recomputed
    union all
    select * from reported_indicators
    union all
    select * from evaluated
),

rated as (
    select
        unioned.*,
        {{ ratio('unioned.output_score', 'unioned.output_max_score', input_scale=12) }} as output_score_rate,
        case unioned.score_source
            when 'recomputed' then 1
            when 'third_party' then 2
            when 'department' then 3
            when 'self' then 4
            when 'reported_indicators' then 5
            else 6
        end as source_priority
    from unioned
),

ranked as (
    select
        rated.*,
        row_number() over (
            partition by project_key, fiscal_year
            order by case when output_score_rate is null then 1 else 0 end, source_priority
        ) as preference_rank
    from rated
),

projects as (
    -- 部门键 (department key, as dim_department names it) for slicing by department
    select project_key, department_name from {{ ref('dim_project') }}
),

final as (
    select
        cast({{ surrogate_key(['ranked.project_key', 'ranked.fiscal_year', 'ranked.score_source']) }} as {{ dbt.type_string() }}) as output_completion_id,
        cast(ranked.project_key as {{ dbt.type_string() }}) as project_key,
        cast(ranked.fiscal_year as integer) as fiscal_year,
        cast(ranked.score_source as {{ dbt.type_string() }}) as score_source,
        cast(ranked.preference_rank = 1 as boolean) as is_preferred,
        cast(round(ranked.output_score, 2) as decimal(20, 2)) as output_score,
        cast(round(ranked.output_max_score, 2) as decimal(20, 2)) as output_max_score,
        cast(ranked.output_score_rate as decimal(12, 6)) as output_score_rate,
        cast(round(ranked.output_score_rate * 100, 2) as decimal(12, 2)) as output_score_rate_pct,
        cast(completion_grades.completion_code as {{ dbt.type_string() }}) as completion_code,
        cast(completion_grades.completion_grade_zh as {{ dbt.type_string() }}) as completion_grade_zh,
        cast(completion_grades.completion_grade_en as {{ dbt.type_string() }}) as completion_grade_en,
        cast(ranked.file_name as {{ dbt.type_string() }}) as file_name,
        cast(ranked.sheet_name as {{ dbt.type_string() }}) as sheet_name,
        cast(ranked.row_number as integer) as row_number,
        cast(projects.department_name as {{ dbt.type_string() }}) as department_name
    from ranked
    left join projects on ranked.project_key = projects.project_key
    left join completion_grades
        on ranked.output_score_rate >= completion_grades.min_rate
        and (completion_grades.max_rate is null or ranked.output_score_rate < completion_grades.max_rate)
)

select * from final
