-- 评价期间资金与比率 (evaluation periods): one row per project and evaluated period (e.g. seed
-- 000's 2019-2022), with the arranged budget and paid amount summed over the period's years,
-- the rate the documents state beside the rate recomputed from amounts, their difference, and
-- where the stated rate came from (the evaluation row, else the summary line / 合计 row of
-- raw.reported_totals: file, sheet, row, text). Seed 000: 97.61 % stated, 50418.98 / 51000 万元
-- = 98.86 % recomputed.
with

evaluation_rows as (
    select * from {{ ref('int_evaluations_deduplicated') }}
),

reported_totals as (
    select * from {{ ref('int_reported_totals_compared') }}
),

financials as (
    select * from {{ ref('int_project_years_financials') }}
),

periods as (
    select project_key, period_start_year, fiscal_year as period_end_year
    from evaluation_rows
    union
    select project_key, period_start_year, fiscal_year as period_end_year
    from reported_totals
),

period_sums as (
    select
        periods.project_key,
        periods.period_start_year,
        periods.period_end_year,
        sum(financials.final_yuan) as final_yuan,
        sum(financials.allocated_yuan) as allocated_yuan,
        sum(financials.spent_yuan) as spent_yuan,
        count(financials.fiscal_year) as years_with_figures
    from periods
    left join financials
        on periods.project_key = financials.project_key
        and financials.fiscal_year between periods.period_start_year and periods.period_end_year
    group by periods.project_key, periods.period_start_year, periods.period_end_year
),

-- a rate printed in an evaluation (self first, then third party, then department)
evaluation_rates as (
    select
        project_key,
        period_start_year,
        fiscal_year as period_end_year,
        reported_rate,
        evaluation_type,
        file_name,
        sheet_name,
        row_number,
        row_number() over (
            partition by project_key, period_start_year, fiscal_year
            order by case evaluation_type when 'self' then 1 when 'third_party' then 2
                when 'department' then 3 else 4 end, file_name, sheet_name, row_number
        ) as rate_rank
    from evaluation_rows
    where reported_rate is not null
),

-- figures a file states about itself: the first stated row of each measure (in file order)
stated as (
    select
        reported_totals.*,
        row_number() over (
            partition by project_key, period_start_year, fiscal_year, measure
            order by file_name, sheet_name, row_number
        ) as measure_rank
    from reported_totals
),

stated_counts as (
    select
        project_key,
        period_start_year,
        fiscal_year as period_end_year,
        count(*) as stated_figure_count,
        sum(case when is_different then 1 else 0 end) as stated_figure_mismatch_count
    from reported_totals
    group by project_key, period_start_year, fiscal_year
),

joined as (
    select
        period_sums.*,
        {{ ratio('period_sums.spent_yuan', 'period_sums.final_yuan') }} as recomputed_rate,
        stated_final.reported_amount_yuan as reported_final_yuan,
        stated_paid.reported_amount_yuan as reported_paid_yuan,
        case
            when evaluation_rates.reported_rate is not null then 'evaluation'
            when stated_rate.reported_rate is not null then 'reported_total'
        end as reported_rate_source,
        cast(coalesce(evaluation_rates.reported_rate, stated_rate.reported_rate) as decimal(20, 6))
            as reported_rate,
        evaluation_rates.evaluation_type as reported_rate_evaluation_type,
        coalesce(evaluation_rates.file_name, stated_rate.file_name) as reported_rate_file_name,
        coalesce(evaluation_rates.sheet_name, stated_rate.sheet_name) as reported_rate_sheet_name,
        coalesce(evaluation_rates.row_number, stated_rate.row_number) as reported_rate_row_number,
        case when evaluation_rates.reported_rate is null then stated_rate.original_text end
            as reported_rate_text,
        stated_rate.reported_rate as stated_line_rate,
        stated_rate.file_name as stated_line_file_name,
        stated_rate.sheet_name as stated_line_sheet_name,
        stated_rate.row_number as stated_line_row_number,
        stated_rate.original_text as stated_line_text,
        coalesce(stated_counts.stated_figure_count, 0) as stated_figure_count,
        coalesce(stated_counts.stated_figure_mismatch_count, 0) as stated_figure_mismatch_count
    from period_sums
    left join evaluation_rates
        on period_sums.project_key = evaluation_rates.project_key
        and period_sums.period_start_year = evaluation_rates.period_start_year
        and period_sums.period_end_year = evaluation_rates.period_end_year
        and evaluation_rates.rate_rank = 1
    left join stated as stated_rate
        on period_sums.project_key = stated_rate.project_key
        and period_sums.period_start_year = stated_rate.period_start_year
        and period_sums.period_end_year = stated_rate.fiscal_year
        and stated_rate.measure = 'pay_rate'
        and stated_rate.measure_rank = 1
    left join stated as stated_final
        on period_sums.project_key = stated_final.project_key
        and period_sums.period_start_year = stated_final.period_start_year
        and period_sums.period_end_year = stated_final.fiscal_year
        and stated_final.measure = 'final'
        and stated_final.measure_rank = 1
    left join stated as stated_paid
        on period_sums.project_key = stated_paid.project_key
        and period_sums.period_start_year = stated_paid.period_start_year
        and period_sums.period_end_year = stated_paid.fiscal_year
        and stated_paid.measure = 'paid'
        and stated_paid.measure_rank = 1
    left join stated_counts
        on period_sums.project_key = stated_counts.project_key
        and period_sums.period_start_year = stated_counts.period_start_year
        and period_sums.period_end_year = stated_counts.period_end_year
),

projects as (
    -- 部门键 (department key, as dim_department names it) for slicing by department
    select project_key, department_name from {{ ref('dim_project') }}
),

final as (
    select
        cast({{ surrogate_key(['joined.project_key', 'joined.period_start_year', 'joined.period_end_year']) }} as {{ dbt.type_string() }}) as evaluation_period_id,
        cast(joined.project_key as {{ dbt.type_string() }}) as project_key,
        cast(joined.period_start_year as integer) as period_start_year,
        cast(joined.period_end_year as integer) as period_end_year,
        cast(joined.period_end_year - joined.period_start_year + 1 as integer) as period_year_count,
        cast(joined.years_with_figures as integer) as years_with_figures,
        cast(joined.final_yuan as decimal(18, 2)) as final_yuan,
        cast(joined.allocated_yuan as decimal(18, 2)) as allocated_yuan,
        cast(joined.spent_yuan as decimal(18, 2)) as spent_yuan,
        cast(joined.reported_final_yuan as decimal(18, 2)) as reported_final_yuan,
        cast(joined.reported_paid_yuan as decimal(18, 2)) as reported_paid_yuan,
        cast(joined.reported_rate as decimal(20, 6)) as reported_rate,
        cast(joined.recomputed_rate as decimal(12, 6)) as recomputed_rate,
        cast(joined.reported_rate - joined.recomputed_rate as decimal(20, 6)) as rate_difference,
        cast(round(joined.reported_rate * 100, 2) as decimal(12, 2)) as reported_rate_pct,
        cast(round(joined.recomputed_rate * 100, 2) as decimal(12, 2)) as recomputed_rate_pct,
        cast(round((joined.reported_rate - joined.recomputed_rate) * 100, 2) as decimal(12, 2))
            as rate_difference_pct,
        cast(coalesce({{ rates_differ('joined.reported_rate', 'joined.recomputed_rate') }}, false) as boolean)
            as is_rate_different,
        cast(joined.reported_rate_source as {{ dbt.type_string() }}) as reported_rate_source,
        cast(joined.reported_rate_evaluation_type as {{ dbt.type_string() }}) as reported_rate_evaluation_type,
        cast(joined.reported_rate_file_name as {{ dbt.type_string() }}) as reported_rate_file_name,
        cast(joined.reported_rate_sheet_name as {{ dbt.type_string() }}) as reported_rate_sheet_name,
        cast(joined.reported_rate_row_number as integer) as reported_rate_row_number,
        cast(joined.reported_rate_text as {{ dbt.type_string() }}) as reported_rate_text,
        cast(joined.stated_line_rate as decimal(20, 6)) as stated_line_rate,
        cast(joined.stated_line_file_name as {{ dbt.type_string() }}) as stated_line_file_name,
        cast(joined.stated_line_sheet_name as {{ dbt.type_string() }}) as stated_line_sheet_name,
        cast(joined.stated_line_row_number as integer) as stated_line_row_number,
        cast(joined.stated_line_text as {{ dbt.type_string() }}) as stated_line_text,
        cast(joined.stated_figure_count as integer) as stated_figure_count,
        cast(joined.stated_figure_mismatch_count as integer) as stated_figure_mismatch_count,
        cast(projects.department_name as {{ dbt.type_string() }}) as department_name
    from joined
    left join projects on joined.project_key = projects.project_key
)

select * from final
