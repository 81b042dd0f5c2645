-- 报送版本 (submission versions): every submission with its version rank; history stays here.
-- The order is not decided here: raw._submission_versions (raw_schema.sql) ranks each file's
-- version of a (department, project, fiscal year) by the document's own time (填报日期,
-- docProps modified, file time, arrival), and the raw gate reads the same view.
with

submissions as (
    select * from {{ ref('stg_raw__submissions') }}
),

versions as (
    select * from {{ ref('stg_raw__submission_versions') }}
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
        versions.filled_on,
        versions.document_modified_at,
        versions.received_at,
        versions.arrived_at,
        versions.ordered_by,
        versions.version_rank,
        versions.version_count,
        versions.arrival_rank,
        versions.is_current as is_latest,
        versions.arrived_after_current
    from submissions
    inner join versions
        on submissions.department_name = versions.department_name
        and submissions.project_key = versions.project_key
        and submissions.fiscal_year = versions.fiscal_year
        and submissions.file_hash = versions.file_hash
)

select * from final
