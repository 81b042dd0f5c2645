-- 类别占比 (category shares): amounts under a parent and year sum to the parent's total spending
-- and shares sum to 1 (within rounding of 6 decimals per row).
select
    parent_project_key,
    fiscal_year,
    sum(share) as share_total
from {{ ref('mart_category_year') }}
group by parent_project_key, fiscal_year
having abs(sum(share) - 1) > 0.00001 * count(*)
