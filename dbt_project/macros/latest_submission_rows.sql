{#- Rows of a staging model that belong to the current submission (当前报送).
    Which submission is current is defined once, in raw_schema.sql: raw._submission_versions
    orders each (department, project, fiscal year)'s files by the document's own time, and
    raw._submission_tables says, per raw table, whether a submission's file is the newest
    among the files that delivered rows OF THAT TABLE for the key. So a ledger sent as one
    workbook per kind (项目登记.xlsx, 支付.xlsx, 评价结果.xlsx) keeps every kind, while a
    resubmitted workbook replaces the rows of every table it holds. The raw gate
    (jixiao.quality.frames) reads the same views.
    Rows without a submission_id are kept unless a submission for the same project and fiscal
    year was loaded after them (such rows carry no department to rank them by). -#}
{% macro latest_submission_rows(model_name) -%}
{%- set raw_table = model_name | replace('stg_raw__', '') -%}
with

rows_all as (
    select * from {{ ref(model_name) }}
),

current_submissions as (
    select submission_id
    from {{ ref('stg_raw__submission_tables') }}
    where table_name = '{{ raw_table }}'
        and is_current
),

newest_per_project_year as (
    select
        project_key,
        fiscal_year,
        max(loaded_at) as latest_loaded_at
    from {{ ref('stg_raw__submissions') }}
    group by project_key, fiscal_year
),

final as (
    select
        rows_all.*
    from rows_all
    left join newest_per_project_year
        on rows_all.project_key = newest_per_project_year.project_key
        and rows_all.fiscal_year = newest_per_project_year.fiscal_year
    where
        case
            when rows_all.submission_id is not null
                then rows_all.submission_id in (select submission_id from current_submissions)
            else newest_per_project_year.latest_loaded_at is null
                or rows_all.loaded_at >= newest_per_project_year.latest_loaded_at
        end
)

select * from final
{%- endmacro %}
