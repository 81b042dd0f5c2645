with

source as (
    select * from {{ source('raw', 'indicators') }}
),

final as (
    select
        {{ surrogate_key(['file_hash', 'sheet_name', 'row_number']) }} as indicator_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        loaded_at,
        submission_id,
        trim(project_key) as project_key,
        fiscal_year,
        {{ nullif_blank('scheme_code') }} as scheme_code,
        trim(level1_name) as level1_name,
        level1_weight,
        {{ nullif_blank('level2_name') }} as level2_name,
        level2_weight,
        trim(level3_name) as level3_name,
        weight,
        {{ nullif_blank('weight_rule_text') }} as weight_rule_text,
        {{ nullif_blank('target_text') }} as target_text,
        lower({{ nullif_blank('target_kind') }}) as target_kind,
        {{ nullif_blank('target_direction') }} as target_direction,
        target_value,
        {{ nullif_blank('target_unit') }} as target_unit,
        {{ nullif_blank('actual_text') }} as actual_text,
        lower({{ nullif_blank('actual_kind') }}) as actual_kind,
        actual_value,
        {{ nullif_blank('actual_unit') }} as actual_unit,
        reported_score,
        {{ nullif_blank('deviation_reason') }} as deviation_reason,
        {{ nullif_blank('scoring_rule_text') }} as scoring_rule_text
    from source
)

select * from final
