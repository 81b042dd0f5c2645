-- 当前报送唯一 (one current submission): every (department, project, fiscal year) has exactly one
-- current file version, and only a version that is not current can have arrived after it.
with

versions as (
    select * from {{ ref('stg_raw__submission_versions') }}
),

per_key as (
    select
        department_name,
        project_key,
        fiscal_year,
        sum(case when is_current then 1 else 0 end) as current_count,
        sum(case when is_current and arrived_after_current then 1 else 0 end) as current_arrived_after
    from versions
    group by department_name, project_key, fiscal_year
)

select * from per_key
where current_count <> 1 or current_arrived_after <> 0
