-- 报告数与重算数 (reported vs recomputed): each figure a file states about itself (a ledger's
-- 合计 row, a summary line "实际支付 …，支付率 97.61%") beside the warehouse's own figure for the
-- same project and period: paid -> spent, final -> final budget, allocated -> allocated funds,
-- pay_rate -> spent / final budget. Amounts differ when they are not equal to the fen; rates
-- when they are further apart than the review threshold rate_gap_tolerance (macro
-- rates_differ).
with

reported as (
    select * from {{ ref('int_reported_totals_deduplicated') }}
),

financials as (
    select * from {{ ref('int_project_years_financials') }}
),

period_sums as (
    select
        reported.reported_total_id,
        sum(financials.spent_yuan) as spent_yuan,
        sum(financials.final_yuan) as final_yuan,
        sum(financials.allocated_yuan) as allocated_yuan
    from reported
    inner join financials
        on reported.project_key = financials.project_key
        and financials.fiscal_year between reported.period_start_year and reported.fiscal_year
    group by reported.reported_total_id
),

recomputed as (
    select
        reported.*,
        cast(case reported.measure
            when 'paid' then period_sums.spent_yuan
            when 'final' then period_sums.final_yuan
            when 'allocated' then period_sums.allocated_yuan
        end as decimal(18, 2)) as recomputed_amount_yuan,
        case when reported.measure = 'pay_rate'
            then {{ ratio('period_sums.spent_yuan', 'period_sums.final_yuan') }}
        end as recomputed_rate
    from reported
    left join period_sums
        on reported.reported_total_id = period_sums.reported_total_id
),

final as (
    select
        recomputed.reported_total_id,
        recomputed.project_key,
        recomputed.fiscal_year,
        recomputed.period_start_year,
        recomputed.source_table,
        recomputed.measure,
        recomputed.amount_yuan as reported_amount_yuan,
        recomputed.recomputed_amount_yuan,
        recomputed.rate as reported_rate,
        recomputed.recomputed_rate,
        coalesce(case
            when recomputed.amount_yuan is not null
                then recomputed.amount_yuan <> recomputed.recomputed_amount_yuan
            else {{ rates_differ('recomputed.rate', 'recomputed.recomputed_rate') }}
        end, false) as is_different,
        recomputed.file_name,
        recomputed.sheet_name,
        recomputed.row_number,
        recomputed.original_text
    from recomputed
)

select * from final
