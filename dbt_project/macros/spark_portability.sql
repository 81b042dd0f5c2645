{#- Spark (dbt-spark, JIXIAO_WAREHOUSE=spark; docs/warehouse.md "On Spark"): the root project's
    spark__ overrides of dbt's own dispatched macros, and the two decimal operations the scoring
    model dispatches (decimal_product, decimal_difference), whose default__ is the plain
    operator: DuckDB and PostgreSQL compile exactly the SQL they compiled before.

    The project declares its text columns as `varchar` (seed column_types, the marts'
    contracts). Spark refuses a `varchar` without a length, so spark_type() names Spark's text
    type `string` instead; every other type is passed through unchanged. -#}
{% macro spark_type(data_type) -%}
    {%- set t = (data_type | string) | trim -%}
    {%- if t | lower in ('varchar', 'text', 'character varying') -%}
        string
    {%- else -%}
        {{ t }}
    {%- endif -%}
{%- endmacro %}

{#- dbt.cast(): also what dbt's contract check casts null to (get_empty_schema_sql). -#}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ jixiao.spark_type(type) }})
{%- endmacro %}

{#- A seed's table, its column_types through spark_type(). -#}
{% macro spark__create_csv_table(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
  {% set sql %}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
            {%- set type = jixiao.spark_type(column_override.get(col_name, inferred_type)) -%}
            {%- set column_name = (col_name | string) -%}
            {{ adapter.quote_seed_column(column_name, quote_seed_column) }} {{ type }} {%- if not loop.last -%}, {%- endif -%}
        {%- endfor -%}
    )
    {{ file_format_clause() }}
    {{ location_clause() }}
    {{ comment_clause() }}
  {% endset %}
  {% call statement('_') -%}
    {{ sql }}
  {%- endcall %}
  {{ return(sql) }}
{% endmacro %}

{#- A seed value as a Spark literal (种子值): text and numbers as quoted text cast to the
    column's type, so a decimal keeps its exact digits. dbt-spark's own loader binds numbers
    as Python floats and quotes text without escaping its apostrophes. -#}
{% macro spark_seed_literal(value, type) -%}
    {%- if value is none -%}
        cast(null as {{ type }})
    {%- elif value is sameas true -%}
        true
    {%- elif value is sameas false -%}
        false
    {%- else -%}
        cast('{{ (value | string).replace("\\", "\\\\").replace("'", "\\'") }}' as {{ type }})
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
  {% set batch_size = get_batch_size() %}
  {% set column_override = model['config'].get('column_types', {}) %}
  {% set types = [] %}
  {% for col_name in agate_table.column_names %}
      {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
      {% do types.append(jixiao.spark_type(column_override.get(col_name, inferred_type))) %}
  {% endfor %}
  {% set statements = [] %}
  {% for chunk in agate_table.rows | batch(batch_size) %}
      {% set sql %}
          insert into {{ this.render() }} values
          {% for row in chunk -%}
              ({%- for value in row -%}
                  {{ jixiao.spark_seed_literal(value, types[loop.index0]) }}
                  {%- if not loop.last %},{% endif -%}
              {%- endfor -%})
              {%- if not loop.last %},{% endif %}
          {%- endfor %}
      {% endset %}
      {% do adapter.add_query(sql, abridge_sql_log=True) %}
      {% if loop.index0 == 0 %}
          {% do statements.append(sql) %}
      {% endif %}
  {% endfor %}
  {{ return(statements[0]) }}
{% endmacro %}

{#- 精确十进制除法 on Spark (divide(), macros/divide.sql): the same digits as duckdb__divide.
    Both inputs are rounded half away from zero to `input_scale` decimals as whole numbers a and
    b (Spark's cast to a smaller scale rounds HALF_UP); the quotient is long division as on
    DuckDB: q1 = |a| div |b| and the remainder's `scale` digits q2 = round(r * 10^scale / |b|).
    Spark caps a product's or quotient's DECIMAL at 38 digits by dropping decimals (down to 6),
    so every step is written to stay exact: whole numbers as DECIMAL(38, 0), floor division as
    (n - n % d) / d (an exact whole quotient), and the result as q1 + q2 * 10^-scale in types
    whose sum still has `scale` decimals (the quotient must be below 10^(37 - 2 * scale) in q2's
    part and 10^(37 - scale) in all, as on DuckDB's 128-bit integers: far above any rate,
    score or amount of the project). The sign is a case: sign() is a DOUBLE on Spark, and a
    product with -1 would cost the result its decimals beyond 6. -#}
{% macro spark__divide(numerator, denominator, scale=12, input_scale=12) -%}
    {%- set a = "abs(" ~ jixiao.spark__scaled_integer(numerator, input_scale) ~ ")" -%}
    {%- set b = "abs(" ~ jixiao.spark__scaled_integer(denominator, input_scale) ~ ")" -%}
    {%- set r = "(" ~ a ~ " % " ~ b ~ ")" -%}
    {%- set q1 = jixiao.spark__whole_quotient(a, b) -%}
    {%- set n2 = "(" ~ r ~ " * " ~ (2 * 10 ** scale) ~ " + " ~ b ~ ")" -%}
    {%- set q2 = jixiao.spark__whole_quotient(n2, "(2 * " ~ b ~ ")") -%}
    {%- set magnitude = "(cast(" ~ q1 ~ " as decimal(37, " ~ scale ~ ")) + cast(" ~ q2
        ~ " as decimal(" ~ (scale + 1) ~ ", 0)) * "
        ~ ('0.' ~ ('0' * (scale - 1)) ~ '1' if scale > 0 else '1') ~ ")" %}
    (case
        when ({{ denominator }}) is null or ({{ denominator }}) = 0 or ({{ numerator }}) is null then null
        when (({{ jixiao.spark__scaled_integer(numerator, input_scale) }}) < 0)
            <> (({{ jixiao.spark__scaled_integer(denominator, input_scale) }}) < 0)
        then cast(-({{ magnitude }}) as decimal(38, {{ scale }}))
        else cast({{ magnitude }} as decimal(38, {{ scale }}))
    end)
{%- endmacro %}

{#- round(x * 10^input_scale) half away from zero, as a DECIMAL(38, 0) whole number: the cast
    to input_scale decimals rounds, and the product of that by 10^input_scale is whole, so
    Spark's 6-decimal floor on the product's scale cannot round it. -#}
{% macro spark__scaled_integer(expr, input_scale) -%}
    cast(cast(({{ expr }}) as decimal(38, {{ input_scale }})) * {{ 10 ** input_scale }} as decimal(38, 0))
{%- endmacro %}

{#- n div d for whole, non-negative DECIMALs when d divides n exactly or after removing the
    remainder: (n - n % d) / d, exact (Spark's `div` would be a BIGINT). -#}
{% macro spark__whole_quotient(n, d) -%}
    cast((({{ n }}) - (({{ n }}) % ({{ d }}))) / ({{ d }}) as decimal(38, 0))
{%- endmacro %}

{#- 精确乘积 (exact product) a x b of two DECIMALs, a with at most 12 decimals (a weight) and b
    with at most 6 (a rate, a measure, a whole number). DuckDB types it DECIMAL(38, s_a + s_b)
    (its width capped at 38, every decimal kept) and PostgreSQL's numeric is exact, so there it
    is the plain `*`. Spark caps the product's DECIMAL at 38 digits by cutting its decimals
    down to 6 (a weight DECIMAL(38, 12) x a rate DECIMAL(12, 6) is DECIMAL(38, 6)), so
    spark__decimal_product computes it in steps that stay exact. -#}
{% macro decimal_product(a, b) -%}
    {{- return(adapter.dispatch('decimal_product', 'jixiao')(a, b)) -}}
{%- endmacro %}

{% macro default__decimal_product(a, b) -%}
    {{ a }} * {{ b }}
{%- endmacro %}

{#- On Spark: a x b rounded half away from zero to 12 decimals, as DECIMAL(38, 12): what DuckDB
    keeps of its DECIMAL(38, 18) product wherever the model uses it (a case whose other
    branches are DECIMAL(38, 12) is typed DECIMAL(38, 12), and divide() reads its numerator at
    12 decimals). Steps: A = a x 10^12 as a whole DECIMAL(38, 0) (spark__scaled_integer);
    x = A x b has at most 6 decimals, and Spark never cuts a product's scale below min(scale, 6),
    so it is exact; y = x rounded to a whole number (the cast rounds HALF_UP, away from zero);
    then y x 10^-12 as q1 + q2 x 10^-12 with q2 = y % 10^12 (the sign of y) and q1 = (y - q2) /
    10^12 (an exact whole quotient), in types whose sum keeps 12 decimals. Exact while |a x b| <
    10^20, DuckDB's own bound for its DECIMAL(38, 18) product (beyond it DuckDB stops with an
    overflow, Spark with ANSI mode off gives null). -#}
{% macro spark__decimal_product(a, b) -%}
    {%- set y = "cast(" ~ jixiao.spark__scaled_integer(a, 12) ~ " * (" ~ b ~ ") as decimal(38, 0))" -%}
    {%- set q2 = "(" ~ y ~ " % " ~ (10 ** 12) ~ ")" -%}
    (cast(cast(({{ y }} - {{ q2 }}) / {{ 10 ** 12 }} as decimal(25, 0)) as decimal(37, 12))
        + cast({{ q2 }} as decimal(13, 0)) * 0.000000000001)
{%- endmacro %}

{#- 精确差 (exact difference) a - b of two DECIMAL(38, 12) values (weights, scores). DuckDB types
    it DECIMAL(38, 12) and PostgreSQL's numeric is exact: the plain `-`. Spark gives the
    difference one integral digit more and, over 38 digits, one decimal less: DECIMAL(38, 11).
    Both sides as DECIMAL(37, 12) (no rounding: they have 12 decimals) make it DECIMAL(38, 12),
    exact while both are below 10^25 (DuckDB's result stops at 10^26). -#}
{% macro decimal_difference(a, b) -%}
    {{- return(adapter.dispatch('decimal_difference', 'jixiao')(a, b)) -}}
{%- endmacro %}

{% macro default__decimal_difference(a, b) -%}
    {{ a }} - {{ b }}
{%- endmacro %}

{% macro spark__decimal_difference(a, b) -%}
    (cast(({{ a }}) as decimal(37, 12)) - cast(({{ b }}) as decimal(37, 12)))
{%- endmacro %}
