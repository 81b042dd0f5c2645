-- 报告范围的支出率分布 (the 支出率分布 a department or region report prints when its projects have
-- no sub-project distribution): every bucket of the seed for every report scope and year, each
-- project once by its own rate (mart_report_project_buckets). A scope whose projects have
-- sub-projects counts the sub-projects (as seed 001 counts its 75), otherwise its projects.
-- 暂未下达资金 is counted inside 低于60% as the evaluation reports do (report_bucket_counts).
with

scope_projects as (
    select * from {{ ref('mart_report_scope_projects') }}
),

project_buckets as (
    select * from {{ ref('mart_report_project_buckets') }}
),

buckets as (
    select * from {{ ref('spending_rate_buckets') }}
),

scopes as (
    select distinct scope_kind, scope_name, fiscal_year from scope_projects
),

sub_projects as (
    select
        scope_projects.scope_kind,
        scope_projects.scope_name,
        scope_projects.fiscal_year,
        project_buckets.bucket_code
    from scope_projects
    inner join project_buckets
        on project_buckets.parent_project_key = scope_projects.project_key
        and project_buckets.fiscal_year = scope_projects.fiscal_year
),

scopes_with_sub_projects as (
    select distinct scope_kind, scope_name, fiscal_year from sub_projects
),

top_projects as (
    select
        scope_projects.scope_kind,
        scope_projects.scope_name,
        scope_projects.fiscal_year,
        project_buckets.bucket_code
    from scope_projects
    inner join project_buckets
        on project_buckets.project_key = scope_projects.project_key
        and project_buckets.fiscal_year = scope_projects.fiscal_year
    left join scopes_with_sub_projects
        on scope_projects.scope_kind = scopes_with_sub_projects.scope_kind
        and scope_projects.scope_name = scopes_with_sub_projects.scope_name
        and scope_projects.fiscal_year = scopes_with_sub_projects.fiscal_year
    where scopes_with_sub_projects.scope_name is null
),

members as (
    select * from sub_projects
    union all
    select * from top_projects
),

counted_members as (
    select scope_kind, scope_name, fiscal_year, bucket_code, count(*) as project_count
    from members
    group by scope_kind, scope_name, fiscal_year, bucket_code
),

grid as (
    select
        scopes.scope_kind,
        scopes.scope_name,
        scopes.fiscal_year,
        buckets.bucket_code,
        buckets.bucket_label_zh as bucket_label,
        buckets.sort_order,
        coalesce(counted_members.project_count, 0) as project_count
    from scopes
    cross join buckets
    left join counted_members
        on scopes.scope_kind = counted_members.scope_kind
        and scopes.scope_name = counted_members.scope_name
        and scopes.fiscal_year = counted_members.fiscal_year
        and buckets.bucket_code = counted_members.bucket_code
),

counted as (
    {{ report_bucket_counts('grid', ['scope_kind', 'scope_name', 'fiscal_year']) }}
),

final as (
    select
        {{ surrogate_key(['scope_kind', 'scope_name', 'fiscal_year', 'bucket_code']) }} as scope_bucket_id,
        {{ surrogate_key(['scope_kind', 'scope_name', 'fiscal_year']) }} as scope_id,
        cast(scope_kind as {{ dbt.type_string() }}) as scope_kind,
        cast(scope_name as {{ dbt.type_string() }}) as scope_name,
        cast(fiscal_year as integer) as fiscal_year,
        cast(bucket_code as {{ dbt.type_string() }}) as bucket_code,
        cast(bucket_label as {{ dbt.type_string() }}) as bucket_label,
        cast(sort_order as integer) as sort_order,
        cast(project_count as integer) as project_count,
        cast(counted_in_bucket_code as {{ dbt.type_string() }}) as counted_in_bucket_code,
        cast(coalesce(report_label, bucket_label) as {{ dbt.type_string() }}) as report_label,
        cast(reported_project_count as integer) as reported_project_count,
        cast(total_project_count as integer) as total_project_count
    from counted
)

select * from final
