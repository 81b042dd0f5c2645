with

source as (
    select * from {{ source('raw', 'payments') }}
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number']) }} as payment_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        fiscal_year,
        payment_date,
        cast(amount_yuan as decimal(18, 2)) as amount_yuan,
        original_text,
        original_unit,
        coalesce(lower({{ nullif_blank('fund_source') }}), 'total') as fund_source,
        {{ nullif_blank('payee') }} as payee,
        {{ nullif_blank('voucher_no') }} as voucher_no,
        {{ nullif_blank('summary') }} as summary,
        {{ nullif_blank('category') }} as category
    from source
)

select * from final
