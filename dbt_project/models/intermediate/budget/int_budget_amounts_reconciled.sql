-- 预算调整核对 (budget reconciled): final = initial + additions - cuts.
-- When a file states the final budget but not the adjustments, the difference is recorded as an
-- implied addition or cut (is_adjustment_implied). When it states both, final is the stated
-- figure and the singular test assert_budget_reconciles fails on any mismatch.
with

amounts as (
    select * from {{ ref('int_budget_amounts_pivoted') }}
),

adjustments as (
    select
        amounts.*,
        (additions_yuan is null and cuts_yuan is null
            and initial_yuan is not null and stated_final_yuan is not null
            and stated_final_yuan <> initial_yuan) as is_adjustment_implied
    from amounts
),

final as (
    select
        project_key,
        fiscal_year,
        fund_source,
        cast(initial_yuan as decimal(18, 2)) as initial_yuan,
        cast(case
            when is_adjustment_implied and stated_final_yuan > initial_yuan
                then stated_final_yuan - initial_yuan
            else coalesce(additions_yuan, 0)
        end as decimal(18, 2)) as additions_yuan,
        cast(case
            when is_adjustment_implied and stated_final_yuan < initial_yuan
                then initial_yuan - stated_final_yuan
            else coalesce(cuts_yuan, 0)
        end as decimal(18, 2)) as cuts_yuan,
        cast(coalesce(
            stated_final_yuan,
            initial_yuan + coalesce(additions_yuan, 0) - coalesce(cuts_yuan, 0)
        ) as decimal(18, 2)) as final_yuan,
        cast(stated_final_yuan as decimal(18, 2)) as stated_final_yuan,
        cast(allocated_local_yuan as decimal(18, 2)) as allocated_local_yuan,
        cast(allocated_transfer_yuan as decimal(18, 2)) as allocated_transfer_yuan,
        cast(case
            when allocated_local_yuan is null and allocated_transfer_yuan is null then null
            else coalesce(allocated_local_yuan, 0) + coalesce(allocated_transfer_yuan, 0)
        end as decimal(18, 2)) as allocated_yuan,
        cast(executed_yuan as decimal(18, 2)) as executed_yuan,
        is_adjustment_implied,
        is_derived_total
    from adjustments
)

select * from final
