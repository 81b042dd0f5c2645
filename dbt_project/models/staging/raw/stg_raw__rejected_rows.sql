with

source as (
    select * from {{ source('raw', 'rejected_rows') }}
),

final as (
    select
        {{ surrogate_key(['load_id', 'sheet_name', 'row_number', 'cell_ref', 'reason_code']) }} as rejected_row_id,
        load_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        cell_ref,
        reason_code,
        expected,
        message_zh,
        message_en,
        loaded_at
    from source
)

select * from final
