-- 里程碑事实 (milestones: planned vs actual per stage, 如期完成率).
-- Incremental by submission (按报送增量): only the (project, year) keys whose raw inputs
-- changed are rebuilt (macros/incremental_by_submission.sql); --full-refresh rebuilds all.
{{ config(
    materialized=submission_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ submission_keys_delete(['milestones']) }}",
    post_hook="{{ submission_keys_save(['milestones']) }}",
) }}
with

milestones as (
    select * from {{ ref('int_milestones_deduplicated') }}
),

final as (
    select
        cast(milestone_id as {{ dbt.type_string() }}) as milestone_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(stage as {{ dbt.type_string() }}) as stage,
        cast(planned_count as integer) as planned_count,
        cast(actual_count as integer) as actual_count,
        {{ ratio('actual_count', 'planned_count', input_scale=0) }} as on_time_rate,
        cast(file_name as {{ dbt.type_string() }}) as file_name,
        cast(sheet_name as {{ dbt.type_string() }}) as sheet_name,
        cast(row_number as integer) as row_number
    from milestones
    {{ submission_keys_filter(['milestones']) }}
)

select * from final
