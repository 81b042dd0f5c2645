-- 评价期间资金 (funds over an evaluated period, e.g. 2019-2022), to recompute period rates
-- such as seed 000's 支付率 (paid / arranged budget over the whole period).
with

evaluations as (
    select * from {{ ref('int_evaluations_summarized') }}
),

financials as (
    select * from {{ ref('int_project_years_financials') }}
),

summed as (
    select
        evaluations.project_key,
        evaluations.fiscal_year,
        evaluations.period_start_year,
        evaluations.reported_rate,
        sum(financials.final_yuan) as final_yuan,
        sum(financials.spent_yuan) as spent_yuan
    from evaluations
    inner join financials
        on evaluations.project_key = financials.project_key
        and financials.fiscal_year between evaluations.period_start_year and evaluations.fiscal_year
    group by evaluations.project_key, evaluations.fiscal_year, evaluations.period_start_year,
        evaluations.reported_rate
),

final as (
    select
        project_key,
        fiscal_year,
        period_start_year,
        cast(final_yuan as decimal(18, 2)) as period_final_yuan,
        cast(spent_yuan as decimal(18, 2)) as period_spent_yuan,
        {{ ratio('spent_yuan', 'final_yuan') }} as period_execution_rate,
        reported_rate
    from summed
)

select * from final
