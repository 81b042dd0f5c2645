{#- Composite primary key test (组合主键唯一): no two rows share the same values of `columns`
    (nulls compare equal). Usage: data_tests: [{unique_combination_of_columns: {arguments: {columns: [a, b]}}}] -#}
{% test unique_combination_of_columns(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
