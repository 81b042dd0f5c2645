-- 当前报送的数据行 (current submissions per raw table), defined once in raw_schema.sql.
with

source as (
    select * from {{ source('raw', 'submission_tables') }}
),

final as (
    select
        table_name,
        submission_id,
        file_hash,
        department_name,
        project_key,
        fiscal_year,
        version_rank,
        table_version_rank,
        is_current
    from source
)

select * from final
