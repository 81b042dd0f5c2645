-- 年度维度 (fiscal year dimension): every year any fact mentions, with its date range.
with

project_years as (
    select * from {{ ref('int_project_years_spined') }}
),

years as (
    select distinct fiscal_year from project_years
),

final as (
    select
        cast(fiscal_year as integer) as fiscal_year,
        cast({{ dbt.concat(["cast(fiscal_year as " ~ dbt.type_string() ~ ")", "'年度'"]) }} as {{ dbt.type_string() }}) as fiscal_year_label,
        cast({{ dbt.concat(["cast(fiscal_year as " ~ dbt.type_string() ~ ")", "'-01-01'"]) }} as date) as year_start_date,
        cast({{ dbt.concat(["cast(fiscal_year as " ~ dbt.type_string() ~ ")", "'-12-31'"]) }} as date) as year_end_date
    from years
)

select * from final
