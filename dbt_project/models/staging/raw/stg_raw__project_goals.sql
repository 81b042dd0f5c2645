with

source as (
    select * from {{ source('raw', 'project_goals') }}
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number']) }} as goal_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        fiscal_year,
        expected_goal,
        actual_outcome
    from source
)

select * from final
