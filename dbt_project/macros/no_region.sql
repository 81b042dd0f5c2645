{#- True when a row states no region at all (未填写所属地区). -#}
{% macro no_region(relation) -%}
    ({{ relation }}.province is null and {{ relation }}.city is null and {{ relation }}.county is null)
{%- endmacro %}
