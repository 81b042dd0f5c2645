-- 得分范围 (scores within bounds): every indicator score in [0, weight], every first-level
-- score in [0, max], every project total in [0, 100].
select 'indicator' as level, indicator_id as id, recomputed_score as score, weight as upper_bound
from {{ ref('fct_indicator_scores') }}
where recomputed_score < 0 or recomputed_score > weight
union all
select 'level1', {{ dbt.concat(["project_key", "'/'", "level1_name"]) }}, score, max_score
from {{ ref('mart_level1_scores') }}
where evaluation_type = 'recomputed' and (score < 0 or score > max_score)
union all
select 'project', project_key, recomputed_score, 100
from {{ ref('mart_project_year') }}
where recomputed_score < 0 or recomputed_score > 100
