-- 预算核对 (reconciliation): final = initial + additions - cuts for every budget row that has
-- an initial figure. A file that states initial, adjustments and a different final fails here.
select
    project_key,
    fiscal_year,
    fund_source,
    initial_yuan,
    additions_yuan,
    cuts_yuan,
    final_yuan
from {{ ref('fct_budget') }}
where initial_yuan is not null
    and final_yuan <> initial_yuan + additions_yuan - cuts_yuan
