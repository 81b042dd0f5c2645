with

source as (
    select * from {{ source('raw', 'reported_totals') }}
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number', 'measure']) }} as reported_total_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        fiscal_year,
        coalesce(period_start_year, fiscal_year) as period_start_year,
        lower(trim(source_table)) as source_table,
        lower(trim(measure)) as measure,
        cast(amount_yuan as decimal(18, 2)) as amount_yuan,
        cast(rate as decimal(20, 6)) as rate,
        original_text,
        original_unit
    from source
)

select * from final
