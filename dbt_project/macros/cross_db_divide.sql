{#- 精确十进制除法 on PostgreSQL (divide(), macros/divide.sql): the same digits as duckdb__divide.
    Both inputs are rounded half away from zero to `input_scale` decimals as whole numbers and
    the quotient of those integers is rounded half away from zero to `scale` decimals:
    round(|a| * 10^scale / |b|) = div(2 * |a| * 10^scale + |b|, 2 * |b|), which equals DuckDB's
    long division (quotient, then the remainder's digits). PostgreSQL's numeric is exact at any
    size, so no long division is needed; default__divide (numeric division at the server's
    chosen scale, then a cast) rounds the inputs and the quotient differently. -#}
{% macro postgres__divide(numerator, denominator, scale=12, input_scale=12) -%}
    {%- set a = jixiao.postgres__scaled_integer(numerator, 10 ** input_scale) -%}
    {%- set b = jixiao.postgres__scaled_integer(denominator, 10 ** input_scale) -%}
    (case
        when ({{ denominator }}) is null or ({{ denominator }}) = 0 or ({{ numerator }}) is null then null
        else cast(
            sign({{ a }}) * sign({{ b }})
            * div(abs({{ a }}) * {{ 2 * 10 ** scale }} + abs({{ b }}), 2 * abs({{ b }}))
            * {{ '0.' ~ ('0' * (scale - 1)) ~ '1' if scale > 0 else '1' }}
            as numeric(38, {{ scale }})
        )
    end)
{%- endmacro %}

{#- round(x * factor) as a whole numeric (no float: an integer input is cast to numeric first,
    since trunc()/round() of an integer would otherwise resolve to their double versions). -#}
{% macro postgres__scaled_integer(expr, factor) -%}
    round(cast(({{ expr }}) as numeric) * {{ factor }})
{%- endmacro %}
