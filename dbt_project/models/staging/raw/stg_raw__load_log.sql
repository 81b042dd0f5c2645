with

source as (
    select * from {{ source('raw', 'load_log') }}
),

final as (
    select
        load_id,
        file_hash,
        file_name,
        file_size_bytes,
        received_at,
        document_filled_on,
        document_modified_at,
        loaded_at,
        status,
        layout,
        rows_read,
        rows_loaded,
        rows_rejected,
        reason_code,
        message_zh,
        message_en,
        quarantine_path,
        layout_evidence
    from source
)

select * from final
