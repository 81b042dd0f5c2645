{#- Date parts (日期分量), portable. ANSI `extract(<part> from <date>)` works on DuckDB and
    PostgreSQL; an engine that spells it differently overrides the dispatched macro. -#}

{#- A calendar field of a date as an integer: part is year, month, day or quarter (年/月/日/季度). -#}
{% macro extract_date_part(part, expr) -%}
    {{ return(adapter.dispatch('extract_date_part', 'jixiao')(part, expr)) }}
{%- endmacro %}

{% macro default__extract_date_part(part, expr) -%}
    cast(extract({{ part }} from {{ expr }}) as integer)
{%- endmacro %}

{#- ISO day of the week (星期几), Monday = 1 ... Sunday = 7. -#}
{% macro day_of_week_iso(expr) -%}
    {{ return(adapter.dispatch('day_of_week_iso', 'jixiao')(expr)) }}
{%- endmacro %}

{% macro default__day_of_week_iso(expr) -%}
    cast(extract(isodow from {{ expr }}) as integer)
{%- endmacro %}

{% macro spark__day_of_week_iso(expr) -%}
    cast(extract(dayofweek_iso from {{ expr }}) as integer)
{%- endmacro %}
