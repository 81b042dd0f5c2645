-- 子项目支出率分布 (seed 001's buckets incl. 暂未下达资金): every bucket for every parent and
-- year, zero counts included; fiscal_year null = the whole period.
with

bucketed as (
    select * from {{ ref('int_subproject_spending_bucketed') }}
),

buckets as (
    select * from {{ ref('spending_rate_buckets') }}
),

groups as (
    select distinct parent_project_key, fiscal_year from bucketed
),

counted as (
    select parent_project_key, fiscal_year, bucket_code, count(*) as project_count
    from bucketed
    group by parent_project_key, fiscal_year, bucket_code
),

parent_departments as (
    {{ parent_departments() }}
),

final as (
    select
        {{ surrogate_key(['groups.parent_project_key', 'groups.fiscal_year', 'buckets.bucket_code']) }} as distribution_id,
        cast(groups.parent_project_key as {{ dbt.type_string() }}) as parent_project_key,
        cast(groups.fiscal_year as integer) as fiscal_year,
        cast(buckets.bucket_code as {{ dbt.type_string() }}) as bucket_code,
        cast(buckets.bucket_label_zh as {{ dbt.type_string() }}) as bucket_label,
        cast(buckets.bucket_label_en as {{ dbt.type_string() }}) as bucket_label_en,
        cast(coalesce(counted.project_count, 0) as integer) as project_count,
        cast(buckets.sort_order as integer) as sort_order,
        cast(parent_departments.department_name as {{ dbt.type_string() }}) as department_name
    from groups
    cross join buckets
    left join counted
        on groups.parent_project_key = counted.parent_project_key
        and {{ null_safe_equals('groups.fiscal_year', 'counted.fiscal_year') }}
        and buckets.bucket_code = counted.bucket_code
    left join parent_departments
        on groups.parent_project_key = parent_departments.parent_project_key
)

select * from final
