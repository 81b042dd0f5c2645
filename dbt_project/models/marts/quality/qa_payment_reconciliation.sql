-- 支付核对 (payment reconciliation, for the marts gate): per project-year, the current
-- submissions' payment ledger (int_payments_deduplicated, the rows dbt builds facts from)
-- against the payment facts and the project mart's spent amount. The gate requires no ledger
-- gap (no payment lost or invented on the way to fct_payments) and warns where the mart's
-- spent amount, whatever its source, differs from the payments. When the spent amount comes
-- from the payments, dbt's assert_payments_sum_to_project_spent already stops the build.
with

ledger_rows as (
    select * from {{ ref('int_payments_deduplicated') }}
),

payments as (
    select * from {{ ref('fct_payments') }}
),

project_years as (
    select * from {{ ref('mart_project_year') }}
),

ledger as (
    select
        project_key,
        fiscal_year,
        sum(amount_yuan) as ledger_yuan
    from ledger_rows
    group by project_key, fiscal_year
),

facts as (
    select
        project_key,
        fiscal_year,
        sum(amount_yuan) as fct_yuan
    from payments
    group by project_key, fiscal_year
),

totals as (
    select
        coalesce(ledger.project_key, facts.project_key) as project_key,
        coalesce(ledger.fiscal_year, facts.fiscal_year) as fiscal_year,
        ledger.ledger_yuan,
        facts.fct_yuan
    from ledger
    full outer join facts
        on ledger.project_key = facts.project_key
        and ledger.fiscal_year = facts.fiscal_year
),

final as (
    select
        cast(totals.project_key as {{ dbt.type_string() }}) as project_key,
        cast(totals.fiscal_year as integer) as fiscal_year,
        cast(totals.ledger_yuan as decimal(18, 2)) as ledger_yuan,
        cast(totals.fct_yuan as decimal(18, 2)) as fct_yuan,
        cast(coalesce(totals.fct_yuan, 0) - coalesce(totals.ledger_yuan, 0) as decimal(18, 2))
            as ledger_gap_yuan,
        cast(project_years.spent_yuan as decimal(18, 2)) as mart_spent_yuan,
        cast(project_years.spent_yuan - totals.fct_yuan as decimal(18, 2)) as mart_spent_gap_yuan
    from totals
    left join project_years
        on totals.project_key = project_years.project_key
        and totals.fiscal_year = project_years.fiscal_year
)

select * from final
