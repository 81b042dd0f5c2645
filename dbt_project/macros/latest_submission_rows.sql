{#- Rows of a staging model that belong to the latest submission (最新报送).
    A submission is (department, project, fiscal year) delivered by one file. Among the files
    that delivered rows OF THIS TABLE for that key, the one loaded last counts: a newer file
    supersedes an older one for the tables it carries, so a ledger sent as one workbook per
    kind (项目登记.xlsx, 支付.xlsx, 评价结果.xlsx) keeps every kind, while a resubmitted workbook
    replaces the rows of every table it holds. Rows without a submission_id are kept unless a
    later submission exists for the same project and fiscal year. -#}
{% macro latest_submission_rows(model_name) -%}
with

rows_all as (
    select * from {{ ref(model_name) }}
),

submissions as (
    select * from {{ ref('int_submissions_ranked') }}
),

files_carrying as (
    select
        submissions.department_name,
        submissions.project_key,
        submissions.fiscal_year,
        submissions.file_hash,
        max(submissions.loaded_at) as file_loaded_at
    from submissions
    where submissions.submission_id in (select submission_id from rows_all)
    group by submissions.department_name, submissions.project_key, submissions.fiscal_year,
        submissions.file_hash
),

files_ranked as (
    select
        department_name,
        project_key,
        fiscal_year,
        file_hash,
        row_number() over (
            partition by department_name, project_key, fiscal_year
            order by file_loaded_at desc, file_hash desc
        ) as table_version_rank
    from files_carrying
),

newest_per_project_year as (
    select
        project_key,
        fiscal_year,
        max(loaded_at) as latest_loaded_at
    from submissions
    group by project_key, fiscal_year
),

final as (
    select
        rows_all.*
    from rows_all
    left join submissions
        on rows_all.submission_id = submissions.submission_id
    left join files_ranked
        on submissions.department_name = files_ranked.department_name
        and submissions.project_key = files_ranked.project_key
        and submissions.fiscal_year = files_ranked.fiscal_year
        and submissions.file_hash = files_ranked.file_hash
    left join newest_per_project_year
        on rows_all.project_key = newest_per_project_year.project_key
        and rows_all.fiscal_year = newest_per_project_year.fiscal_year
    where
        case
            when submissions.submission_id is not null then files_ranked.table_version_rank = 1
            else newest_per_project_year.latest_loaded_at is null
                or rows_all.loaded_at >= newest_per_project_year.latest_loaded_at
        end
)

select * from final
{%- endmacro %}
