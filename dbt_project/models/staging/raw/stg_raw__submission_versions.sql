-- 报送版本 (submission versions), as defined once in raw_schema.sql (raw._submission_versions).
with

source as (
    select * from {{ source('raw', 'submission_versions') }}
),

final as (
    select
        department_name,
        project_key,
        fiscal_year,
        file_hash,
        file_name,
        loaded_at,
        filled_on,
        document_modified_at,
        received_at,
        arrived_at,
        ordered_by,
        version_rank,
        version_count,
        arrival_rank,
        is_current,
        arrived_after_current
    from source
)

select * from final
