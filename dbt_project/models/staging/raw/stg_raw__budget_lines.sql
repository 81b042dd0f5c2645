with

source as (
    select * from {{ source('raw', 'budget_lines') }}
),

sequenced as (
    -- one form row can give two lines of the same type (e.g. 市本级 and 转移支付 spending)
    select
        source.*,
        row_number() over (
            partition by file_hash, sheet_name, row_number, line_type, fund_source
            order by amount_yuan, original_text
        ) as line_sequence
    from source
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number', 'line_type', 'fund_source', 'line_sequence']) }} as budget_line_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        fiscal_year,
        lower(trim(line_type)) as line_type,
        lower(trim(fund_source)) as fund_source,
        cast(amount_yuan as decimal(18, 2)) as amount_yuan,
        original_text,
        original_unit,
        line_date,
        {{ nullif_blank('reason') }} as reason
    from sequenced
)

select * from final
