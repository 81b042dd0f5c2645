{#- 报告中的支出率分档计数 (how a report counts spending-rate buckets): one home for the rule that a
    bucket the seed counts inside another (counted_in_bucket_code: 暂未下达资金 inside 低于60%, as
    seed 001 writes "低于60%的37个(含2个暂未下达资金的子项目)") adds its projects to that bucket's
    reported_project_count and is printed under its report_label as a 其中 line.
    `relation` has the `group_cols`, bucket_code and project_count; the result adds
    counted_in_bucket_code, report_label, reported_project_count and total_project_count
    (every project of the group once). -#}
{% macro report_bucket_counts(relation, group_cols) -%}
    {%- set buckets = ref('spending_rate_buckets') -%}
    with
    labelled as (
        select
            counts.*,
            report_buckets.counted_in_bucket_code,
            report_buckets.report_label_zh as report_label,
            sum(counts.project_count) over (
                partition by {% for c in group_cols %}counts.{{ c }}{{ ", " if not loop.last }}{% endfor %}
            ) as total_project_count
        from {{ relation }} as counts
        left join {{ buckets }} as report_buckets
            on counts.bucket_code = report_buckets.bucket_code
    ),

    nested as (
        select
            {% for c in group_cols %}{{ c }}, {% endfor %}
            counted_in_bucket_code as bucket_code,
            sum(project_count) as nested_project_count
        from labelled
        where counted_in_bucket_code is not null
        group by {% for c in group_cols %}{{ c }}, {% endfor %}counted_in_bucket_code
    )

    select
        labelled.*,
        labelled.project_count + coalesce(nested.nested_project_count, 0) as reported_project_count
    from labelled
    left join nested
        on labelled.bucket_code = nested.bucket_code
        {% for c in group_cols %}and {{ null_safe_equals('labelled.' ~ c, 'nested.' ~ c) }}
        {% endfor %}
{%- endmacro %}
