-- 指标权重确定 (indicators with their scheme, kind and effective weight).
-- Adds the self-evaluation form's funding block (年度资金总额, 分值 10) as the 预算执行率 indicator.
-- Blank weights are split equally: first inside a weighted 二级指标 group, else inside the
-- 一级指标 group (seed 002: 各项指标权重 = 40 / 指标总数).
-- Direction: ingest writes "=" for a plain number; plain numbers are read as ">=" here.
with

indicators as (
    select * from {{ ref('int_indicators_deduplicated') }}
),

funding_reported as (
    select * from {{ ref('int_funding_reported_deduplicated') }}
),

submissions as (
    select * from {{ ref('int_submissions_ranked') }}
),

schemes as (
    select * from {{ ref('evaluation_schemes') }}
),

scheme_weights as (
    select * from {{ ref('scheme_weights') }}
),

rate_indicators as (
    select * from {{ ref('budget_rate_indicators') }}
),

form_indicators as (
    select
        indicator_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        submission_id,
        project_key,
        fiscal_year,
        scheme_code,
        level1_name,
        level1_weight,
        level2_name,
        level2_weight,
        level3_name,
        weight,
        weight_rule_text,
        target_text,
        target_kind,
        target_direction,
        target_value,
        target_unit,
        actual_text,
        actual_value,
        actual_unit,
        reported_score,
        cast(null as decimal(20, 6)) as reported_rate,
        deviation_reason
    from indicators
),

funding_indicators as (
    select
        funding_row_id as indicator_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        submission_id,
        project_key,
        fiscal_year,
        cast(null as {{ dbt.type_string() }}) as scheme_code,
        '预算执行率' as level1_name,
        weight as level1_weight,
        cast(null as {{ dbt.type_string() }}) as level2_name,
        cast(null as decimal(20, 6)) as level2_weight,
        '预算执行率' as level3_name,
        weight,
        cast(null as {{ dbt.type_string() }}) as weight_rule_text,
        cast(null as {{ dbt.type_string() }}) as target_text,
        'budget_rate' as target_kind,
        '>=' as target_direction,
        cast(null as decimal(20, 6)) as target_value,
        '%' as target_unit,
        cast(null as {{ dbt.type_string() }}) as actual_text,
        cast(null as decimal(20, 6)) as actual_value,
        '%' as actual_unit,
        reported_score,
        reported_rate,
        cast(null as {{ dbt.type_string() }}) as deviation_reason
    from funding_reported
    where fund_source = 'total' and weight is not null
),

unioned as (
    select * from form_indicators
    union all
    select * from funding_indicators
),

with_scheme as (
    select
        unioned.*,
        coalesce(unioned.scheme_code, layout_scheme.scheme_code, 'mof_2020_selfeval') as scheme_code_resolved,
        case
            when unioned.level3_name = '预算执行率' and unioned.target_kind = 'budget_rate' then 'execution'
            else rate_indicators.rate_code
        end as rate_code
    from unioned
    left join submissions
        on unioned.submission_id = submissions.submission_id
    left join schemes as layout_scheme
        on submissions.layout = layout_scheme.default_for_layout
    left join rate_indicators
        on unioned.level3_name = rate_indicators.level3_name
),

with_kind as (
    select
        with_scheme.*,
        case
            when rate_code is not null then 'budget_rate'
            when target_kind in ('quantitative', 'yes_no', 'qualitative') then target_kind
            when target_value is not null then 'quantitative'
            else 'qualitative'
        end as kind,
        coalesce(level1_weight, scheme_weights.weight) as level1_weight_resolved
    from with_scheme
    left join scheme_weights
        on with_scheme.scheme_code_resolved = scheme_weights.scheme_code
        and with_scheme.level1_name = scheme_weights.level1_name
),

level2_split as (
    select
        with_kind.*,
        case
            when weight is null and level2_weight is not null then
                {{ divide(
                    "max(level2_weight) over (partition by project_key, fiscal_year, level1_name, level2_name)"
                    ~ " - coalesce(sum(weight) over (partition by project_key, fiscal_year, level1_name, level2_name), 0)",
                    "sum(case when weight is null then 1 else 0 end) over (partition by project_key, fiscal_year, level1_name, level2_name)"
                ) }}
        end as level2_split_weight
    from with_kind
),

level1_split as (
    select
        level2_split.*,
        case
            when weight is null and level2_split_weight is null then
                {{ divide(
                    "max(level1_weight_resolved) over (partition by project_key, fiscal_year, level1_name)"
                    ~ " - coalesce(sum(coalesce(weight, level2_split_weight)) over (partition by project_key, fiscal_year, level1_name), 0)",
                    "sum(case when weight is null and level2_split_weight is null then 1 else 0 end) over (partition by project_key, fiscal_year, level1_name)"
                ) }}
        end as level1_split_weight
    from level2_split
),

final as (
    select
        indicator_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        submission_id,
        project_key,
        fiscal_year,
        scheme_code_resolved as scheme_code,
        level1_name,
        level1_weight_resolved as level1_weight,
        level2_name,
        level2_weight,
        level3_name,
        kind,
        rate_code,
        -- a plain number target ("2.8", "100%") means "at least" (定量指标按实现值/预期值计分);
        -- "=" only when the target text itself starts with an equals sign
        case
            when kind <> 'quantitative' then null
            when target_direction = '<=' then '<='
            when target_direction = '=' and (target_text like '=%' or target_text like '＝%') then '='
            else '>='
        end as direction,
        target_text,
        target_value,
        coalesce(target_unit, actual_unit) as unit,
        actual_text,
        actual_value,
        weight as reported_weight,
        cast(coalesce(weight, level2_split_weight, level1_split_weight) as decimal(38, 12)) as weight,
        case
            when weight is not null then 'reported'
            when level2_split_weight is not null then 'level2_split'
            when level1_split_weight is not null then 'level1_split'
        end as weight_source,
        weight_rule_text,
        reported_score,
        reported_rate,
        deviation_reason
    from level1_split
)

select * from final
