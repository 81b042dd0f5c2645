{#- Numbers as text for review messages (复核消息中的数字文本). -#}
{% macro fmt_num(expr, scale=2) -%}
    cast(cast(round({{ expr }}, {{ scale }}) as decimal(38, {{ scale }})) as {{ dbt.type_string() }})
{%- endmacro %}

{#- A fraction as a percentage text with two decimals: 0.9761 -> '97.61%'. -#}
{% macro fmt_pct(expr) -%}
    {{ dbt.concat([fmt_num('(' ~ expr ~ ') * 100', 2), "'%'"]) }}
{%- endmacro %}
