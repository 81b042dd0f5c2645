-- 项目支出率分档 (each project and year in exactly one spending-rate bucket of the seed, by its
-- own execution rate; 暂未下达资金 only when the project has no execution rate at all).
with

projects as (
    select * from {{ ref('mart_project_year') }}
),

buckets as (
    select * from {{ ref('spending_rate_buckets') }}
),

matched as (
    select
        projects.project_key,
        projects.fiscal_year,
        projects.parent_project_key,
        projects.department_name,
        projects.execution_rate,
        buckets.bucket_code,
        buckets.bucket_label_zh,
        buckets.sort_order,
        row_number() over (
            partition by projects.project_key, projects.fiscal_year order by buckets.sort_order
        ) as match_rank
    from projects
    inner join buckets
        on (
            projects.execution_rate is not null
            and buckets.min_rate is not null
            and projects.execution_rate >= buckets.min_rate
            and (buckets.max_rate is null or projects.execution_rate < buckets.max_rate)
        )
        or (projects.execution_rate is null and buckets.bucket_code = 'no_funds')
        or (projects.execution_rate < 0 and buckets.bucket_code = 'rate_below_60')
),

final as (
    select
        {{ surrogate_key(['project_key', 'fiscal_year']) }} as project_bucket_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(parent_project_key as {{ dbt.type_string() }}) as parent_project_key,
        cast(department_name as {{ dbt.type_string() }}) as department_name,
        cast(execution_rate as decimal(12, 6)) as execution_rate,
        cast(bucket_code as {{ dbt.type_string() }}) as bucket_code,
        cast(bucket_label_zh as {{ dbt.type_string() }}) as bucket_label,
        cast(sort_order as integer) as sort_order
    from matched
    where match_rank = 1
)

select * from final
