-- 报告范围的月度执行进度 (a report's 月度执行进度 table): per report scope, year and month 1-12,
-- the cumulative spending of the projects with monthly rows over their summed final budget,
-- beside the 序时进度. A project with monthly rows of its own counts with them; a project
-- without counts with its sub-projects that have them. A series' cumulative spending carries
-- forward to months without a row. covered_* say how much of the scope the series cover: a
-- scope whose dated payments are a part of its spending reads that part, not the whole.
with

members as (
    select * from {{ ref('mart_report_scope_projects') }}
),

projects as (
    select * from {{ ref('mart_project_year') }}
),

monthly as (
    select * from {{ ref('mart_execution_monthly') }}
),

scope_funds as (
    select * from {{ ref('mart_report_scope_funds') }}
),

months as (
    select cast(month as integer) as month from {{ ref('calendar_months') }}
),

with_rows as (
    select distinct project_key, fiscal_year from monthly
),

own_series as (
    select members.scope_id, members.fiscal_year, members.project_key
    from members
    inner join with_rows
        on members.project_key = with_rows.project_key
        and members.fiscal_year = with_rows.fiscal_year
),

sub_series as (
    select members.scope_id, members.fiscal_year, subprojects.project_key
    from members
    inner join projects as subprojects
        on subprojects.parent_project_key = members.project_key
        and subprojects.fiscal_year = members.fiscal_year
    inner join with_rows
        on subprojects.project_key = with_rows.project_key
        and subprojects.fiscal_year = with_rows.fiscal_year
    left join own_series
        on members.scope_id = own_series.scope_id
        and members.project_key = own_series.project_key
    where own_series.project_key is null
),

series as (
    select * from own_series
    union all
    select * from sub_series
),

series_budget as (
    select
        series.scope_id,
        count(*) as covered_project_count,
        sum(projects.final_budget_yuan) as covered_budget_yuan,
        sum(projects.spent_yuan) as covered_year_spent_yuan
    from series
    inner join projects
        on series.project_key = projects.project_key
        and series.fiscal_year = projects.fiscal_year
    group by series.scope_id
),

latest_row as (
    select
        series.scope_id,
        series.fiscal_year,
        series.project_key,
        months.month,
        max(monthly.month) as row_month
    from series
    cross join months
    left join monthly
        on monthly.project_key = series.project_key
        and monthly.fiscal_year = series.fiscal_year
        and monthly.month <= months.month
    group by series.scope_id, series.fiscal_year, series.project_key, months.month
),

series_months as (
    select
        latest_row.scope_id,
        latest_row.fiscal_year,
        latest_row.project_key,
        latest_row.month,
        carried.cumulative_spent_yuan,
        here.time_schedule_rate
    from latest_row
    left join monthly as carried
        on carried.project_key = latest_row.project_key
        and carried.fiscal_year = latest_row.fiscal_year
        and carried.month = latest_row.row_month
    left join monthly as here
        on here.project_key = latest_row.project_key
        and here.fiscal_year = latest_row.fiscal_year
        and here.month = latest_row.month
),

summed as (
    select
        scope_id,
        fiscal_year,
        month,
        sum(coalesce(cumulative_spent_yuan, 0)) as cumulative_spent_yuan,
        max(time_schedule_rate) as time_schedule_rate
    from series_months
    group by scope_id, fiscal_year, month
),

final as (
    select
        {{ surrogate_key(['summed.scope_id', 'summed.month']) }} as scope_month_id,
        cast(summed.scope_id as {{ dbt.type_string() }}) as scope_id,
        cast(scope_funds.scope_kind as {{ dbt.type_string() }}) as scope_kind,
        cast(scope_funds.scope_name as {{ dbt.type_string() }}) as scope_name,
        cast(summed.fiscal_year as integer) as fiscal_year,
        cast(summed.month as integer) as month,
        cast(summed.cumulative_spent_yuan as decimal(18, 2)) as cumulative_spent_yuan,
        cast(series_budget.covered_budget_yuan as decimal(18, 2)) as covered_budget_yuan,
        {{ ratio('summed.cumulative_spent_yuan', 'series_budget.covered_budget_yuan') }} as cumulative_execution_rate,
        cast(summed.time_schedule_rate as decimal(12, 6)) as time_schedule_rate,
        cast(
            {{ ratio('summed.cumulative_spent_yuan', 'series_budget.covered_budget_yuan') }}
            < summed.time_schedule_rate as boolean
        ) as is_lagging,
        cast(series_budget.covered_project_count as integer) as covered_project_count,
        cast(series_budget.covered_year_spent_yuan as decimal(18, 2)) as covered_year_spent_yuan,
        cast(scope_funds.spent_yuan as decimal(18, 2)) as scope_spent_yuan,
        {{ ratio('series_budget.covered_year_spent_yuan', 'scope_funds.spent_yuan') }} as covered_spent_share
    from summed
    inner join series_budget on summed.scope_id = series_budget.scope_id
    inner join scope_funds on summed.scope_id = scope_funds.scope_id
)

select * from final
