-- 子项目支出率分档 (sub-project spending rate and bucket, per year and over the whole period).
-- rate = spent / funds, funds = allocated (实际下达) else final budget. Buckets come from seed
-- spending_rate_buckets (lower bound inclusive, upper exclusive). 'no_funds' (暂未下达资金): funds
-- of 0, or a registered sub-project with neither funds nor spending. A sub-project with spending
-- but no budget figure cannot be rated and is left out. Registered sub-projects without any
-- figure appear only in the whole-period rows (fiscal_year null).
with

financials as (
    select * from {{ ref('int_project_years_financials') }}
),

projects as (
    select * from {{ ref('int_projects_deduplicated') }}
),

buckets as (
    select * from {{ ref('spending_rate_buckets') }}
),

subprojects as (
    select project_key, parent_project_key
    from projects
    where parent_project_key is not null
),

per_year as (
    select
        subprojects.parent_project_key,
        subprojects.project_key,
        cast(financials.fiscal_year as integer) as fiscal_year,
        coalesce(financials.allocated_yuan, financials.final_yuan) as funds_yuan,
        financials.spent_yuan
    from subprojects
    inner join financials
        on subprojects.project_key = financials.project_key
),

whole_period as (
    select
        subprojects.parent_project_key,
        subprojects.project_key,
        cast(null as integer) as fiscal_year,
        sum(coalesce(financials.allocated_yuan, financials.final_yuan)) as funds_yuan,
        sum(financials.spent_yuan) as spent_yuan
    from subprojects
    left join financials
        on subprojects.project_key = financials.project_key
    group by subprojects.parent_project_key, subprojects.project_key
),

unioned as (
    select * from per_year
    union all
    select * from whole_period
),

rated as (
    select
        unioned.*,
        {{ ratio('coalesce(spent_yuan, 0)', 'funds_yuan') }} as spending_rate,
        (funds_yuan = 0 or (funds_yuan is null and coalesce(spent_yuan, 0) = 0)) as has_no_funds
    from unioned
    where funds_yuan is not null or coalesce(spent_yuan, 0) = 0
),

final as (
    select
        rated.parent_project_key,
        rated.project_key,
        rated.fiscal_year,
        cast(rated.funds_yuan as decimal(18, 2)) as funds_yuan,
        cast(rated.spent_yuan as decimal(18, 2)) as spent_yuan,
        rated.spending_rate,
        case when rated.has_no_funds then 'no_funds' else buckets.bucket_code end as bucket_code
    from rated
    left join buckets
        on not rated.has_no_funds
        and buckets.bucket_code <> 'no_funds'
        and rated.spending_rate >= buckets.min_rate
        and (buckets.max_rate is null or rated.spending_rate < buckets.max_rate)
)

select * from final
