with

source as (
    select * from {{ source('raw', 'milestones') }}
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number']) }} as milestone_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        fiscal_year,
        trim(stage) as stage,
        planned_count,
        actual_count
    from source
)

select * from final
