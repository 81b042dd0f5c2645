-- 预算覆盖核查 (budget coverage, for the marts gate): every project-year with a final budget
-- above zero, and whether an evaluation or a review flag covers it. The marts gate
-- (expectations marts__budget_coverage) requires is_covered; stewards see the uncovered rows.
-- A multi-year evaluation (e.g. 2019-2021, keyed by its last year) covers every year of the
-- project's period up to that year.
with

budget as (
    select * from {{ ref('fct_budget') }}
),

projects as (
    select * from {{ ref('dim_project') }}
),

indicator_scores as (
    select * from {{ ref('fct_indicator_scores') }}
),

level1_scores as (
    select * from {{ ref('mart_level1_scores') }}
),

project_years as (
    select * from {{ ref('mart_project_year') }}
),

flags as (
    select * from {{ ref('mart_review_flags') }}
),

budgeted as (
    select
        project_key,
        fiscal_year,
        sum(final_yuan) as final_yuan
    from budget
    group by project_key, fiscal_year
    having coalesce(sum(final_yuan), 0) > 0
),

evaluated as (
    select distinct project_key, fiscal_year from indicator_scores
    union
    select distinct project_key, fiscal_year from level1_scores
    union
    select project_key, fiscal_year from project_years
    where recomputed_score is not null
        or evaluator_score is not null
        or reported_score is not null
),

-- the first year each evaluation covers: the project's period start, or its own year
evaluated_spans as (
    select
        evaluated.project_key,
        evaluated.fiscal_year as last_year,
        case
            when projects.period_start_year is not null
                and projects.period_start_year < evaluated.fiscal_year
                then projects.period_start_year
            else evaluated.fiscal_year
        end as first_year
    from evaluated
    left join projects
        on evaluated.project_key = projects.project_key
),

covered as (
    select distinct
        budgeted.project_key,
        budgeted.fiscal_year
    from budgeted
    inner join evaluated_spans
        on budgeted.project_key = evaluated_spans.project_key
        and budgeted.fiscal_year between evaluated_spans.first_year and evaluated_spans.last_year
),

flagged as (
    select distinct project_key, fiscal_year from flags
),

final as (
    select
        cast(budgeted.project_key as {{ dbt.type_string() }}) as project_key,
        cast(budgeted.fiscal_year as integer) as fiscal_year,
        cast(budgeted.final_yuan as decimal(18, 2)) as final_yuan,
        covered.project_key is not null as has_evaluation,
        flagged.project_key is not null as has_flag,
        (covered.project_key is not null or flagged.project_key is not null) as is_covered
    from budgeted
    left join covered
        on budgeted.project_key = covered.project_key
        and budgeted.fiscal_year = covered.fiscal_year
    left join flagged
        on budgeted.project_key = flagged.project_key
        and budgeted.fiscal_year = flagged.fiscal_year
)

select * from final
