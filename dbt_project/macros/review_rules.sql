{#- 比率差异 (rates differ): a rate a document states and the rate recomputed from amounts are
    further apart than the review threshold rate_gap_tolerance (seeds/review_thresholds.csv).
    Null when either rate is null. The one home of the rule: int_reported_totals_compared
    (each stated figure) and mart_evaluation_periods (each evaluated period) both use it. -#}
{% macro rates_differ(stated, recomputed) -%}
    (abs(({{ stated }}) - ({{ recomputed }})) > (
        select max(review_thresholds.threshold_value)
        from {{ ref('review_thresholds') }} as review_thresholds
        where review_thresholds.threshold_code = 'rate_gap_tolerance'
    ))
{%- endmacro %}
