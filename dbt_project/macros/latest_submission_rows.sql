{#- Rows of a staging model that belong to the latest submission (最新报送).
    A submission is (department, project, fiscal year) delivered by one file; the file with the
    latest loaded_at supersedes earlier files for that key. Rows without a submission_id are
    kept unless a later submission exists for the same project and fiscal year. -#}
{% macro latest_submission_rows(model_name) -%}
with

rows_all as (
    select * from {{ ref(model_name) }}
),

submissions as (
    select * from {{ ref('int_submissions_ranked') }}
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
    left join newest_per_project_year
        on rows_all.project_key = newest_per_project_year.project_key
        and rows_all.fiscal_year = newest_per_project_year.fiscal_year
    where
        case
            when submissions.submission_id is not null then submissions.is_latest
            else newest_per_project_year.latest_loaded_at is null
                or rows_all.loaded_at >= newest_per_project_year.latest_loaded_at
        end
)

select * from final
{%- endmacro %}
