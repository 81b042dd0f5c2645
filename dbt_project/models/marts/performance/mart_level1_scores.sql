-- 一级指标得分表 (first-level scores, seed 001's 评价得分总表): recomputed, reported by the
-- department's indicators, and as given by self / department / third-party evaluations.
with

level1_scores as (
    select * from {{ ref('int_project_level1_scores') }}
),

evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }} where level1_name is not null
),

recomputed as (
    select
        project_key,
        fiscal_year,
        'recomputed' as evaluation_type,
        level1_name,
        max_score,
        recomputed_score as score
    from level1_scores
),

reported as (
    select
        project_key,
        fiscal_year,
        'reported_indicators' as evaluation_type,
        level1_name,
        max_score,
        reported_score as score
    from level1_scores
    where reported_score is not null
),

evaluated as (
    select
        project_key,
        fiscal_year,
        evaluation_type,
        level1_name,
        max(max_score) as max_score,
        max(score) as score
    from evaluations
    group by project_key, fiscal_year, evaluation_type, level1_name
),

unioned as (
    select * from recomputed
    union all
    select * from reported
    union all
    select * from evaluated
),

projects as (
    -- 部门键 (department key, as dim_department names it) for slicing by department
    select project_key, department_name from {{ ref('dim_project') }}
),

final as (
    select
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(evaluation_type as {{ dbt.type_string() }}) as evaluation_type,
        cast(level1_name as {{ dbt.type_string() }}) as level1_name,
        cast(round(max_score, 2) as decimal(20, 2)) as max_score,
        cast(round(score, 2) as decimal(20, 2)) as score,
        {{ ratio('score', 'max_score', input_scale=12) }} as score_rate,
        cast(projects.department_name as {{ dbt.type_string() }}) as department_name
    from unioned
    left join projects using (project_key)
)

select * from final
