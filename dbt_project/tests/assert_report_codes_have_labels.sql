-- 报告代码均有中文标签 (every code a yearly report prints has a Chinese label in
-- mart_report_labels): scoring rules, evaluation types, flag types and severities as the
-- marts hold them. A code without a label would reach a report in English.
with

used as (
    select distinct 'rule' as code_type, rule_applied as code
    from {{ ref('fct_indicator_scores') }}
    where rule_applied is not null
    union all
    select distinct 'evaluation_type', evaluation_type
    from {{ ref('mart_level1_scores') }}
    where evaluation_type is not null
    union all
    select distinct 'flag_type', flag_code from {{ ref('mart_review_flags') }}
    union all
    select distinct 'severity', severity from {{ ref('mart_review_flags') }}
),

labels as (
    select code_type, code from {{ ref('mart_report_labels') }}
    where label_zh is not null and label_zh <> ''
)

select used.code_type, used.code
from used
left join labels
    on used.code_type = labels.code_type and used.code = labels.code
where labels.code is null
