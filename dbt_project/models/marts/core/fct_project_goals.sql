-- 年度总体目标 (yearly goals): what the project meant to achieve and what it reports achieved.
-- Incremental by submission (按报送增量): only the (project, year) keys whose raw inputs
-- changed are rebuilt (macros/incremental_by_submission.sql); --full-refresh rebuilds all.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ submission_keys_delete(['project_goals']) }}",
    post_hook="{{ submission_keys_save(['project_goals']) }}",
) }}
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
    {{ submission_keys_filter(['project_goals']) }}
)

select * from final
