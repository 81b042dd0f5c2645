{#- Month number of a date (月份), ANSI extract(); dispatch lets an engine override it. -#}
{% macro date_part_month(expr) -%}
    {{ return(adapter.dispatch('date_part_month', 'jixiao')(expr)) }}
{%- endmacro %}

{% macro default__date_part_month(expr) -%}
    extract(month from {{ expr }})
{%- endmacro %}
