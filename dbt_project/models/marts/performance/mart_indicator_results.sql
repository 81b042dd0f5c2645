-- 指标结果明细 (indicator scores with project and department names, for BI).
with

scores as (
    select * from {{ ref('fct_indicator_scores') }}
),

projects as (
    select * from {{ ref('dim_project') }}
),

final as (
    select
        scores.indicator_id,
        scores.project_key,
        scores.fiscal_year,
        scores.level1_name,
        scores.level2_name,
        scores.level3_name,
        scores.kind,
        scores.direction,
        scores.target_text,
        scores.target_value,
        scores.actual_text,
        scores.actual_value,
        scores.unit,
        scores.weight,
        scores.reported_score,
        scores.recomputed_score,
        scores.is_full_marks,
        scores.rule_applied,
        scores.deviation_reason,
        scores.file_name,
        scores.sheet_name,
        scores.row_number,
        projects.project_name,
        projects.department_name
    from scores
    left join projects
        on scores.project_key = projects.project_key
)

select * from final
