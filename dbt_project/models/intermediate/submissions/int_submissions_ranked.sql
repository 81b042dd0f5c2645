-- 报送版本 (submission versions): every submission with its version rank; history stays here.
with

submissions as (
    select * from {{ ref('stg_raw__submissions') }}
),

file_loads as (
    select
        department_name,
        project_key,
        fiscal_year,
        file_hash,
        max(loaded_at) as file_loaded_at
    from submissions
    group by department_name, project_key, fiscal_year, file_hash
),

file_ranked as (
    select
        department_name,
        project_key,
        fiscal_year,
        file_hash,
        file_loaded_at,
        row_number() over (
            partition by department_name, project_key, fiscal_year
            order by file_loaded_at desc, file_hash desc
        ) as version_rank,
        count(*) over (
            partition by department_name, project_key, fiscal_year
        ) as version_count
    from file_loads
),

final as (
    select
        submissions.submission_id,
        submissions.file_hash,
        submissions.file_name,
        submissions.sheet_name,
        submissions.loaded_at,
        submissions.layout,
        submissions.department_name,
        submissions.project_key,
        submissions.project_name,
        submissions.fiscal_year,
        file_ranked.version_rank,
        file_ranked.version_count,
        file_ranked.version_rank = 1 as is_latest
    from submissions
    inner join file_ranked
        on submissions.department_name = file_ranked.department_name
        and submissions.project_key = file_ranked.project_key
        and submissions.fiscal_year = file_ranked.fiscal_year
        and submissions.file_hash = file_ranked.file_hash
)

select * from final
