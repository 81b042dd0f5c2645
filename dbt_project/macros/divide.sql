{#- Exact decimal division (精确十进制除法), rounded half away from zero to `scale` places.
    Null when the denominator is null or zero. DuckDB divides DECIMALs in DOUBLE, so its
    implementation scales both sides to 128-bit integers and divides those instead, by long
    division (quotient, then the remainder's digits) so that no intermediate product overflows:
    `input_scale` is how many decimals of the inputs to keep (12 for weights and measures; 2
    for money in yuan, which lets a 10^16 元 amount be divided by one fen). -#}
{% macro divide(numerator, denominator, scale=12, input_scale=12) -%}
    {{ return(adapter.dispatch('divide', 'jixiao')(numerator, denominator, scale, input_scale)) }}
{%- endmacro %}

{% macro default__divide(numerator, denominator, scale=12, input_scale=12) -%}
    cast(
        case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
        else cast(({{ numerator }}) as numeric(38, {{ scale }})) / ({{ denominator }}) end
        as numeric(38, {{ scale }})
    )
{%- endmacro %}

{% macro duckdb__divide(numerator, denominator, scale=12, input_scale=12) -%}
    {%- set factor = 10 ** input_scale -%}
    {%- set a = "abs(" ~ jixiao.duckdb__scaled_integer(numerator, factor) ~ ")" -%}
    {%- set b = "abs(" ~ jixiao.duckdb__scaled_integer(denominator, factor) ~ ")" -%}
    (case
        when ({{ denominator }}) is null or ({{ denominator }}) = 0 or ({{ numerator }}) is null then null
        else cast(
            sign({{ jixiao.duckdb__scaled_integer(numerator, factor) }})
            * sign({{ jixiao.duckdb__scaled_integer(denominator, factor) }})
            * (({{ a }} // {{ b }}) * {{ 10 ** scale }}
               + (({{ a }} % {{ b }}) * {{ 10 ** scale }} * 2 + {{ b }}) // (2 * {{ b }}))
            as decimal(38, 0)
        ) * {{ '0.' ~ ('0' * (scale - 1)) ~ '1' if scale > 0 else '1' }}
    end)
{%- endmacro %}

{#- round(x * factor) as a 128-bit integer, its integer and fractional parts scaled apart: a
    DECIMAL(38, 18) product (weight x actual value) times 10^12 would overflow the DECIMAL
    before it ever became an integer. -#}
{% macro duckdb__scaled_integer(expr, factor) -%}
    (cast(trunc({{ expr }}) as hugeint) * {{ factor }}
        + cast((({{ expr }}) - trunc({{ expr }})) * {{ factor }} as hugeint))
{%- endmacro %}

{#- A value kept only when it fits a DECIMAL(width, scale) column once rounded (值域内才保留):
    a rate from a tiny denominator (10^12 元 spent of a 0.01 元 budget) is null, never an
    overflow that stops dbt build; the review flag rate_out_of_range says where. -#}
{% macro within_range(expr, width, scale) -%}
    (case when abs(round({{ expr }}, {{ scale }})) < {{ 10 ** (width - scale) }} then {{ expr }} end)
{%- endmacro %}

{#- A ratio as a DECIMAL(width, scale) column (比率列): exact division, null when the denominator
    is zero or when the ratio does not fit the column (see within_range). `input_scale` 2 is for
    amounts in yuan; pass 12 for weights, scores and measures. -#}
{% macro ratio(numerator, denominator, width=12, scale=6, input_scale=2) -%}
    cast({{ within_range(divide(numerator, denominator, 12, input_scale), width, scale) }}
        as decimal({{ width }}, {{ scale }}))
{%- endmacro %}
