-- 项目年度骨架 (every project and fiscal year that any fact mentions).
with

submissions as (
    select * from {{ ref('int_submissions_ranked') }} where is_latest
),

budget as (
    select * from {{ ref('int_budget_amounts_reconciled') }}
),

payments as (
    select * from {{ ref('int_payments_deduplicated') }}
),

indicators as (
    select * from {{ ref('int_indicators_deduplicated') }}
),

evaluations as (
    select * from {{ ref('int_evaluations_deduplicated') }}
),

unioned as (
    select project_key, fiscal_year from submissions
    union
    select project_key, fiscal_year from budget
    union
    select project_key, fiscal_year from payments
    union
    select project_key, fiscal_year from indicators
    union
    select project_key, fiscal_year from evaluations
),

final as (
    select * from unioned
)

select * from final
