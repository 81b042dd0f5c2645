{#- 文本类型 (the string type) on PostgreSQL: `varchar`, as the marts' contracts declare their
    text columns. dbt's own postgres implementation is `text`: a contracted table is created
    with the declared `varchar` columns, while an incremental run builds its new rows from the
    model's `cast(... as {{ dbt.type_string() }})`, and on_schema_change='fail' then stops the
    build on `text` versus `character varying` (the same type to PostgreSQL, two names to
    dbt's column comparison). The root project's postgres__type_string wins over dbt's for the
    global dispatch of dbt.type_string(); DuckDB keeps dbt's own (varchar already). -#}
{% macro postgres__type_string() -%}
    varchar
{%- endmacro %}
