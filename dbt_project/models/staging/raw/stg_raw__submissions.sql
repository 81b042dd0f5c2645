with

source as (
    select * from {{ source('raw', 'submissions') }}
),

final as (
    select
        submission_id,
        file_hash,
        file_name,
        sheet_name,
        loaded_at,
        layout,
        trim(department_name) as department_name,
        trim(project_key) as project_key,
        {{ nullif_blank('project_name') }} as project_name,
        fiscal_year
    from source
)

select * from final
