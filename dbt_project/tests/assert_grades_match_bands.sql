-- 等级与分数段一致 (grades match their bands): a project-year's grade is the band of its basis
-- score (the recomputed total, else the evaluator's) in its scheme's band set
-- (seeds/grade_bands.csv, lower bound inclusive). The bands are the seed's alone: no gate
-- suite repeats them (tests/unit/test_rule_owners.py).
with

schemes as (
    select * from {{ ref('evaluation_schemes') }}
),

project_years as (
    select
        mart.project_key,
        mart.fiscal_year,
        coalesce(schemes.grade_band_set, '{{ var("default_grade_band_set") }}') as grade_band_set,
        mart.grade,
        mart.grade_basis,
        case mart.grade_basis
            when 'recomputed' then mart.recomputed_score
            when 'evaluator' then mart.evaluator_score
        end as basis_score
    from {{ ref('mart_project_year') }} as mart
    left join schemes
        on mart.scheme_code = schemes.scheme_code
    where mart.grade_basis is not null
),

grade_bands as (
    select * from {{ ref('grade_bands') }}
),

banded as (
    select
        project_years.*,
        grade_bands.grade as band_grade
    from project_years
    left join grade_bands
        on project_years.grade_band_set = grade_bands.grade_band_set
        and project_years.basis_score >= grade_bands.min_score
        and (grade_bands.max_score is null or project_years.basis_score < grade_bands.max_score)
)

select * from banded
where band_grade is null
    or grade is null
    or grade <> band_grade
