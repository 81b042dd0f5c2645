-- 年度总体目标 (yearly goals): what the project meant to achieve and what it reports achieved.
-- Incremental by submission (按报送增量): only the (project, year) keys whose raw inputs
-- changed are rebuilt (macros/incremental_by_submission.sql); --full-refresh rebuilds all.
{{ config(
    materialized=submission_materialization(),
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
    -- cast to the contract's types, as the other facts do: on PostgreSQL the md5 key and the
    -- trimmed project key are `text`, which an incremental run's on_schema_change='fail'
    -- refuses against the contract's varchar (identity casts on DuckDB)
    select
        cast(goal_id as {{ dbt.type_string() }}) as goal_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(expected_goal as {{ dbt.type_string() }}) as expected_goal,
        cast(actual_outcome as {{ dbt.type_string() }}) as actual_outcome,
        cast(file_name as {{ dbt.type_string() }}) as file_name,
        cast(sheet_name as {{ dbt.type_string() }}) as sheet_name,
        cast(row_number as integer) as row_number
    from goals
    {{ submission_keys_filter(['project_goals']) }}
)

select * from final
