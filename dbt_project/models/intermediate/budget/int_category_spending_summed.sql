-- 类别支出 (spending per category under a parent project, per year and over the whole period).
-- Category of a payment: its own 支出类别, else its project's category. Projects without a
-- parent are their own parent. Rows with fiscal_year null hold the period total.
with

payments as (
    select * from {{ ref('int_payments_deduplicated') }}
),

financials as (
    select * from {{ ref('int_project_years_financials') }}
),

projects as (
    select * from {{ ref('int_projects_deduplicated') }}
),

paid_by_category as (
    select
        payments.project_key,
        payments.fiscal_year,
        coalesce(payments.category, projects.category, '未分类') as category,
        sum(payments.amount_yuan) as amount_yuan
    from payments
    left join projects
        on payments.project_key = projects.project_key
    group by
        payments.project_key,
        payments.fiscal_year,
        coalesce(payments.category, projects.category, '未分类')
),

reported_only as (
    select
        financials.project_key,
        financials.fiscal_year,
        coalesce(projects.category, '未分类') as category,
        financials.spent_yuan as amount_yuan
    from financials
    left join projects
        on financials.project_key = projects.project_key
    where financials.spent_source = 'reported_executed'
),

project_amounts as (
    select * from paid_by_category
    union all
    select * from reported_only
),

with_parent as (
    select
        project_amounts.*,
        coalesce(projects.parent_project_key, project_amounts.project_key) as parent_project_key
    from project_amounts
    left join projects
        on project_amounts.project_key = projects.project_key
),

per_year as (
    select
        category,
        cast(fiscal_year as integer) as fiscal_year,
        parent_project_key,
        min(fiscal_year) as period_start_year,
        max(fiscal_year) as period_end_year,
        count(distinct project_key) as project_count,
        sum(amount_yuan) as amount_yuan
    from with_parent
    group by category, fiscal_year, parent_project_key
),

whole_period as (
    select
        category,
        cast(null as integer) as fiscal_year,
        parent_project_key,
        min(fiscal_year) as period_start_year,
        max(fiscal_year) as period_end_year,
        count(distinct project_key) as project_count,
        sum(amount_yuan) as amount_yuan
    from with_parent
    group by category, parent_project_key
),

unioned as (
    select * from per_year
    union all
    select * from whole_period
),

final as (
    select
        category,
        fiscal_year,
        parent_project_key,
        period_start_year,
        period_end_year,
        project_count,
        cast(amount_yuan as decimal(18, 2)) as amount_yuan,
        {{ ratio('amount_yuan', 'total_yuan') }} as share,
        case when {{ ratio('amount_yuan', 'total_yuan') }} is not null
            then cast({{ divide('amount_yuan * 100', 'total_yuan', 2, 2) }}
                as decimal(20, 2))
        end as share_pct
    from (
        select
            unioned.*,
            sum(unioned.amount_yuan) over (
                partition by unioned.parent_project_key, unioned.fiscal_year
            ) as total_yuan
        from unioned
    ) as with_totals
)

select * from final
