-- 指标得分事实 (every indicator: target, actual, weight, reported and recomputed score, rule),
-- with its indicator definition key and the proposed deviation deduction (never applied).
with

scores as (
    select * from {{ ref('int_indicators_deviation_proposed') }}
),

final as (
    select
        cast(indicator_id as {{ dbt.type_string() }}) as indicator_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(scheme_code as {{ dbt.type_string() }}) as scheme_code,
        cast(level1_name as {{ dbt.type_string() }}) as level1_name,
        cast(level2_name as {{ dbt.type_string() }}) as level2_name,
        cast(level3_name as {{ dbt.type_string() }}) as level3_name,
        cast(kind as {{ dbt.type_string() }}) as kind,
        cast(direction as {{ dbt.type_string() }}) as direction,
        cast(target_text as {{ dbt.type_string() }}) as target_text,
        cast(target_value as decimal(20, 6)) as target_value,
        cast(actual_text as {{ dbt.type_string() }}) as actual_text,
        cast(actual_value as decimal(20, 6)) as actual_value,
        cast(unit as {{ dbt.type_string() }}) as unit,
        cast(weight as decimal(20, 4)) as weight,
        cast(weight_source as {{ dbt.type_string() }}) as weight_source,
        cast(reported_score as decimal(20, 4)) as reported_score,
        cast(recomputed_score as decimal(20, 4)) as recomputed_score,
        cast(recomputed_score_2dp as decimal(20, 2)) as recomputed_score_2dp,
        -- 复核得满分 (full marks on review): the recomputed score reaches the weight; unknown
        -- when either is
        cast(case
            when recomputed_score is null or weight is null then null
            else recomputed_score >= weight
        end as boolean) as is_full_marks,
        cast(rule_applied as {{ dbt.type_string() }}) as rule_applied,
        cast(rate_value as decimal(12, 6)) as rate_value,
        cast(reported_rate as decimal(20, 6)) as reported_rate,
        cast(tier_code as {{ dbt.type_string() }}) as tier_code,
        cast(deviation_reason as {{ dbt.type_string() }}) as deviation_reason,
        cast(file_name as {{ dbt.type_string() }}) as file_name,
        cast(sheet_name as {{ dbt.type_string() }}) as sheet_name,
        cast(row_number as integer) as row_number,
        cast(indicator_key as {{ dbt.type_string() }}) as indicator_key,
        cast(deviation_ratio as decimal(20, 6)) as deviation_ratio,
        cast(deviation_band_code as {{ dbt.type_string() }}) as deviation_band_code,
        cast(proposed_deviation_deduction as decimal(20, 4)) as proposed_deviation_deduction,
        cast(proposed_score_after_deduction as decimal(20, 4)) as proposed_score_after_deduction
    from scores
)

select * from final
