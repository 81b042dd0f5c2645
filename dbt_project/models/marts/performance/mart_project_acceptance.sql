-- 项目验收状态 (acceptance status): one row per project that has milestone rows, with the latest
-- stage it reached (the highest stage of seeds/acceptance_stages.csv whose actual count is above
-- zero, over all its years) and the year it was reached. A milestone row of one project counts
-- 1 planned / 0 or 1 done; a parent's row counts its sub-projects (seed 001: 终验 24 planned, 23
-- done), so for a parent the latest stage is the furthest any sub-project reached; the counts
-- per stage are in mart_acceptance_stages.
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

reached as (
    select
        milestones.project_key,
        milestones.fiscal_year,
        milestones.stage,
        stages.sort_order,
        row_number() over (
            partition by milestones.project_key
            order by stages.sort_order desc, milestones.fiscal_year asc
        ) as reach_rank
    from milestones
    inner join stages
        on milestones.stage = stages.stage
    where milestones.actual_count > 0
),

project_rows as (
    select
        project_key,
        min(fiscal_year) as first_year,
        max(fiscal_year) as last_year,
        count(*) as milestone_row_count
    from milestones
    group by project_key
),

final as (
    select
        cast(project_rows.project_key as {{ dbt.type_string() }}) as project_key,
        cast(projects.project_name as {{ dbt.type_string() }}) as project_name,
        cast(projects.department_name as {{ dbt.type_string() }}) as department_name,
        cast(projects.category as {{ dbt.type_string() }}) as category,
        cast(projects.parent_project_key as {{ dbt.type_string() }}) as parent_project_key,
        cast(project_rows.first_year as integer) as first_milestone_year,
        cast(project_rows.last_year as integer) as last_milestone_year,
        cast(project_rows.milestone_row_count as integer) as milestone_row_count,
        cast(reached.stage as {{ dbt.type_string() }}) as latest_stage,
        cast(stages.stage_en as {{ dbt.type_string() }}) as latest_stage_en,
        cast(stages.sort_order as integer) as latest_stage_order,
        cast(reached.fiscal_year as integer) as latest_stage_year,
        cast(coalesce(stages.status_zh, '未达到任何阶段') as {{ dbt.type_string() }}) as acceptance_status_zh,
        cast(coalesce(stages.status_en, 'No stage reached') as {{ dbt.type_string() }}) as acceptance_status_en,
        cast(coalesce(stages.is_acceptance, false) as boolean) as is_accepted,
        cast(coalesce(stages.is_final, false) as boolean) as is_final_accepted
    from project_rows
    left join reached
        on project_rows.project_key = reached.project_key
        and reached.reach_rank = 1
    left join stages
        on reached.stage = stages.stage
    left join projects
        on project_rows.project_key = projects.project_key
)

select * from final
