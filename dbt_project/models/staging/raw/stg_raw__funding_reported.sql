with

source as (
    select * from {{ source('raw', 'funding_reported') }}
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number', 'fund_source']) }} as funding_row_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        fiscal_year,
        lower(trim(fund_source)) as fund_source,
        cast(initial_budget_yuan as decimal(18, 2)) as initial_budget_yuan,
        cast(final_budget_yuan as decimal(18, 2)) as final_budget_yuan,
        cast(allocated_yuan as decimal(18, 2)) as allocated_yuan,
        cast(executed_yuan as decimal(18, 2)) as executed_yuan,
        original_unit,
        weight,
        reported_rate,
        reported_score
    from source
)

select * from final
