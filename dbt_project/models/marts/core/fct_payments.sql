-- 支付事实 (payments of the latest submissions, one row per payment, with lineage).
-- Incremental by submission (按报送增量): only the (project, year) keys whose raw inputs
-- changed are rebuilt (macros/incremental_by_submission.sql); --full-refresh rebuilds all.
{{ config(
    materialized=submission_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ submission_keys_delete(['payments']) }}",
    post_hook="{{ submission_keys_save(['payments']) }}",
) }}
with

payments as (
    select * from {{ ref('int_payments_deduplicated') }}
),

final as (
    select
        cast(payment_id as {{ dbt.type_string() }}) as payment_id,
        cast(project_key as {{ dbt.type_string() }}) as project_key,
        cast(fiscal_year as integer) as fiscal_year,
        cast(payment_date as date) as payment_date,
        cast(amount_yuan as decimal(18, 2)) as amount_yuan,
        cast(fund_source as {{ dbt.type_string() }}) as fund_source,
        cast(payee as {{ dbt.type_string() }}) as payee,
        cast(voucher_no as {{ dbt.type_string() }}) as voucher_no,
        cast(summary as {{ dbt.type_string() }}) as summary,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(original_text as {{ dbt.type_string() }}) as original_text,
        cast(original_unit as {{ dbt.type_string() }}) as original_unit,
        cast(file_name as {{ dbt.type_string() }}) as file_name,
        cast(sheet_name as {{ dbt.type_string() }}) as sheet_name,
        cast(row_number as integer) as row_number
    from payments
    {{ submission_keys_filter(['payments']) }}
)

select * from final
