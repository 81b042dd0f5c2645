-- 项目登记去重 (project register): one row per project_key. Each attribute takes its value from
-- the most recent register row where it is filled, so a later file wins and blanks in a later
-- file do not erase what an earlier file said.
{%- set attributes = ['project_name', 'department_name', 'file_name', 'loaded_at', 'project_code',
    'category', 'implementing_unit', 'province', 'city', 'county', 'project_level',
    'period_start_year', 'period_end_year', 'parent_project_key'] %}
with

projects as (
    select * from {{ ref('stg_raw__projects') }}
),

ranked as (
    select
        projects.*,
        row_number() over (
            partition by project_key order by loaded_at desc, file_hash desc, row_number desc
        ) as recency_rank
    from projects
),

with_first_filled as (
    select
        ranked.*,
        {%- for a in attributes %}
        min(case when {{ a }} is not null then recency_rank end)
            over (partition by project_key) as {{ a }}_rank{{ "," if not loop.last }}
        {%- endfor %}
    from ranked
),

final as (
    select
        project_key,
        {%- for a in attributes %}
        max(case when recency_rank = {{ a }}_rank then {{ a }} end) as {{ a }}{{ "," if not loop.last }}
        {%- endfor %}
    from with_first_filled
    group by project_key
)

select * from final
