-- 验收阶段统计 (stage counts and shares): how many projects were planned to reach each stage
-- and how many did (sums of fct_milestones' planned and actual counts), per department and
-- category (grouping_level 'category') or per department (grouping_level 'department',
-- category null), per fiscal year, and over all years (fiscal_year null). reached_share =
-- reached / planned (seed 000: 已终验 201 of 265 = 75.85 %; seed 001: 初验 40 / 40, 终验 23 / 24).
-- A parent's own milestone rows are left out where its sub-projects have rows of the same
-- stage and year, so nothing is counted twice.
{%- set s = dbt.type_string() %}
with

milestones as (
    select * from {{ ref('fct_milestones') }}
),

projects as (
    select * from {{ ref('dim_project') }}
),

stages as (
    select * from {{ ref('acceptance_stages') }}
),

with_project as (
    select
        milestones.*,
        projects.department_name,
        projects.category,
        projects.parent_project_key
    from milestones
    left join projects
        on milestones.project_key = projects.project_key
),

children_stage_years as (
    select distinct parent_project_key, stage, fiscal_year
    from with_project
    where parent_project_key is not null
),

counted as (
    select with_project.*
    from with_project
    left join children_stage_years
        on with_project.project_key = children_stage_years.parent_project_key
        and with_project.stage = children_stage_years.stage
        and with_project.fiscal_year = children_stage_years.fiscal_year
    where children_stage_years.parent_project_key is null
),

by_category_year as (
    select 'category' as grouping_level, department_name, category, fiscal_year, stage,
        count(distinct project_key) as project_count,
        sum(planned_count) as planned_count, sum(actual_count) as reached_count
    from counted
    group by department_name, category, fiscal_year, stage
),

by_category_period as (
    select 'category' as grouping_level, department_name, category, cast(null as integer) as fiscal_year, stage,
        count(distinct project_key) as project_count,
        sum(planned_count) as planned_count, sum(actual_count) as reached_count
    from counted
    group by department_name, category, stage
),

by_department_year as (
    select 'department' as grouping_level, department_name, cast(null as {{ s }}) as category, fiscal_year, stage,
        count(distinct project_key) as project_count,
        sum(planned_count) as planned_count, sum(actual_count) as reached_count
    from counted
    group by department_name, fiscal_year, stage
),

by_department_period as (
    select 'department' as grouping_level, department_name, cast(null as {{ s }}) as category, cast(null as integer) as fiscal_year, stage,
        count(distinct project_key) as project_count,
        sum(planned_count) as planned_count, sum(actual_count) as reached_count
    from counted
    group by department_name, stage
),

unioned as (
    select * from by_category_year
    union all select * from by_category_period
    union all select * from by_department_year
    union all select * from by_department_period
),

final as (
    select
        cast({{ surrogate_key(['unioned.grouping_level', 'unioned.department_name', 'unioned.category', 'unioned.fiscal_year', 'unioned.stage']) }} as {{ s }}) as acceptance_stage_id,
        cast(unioned.grouping_level as {{ s }}) as grouping_level,
        cast(unioned.department_name as {{ s }}) as department_name,
        cast(unioned.category as {{ s }}) as category,
        cast(unioned.fiscal_year as integer) as fiscal_year,
        cast(unioned.stage as {{ s }}) as stage,
        cast(stages.stage_en as {{ s }}) as stage_en,
        cast(stages.sort_order as integer) as stage_order,
        cast(stages.status_zh as {{ s }}) as status_zh,
        cast(stages.status_en as {{ s }}) as status_en,
        cast(unioned.project_count as integer) as project_count,
        cast(unioned.planned_count as integer) as planned_count,
        cast(unioned.reached_count as integer) as reached_count,
        {{ ratio('unioned.reached_count', 'unioned.planned_count', input_scale=0) }} as reached_share,
        cast(round({{ ratio('unioned.reached_count', 'unioned.planned_count', input_scale=0) }} * 100, 2) as decimal(12, 2)) as reached_share_pct
    from unioned
    left join stages
        on unioned.stage = stages.stage
)

select * from final
