{#- Exact decimal division (精确十进制除法), rounded half away from zero to `scale` places.
    Null when the denominator is null or zero. DuckDB divides DECIMALs in DOUBLE, so its
    implementation scales both sides to 128-bit integers and divides those instead. -#}
{% macro divide(numerator, denominator, scale=12) -%}
    {{ return(adapter.dispatch('divide', 'jixiao')(numerator, denominator, scale)) }}
{%- endmacro %}

{% macro default__divide(numerator, denominator, scale=12) -%}
    cast(
        case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
        else cast(({{ numerator }}) as numeric(38, {{ scale }})) / ({{ denominator }}) end
        as numeric(38, {{ scale }})
    )
{%- endmacro %}

{% macro duckdb__divide(numerator, denominator, scale=12) -%}
    {%- set a = "cast((" ~ numerator ~ ") * 1000000000000 as hugeint)" -%}
    {%- set b = "cast((" ~ denominator ~ ") * 1000000000000 as hugeint)" -%}
    (case
        when ({{ denominator }}) is null or ({{ denominator }}) = 0 or ({{ numerator }}) is null then null
        else cast(
            sign({{ a }}) * sign({{ b }})
            * ((abs({{ a }}) * {{ 10 ** scale }} * 2 + abs({{ b }})) // (2 * abs({{ b }})))
            as decimal(38, 0)
        ) * {{ '0.' ~ ('0' * (scale - 1)) ~ '1' }}
    end)
{%- endmacro %}
