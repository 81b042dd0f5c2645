-- 年度总体目标 (yearly goals): what the project meant to achieve and what it reports achieved.
with

goals as (
    select * from {{ ref('int_project_goals_deduplicated') }}
),

final as (
    select
        goal_id,
        project_key,
        fiscal_year,
        expected_goal,
        actual_outcome,
        file_name,
        sheet_name,
        row_number
    from goals
)

select * from final
