{#- Schemas are exactly raw / staging / intermediate / marts / quality (no target-name
    prefix). 模式名固定为 raw / staging / intermediate / marts / quality，不加目标前缀。 -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
