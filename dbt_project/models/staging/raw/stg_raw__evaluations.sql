with

source as (
    select * from {{ source('raw', 'evaluations') }}
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number']) }} as evaluation_row_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        fiscal_year,
        coalesce(period_start_year, fiscal_year) as period_start_year,
        lower(trim(evaluation_type)) as evaluation_type,
        {{ nullif_blank('evaluator') }} as evaluator,
        {{ nullif_blank('scheme_code') }} as scheme_code,
        case when trim(level1_name) in ('', '合计', '总分', '总计') then null
             else trim(level1_name) end as level1_name,
        max_score,
        score,
        {{ nullif_blank('grade') }} as grade,
        reported_rate
    from source
)

select * from final
