with

source as (
    select * from {{ source('raw', 'projects') }}
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number']) }} as project_row_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        {{ nullif_blank('project_code') }} as project_code,
        trim(project_name) as project_name,
        {{ nullif_blank('category') }} as category,
        trim(department_name) as department_name,
        {{ nullif_blank('implementing_unit') }} as implementing_unit,
        {{ nullif_blank('province') }} as province,
        {{ nullif_blank('city') }} as city,
        {{ nullif_blank('county') }} as county,
        {{ nullif_blank('project_level') }} as project_level,
        period_start_year,
        period_end_year,
        {{ nullif_blank('parent_project_key') }} as parent_project_key
    from source
)

select * from final
