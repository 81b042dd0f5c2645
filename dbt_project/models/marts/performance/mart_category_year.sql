-- 类别支出分布 (seed 000's category table): amount, project count and share per category under
-- a parent project; rows with fiscal_year null hold the whole period (period_start_year..end).
with

categories as (
    select * from {{ ref('int_category_spending_summed') }}
),

parent_departments as (
    {{ parent_departments() }}
),

final as (
    select
        {{ surrogate_key(['category', 'fiscal_year', 'parent_project_key']) }} as category_year_id,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(fiscal_year as integer) as fiscal_year,
        cast(parent_project_key as {{ dbt.type_string() }}) as parent_project_key,
        cast(period_start_year as integer) as period_start_year,
        cast(period_end_year as integer) as period_end_year,
        cast(project_count as integer) as project_count,
        cast(amount_yuan as decimal(18, 2)) as amount_yuan,
        cast(share as decimal(12, 6)) as share,
        cast(share_pct as decimal(12, 2)) as share_pct,
        cast(parent_departments.department_name as {{ dbt.type_string() }}) as department_name
    from categories
    left join parent_departments using (parent_project_key)
)

select * from final
