-- 支付核对 (reconciliation): payments summed per project-year equal the spent amount of every
-- project-year whose spending comes from payments, and no payment is lost on the way.
with

payments as (
    select project_key, fiscal_year, sum(amount_yuan) as paid_yuan
    from {{ ref('fct_payments') }}
    group by project_key, fiscal_year
),

project_years as (
    select project_key, fiscal_year, spent_yuan
    from {{ ref('mart_project_year') }}
    where spent_source = 'payments'
),

final as (
    select
        coalesce(payments.project_key, project_years.project_key) as project_key,
        coalesce(payments.fiscal_year, project_years.fiscal_year) as fiscal_year,
        payments.paid_yuan,
        project_years.spent_yuan
    from payments
    full outer join project_years
        on payments.project_key = project_years.project_key
        and payments.fiscal_year = project_years.fiscal_year
    where payments.paid_yuan is null
        or project_years.spent_yuan is null
        or payments.paid_yuan <> project_years.spent_yuan
)

select * from final
