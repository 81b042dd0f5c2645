-- 指标结果事实 (indicator results as reported: target, actual, weight, score, reason, lineage).
with

scores as (
    select * from {{ ref('fct_indicator_scores') }}
),

final as (
    select
        indicator_id,
        project_key,
        fiscal_year,
        level1_name,
        level2_name,
        level3_name,
        kind,
        direction,
        target_text,
        target_value,
        actual_text,
        actual_value,
        unit,
        weight,
        reported_score,
        recomputed_score,
        rule_applied,
        deviation_reason,
        file_name,
        sheet_name,
        row_number,
        indicator_key
    from scores
)

select * from final
