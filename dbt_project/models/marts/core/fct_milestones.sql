-- 里程碑事实 (milestones: planned vs actual per stage, 如期完成率).
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
)

select * from final
