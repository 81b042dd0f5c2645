{#- Small portable helpers for scoring SQL (评分用的可移植小宏). -#}

{#- least/greatest that ignore nothing: both engines we target support least()/greatest(). -#}
{% macro cap(value, upper) -%}
    case when ({{ value }}) is null then null
         when ({{ value }}) > ({{ upper }}) then ({{ upper }})
         when ({{ value }}) < 0 then 0
         else ({{ value }}) end
{%- endmacro %}

{#- Trimmed text, null when blank (空白视为缺失). -#}
{% macro nullif_blank(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}

{#- Stable surrogate key from columns (代理键), portable via dbt.hash / dbt.concat. -#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for c in columns -%}
        {%- do parts.append("coalesce(cast(" ~ c ~ " as " ~ dbt.type_string() ~ "), '~')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{#- Null-safe equality (空值安全相等): true when both sides are equal or both are null. -#}
{% macro null_safe_equals(left, right) -%}
    (({{ left }}) = ({{ right }}) or (({{ left }}) is null and ({{ right }}) is null))
{%- endmacro %}
