-- 项目年度绩效 (one row per project and year): funds, rates, scores side by side, grade, flags.
with

project_years as (
    select * from {{ ref('int_project_years_financials') }}
),

projects as (
    select * from {{ ref('dim_project') }}
),

scores as (
    select * from {{ ref('int_project_scores_graded') }}
),

evaluations as (
    select * from {{ ref('int_evaluations_summarized') }}
),

flags as (
    select * from {{ ref('int_review_flags_unioned') }}
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
),

flag_counts as (
    select project_key, fiscal_year, count(*) as flag_count
    from flags
    group by project_key, fiscal_year
),

joined as (
    select
        project_years.*,
        projects.project_name,
        projects.department_name,
        projects.category,
        projects.province,
        projects.city,
        projects.county,
        projects.parent_project_key,
        scores.scheme_code,
        -- the project's scheme's band set grades its self and evaluator scores too
        coalesce(scores.grade_band_set, '{{ var("default_grade_band_set") }}') as grade_band_set,
        scores.recomputed_score,
        scores.grade as recomputed_grade,
        scores.weight_total,
        scores.output_score_rate,
        scores.output_completion_grade,
        coalesce(evaluations.self_score, scores.reported_indicator_score) as reported_score,
        evaluations.self_grade,
        evaluations.evaluator_type,
        evaluations.evaluator_score,
        coalesce(flag_counts.flag_count, 0) as flag_count
    from project_years
    left join projects
        on project_years.project_key = projects.project_key
    left join scores
        on project_years.project_key = scores.project_key
        and project_years.fiscal_year = scores.fiscal_year
    left join evaluations
        on project_years.project_key = evaluations.project_key
        and project_years.fiscal_year = evaluations.fiscal_year
    left join flag_counts
        on project_years.project_key = flag_counts.project_key
        and project_years.fiscal_year = flag_counts.fiscal_year
),

graded as (
    select
        joined.*,
        case
            when joined.recomputed_score is not null then 'recomputed'
            when joined.evaluator_score is not null then 'evaluator'
        end as grade_basis,
        reported_band.grade as reported_band_grade,
        evaluator_band.grade as evaluator_grade
    from joined
    left join grade_bands as reported_band
        on joined.grade_band_set = reported_band.grade_band_set
        and joined.reported_score >= reported_band.min_score
        and (reported_band.max_score is null or joined.reported_score < reported_band.max_score)
    left join grade_bands as evaluator_band
        on joined.grade_band_set = evaluator_band.grade_band_set
        and joined.evaluator_score >= evaluator_band.min_score
        and (evaluator_band.max_score is null or joined.evaluator_score < evaluator_band.max_score)
),

final as (
    select
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(project_name as {{ dbt.type_string() }}) as project_name,
        cast(department_name as {{ dbt.type_string() }}) as department_name,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(province as {{ dbt.type_string() }}) as province,
        cast(city as {{ dbt.type_string() }}) as city,
        cast(county as {{ dbt.type_string() }}) as county,
        cast(parent_project_key as {{ dbt.type_string() }}) as parent_project_key,
        cast(scheme_code as {{ dbt.type_string() }}) as scheme_code,
        cast(initial_yuan as decimal(18, 2)) as initial_budget_yuan,
        cast(final_yuan as decimal(18, 2)) as final_budget_yuan,
        cast(allocated_yuan as decimal(18, 2)) as allocated_yuan,
        cast(spent_yuan as decimal(18, 2)) as spent_yuan,
        cast(spent_source as {{ dbt.type_string() }}) as spent_source,
        cast(balance_yuan as decimal(18, 2)) as balance_yuan,
        cast(allocation_rate as decimal(12, 6)) as allocation_rate,
        cast(execution_rate as decimal(12, 6)) as execution_rate,
        cast(execution_rate_pct as decimal(12, 2)) as execution_rate_pct,
        cast(spent_to_allocated_rate as decimal(12, 6)) as spent_to_allocated_rate,
        cast(weight_total as decimal(20, 4)) as weight_total,
        cast(recomputed_score as decimal(20, 2)) as recomputed_score,
        cast(reported_score as decimal(20, 2)) as reported_score,
        -- 差异 (自评 − 复核) of the two scores as published (two decimals each)
        cast(cast(reported_score as decimal(20, 2)) - cast(recomputed_score as decimal(20, 2))
            as decimal(20, 2)) as score_difference,
        cast(evaluator_type as {{ dbt.type_string() }}) as evaluator_type,
        cast(evaluator_score as decimal(20, 2)) as evaluator_score,
        cast(case grade_basis when 'recomputed' then recomputed_grade else evaluator_grade end
            as {{ dbt.type_string() }}) as grade,
        cast(grade_basis as {{ dbt.type_string() }}) as grade_basis,
        cast(coalesce(self_grade, reported_band_grade) as {{ dbt.type_string() }}) as reported_grade,
        cast(evaluator_grade as {{ dbt.type_string() }}) as evaluator_grade,
        cast(output_score_rate as decimal(12, 6)) as output_score_rate,
        cast(output_completion_grade as {{ dbt.type_string() }}) as output_completion_grade,
        cast(flag_count as integer) as flag_count
    from graded
)

select * from final
