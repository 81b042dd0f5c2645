{#- 按报送增量构建 (incremental by submission): a fact rebuilt only for the (project, fiscal
    year) keys whose raw inputs changed since it was last built.

    Why this is safe. The raw layer is append-only: a file (by its SHA-256) is loaded once and
    its rows, submissions and load_log signals never change afterwards. Which rows of a fact
    are current for a key is decided from the raw rows of that key alone (raw._submission_versions
    and raw._submission_tables rank a (department, project, year)'s files; rows without a
    submission compare with the newest submission of their project and year). So the rows of
    a key can only change when a file adds rows under it: the key's fingerprint (row count and
    latest loaded_at over raw.submissions and the fact's raw tables) then differs from the one
    stored when the fact was last built. A key with a new (or older, later-arriving) version,
    a key whose department changed, and a key that has disappeared all have a fingerprint that
    differs from, or is missing on one side of, the stored one. A row whose submission names
    another key than its own row follows that submission's key too (propagated below).

    How. pre-hook: delete the fact's rows of the changed keys. Model: select only the rows of
    the changed keys (append). post-hook: store the current fingerprints in
    marts_state.<model>__submission_keys with the model's build signature (checksums of the
    model and every upstream model and seed). A different signature, or no stored state (first
    incremental run after a table build), rebuilds every key. `dbt build --full-refresh`
    rebuilds the table and its state from scratch. -#}

{#- The fact key as one string (null-safe: a null project or year still matches itself). -#}
{% macro submission_key(project_col='project_key', year_col='fiscal_year') -%}
{{ dbt.concat([
    "coalesce(" ~ project_col ~ ", '')",
    "'|'",
    "coalesce(cast(" ~ year_col ~ " as " ~ dbt.type_string() ~ "), '')",
]) }}
{%- endmacro %}

{#- Where the fingerprints of a model are stored (outside marts: publish copies marts). -#}
{% macro submission_state_schema() -%}
{{- return('marts_state') -}}
{%- endmacro %}

{#- on-run-start (dbt_project.yml): create the state schema once, before models run in
    parallel (two models creating it at once would conflict). -#}
{% macro create_submission_state_schema() -%}
{#- Spark has no database above its schemas (target.database is undefined there) -#}
{%- do adapter.create_schema(api.Relation.create(
    database=(target.database if target.database is defined else none),
    schema=submission_state_schema())) -%}
select 1 as state_schema_ready
{%- endmacro %}

{% macro submission_state_relation() -%}
{{- return(api.Relation.create(
    database=this.database, schema=submission_state_schema(),
    identifier=this.identifier ~ '__submission_keys', type='table')) -}}
{%- endmacro %}

{#- Checksums of this model and everything upstream of it (models, seeds, snapshots). -#}
{% macro submission_build_signature() -%}
{%- set seen = [] -%}
{%- set todo = [model.unique_id] -%}
{%- set parts = [] -%}
{%- if execute -%}
    {%- for _ in range(500) if todo -%}
        {%- set uid = todo.pop() -%}
        {%- if uid not in seen -%}
            {%- do seen.append(uid) -%}
            {%- set node = graph.nodes.get(uid) -%}
            {%- if node is not none -%}
                {%- do parts.append(uid ~ '=' ~ node.checksum.checksum) -%}
                {%- for parent in node.depends_on.nodes -%}
                    {%- do todo.append(parent) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{{- return(local_md5(parts | sort | join(','))) -}}
{%- endmacro %}

{#- Current fingerprints per key: raw.submissions and the given raw tables, read through their
    staging views (stg_raw__*: every raw row, keys trimmed; only staging reads sources). -#}
{% macro submission_fingerprints(raw_tables) -%}
select
    submission_key,
    count(*) as row_count,
    max(loaded_at) as last_loaded_at
from (
    select
        {{ submission_key('trim(project_key)', 'fiscal_year') }} as submission_key,
        loaded_at
    from {{ ref('stg_raw__submissions') }}
    {%- for raw_table in raw_tables %}
    union all
    select
        {{ submission_key('trim(project_key)', 'fiscal_year') }} as submission_key,
        loaded_at
    from {{ ref('stg_raw__' ~ raw_table) }}
    {%- endfor %}
    {%- for raw_table in raw_tables %}
    -- a row whose submission is another key's: that key's submissions count for it too
    union all
    select
        linked.row_key as submission_key,
        submissions.loaded_at
    from (
        select distinct
            {{ submission_key('trim(rows_of_table.project_key)', 'rows_of_table.fiscal_year') }} as row_key,
            {{ submission_key('trim(own.project_key)', 'own.fiscal_year') }} as submission_key
        from {{ ref('stg_raw__' ~ raw_table) }} as rows_of_table
        inner join {{ ref('stg_raw__submissions') }} as own
            on rows_of_table.submission_id = own.submission_id
    ) as linked
    inner join {{ ref('stg_raw__submissions') }} as submissions
        on {{ submission_key('trim(submissions.project_key)', 'submissions.fiscal_year') }} = linked.submission_key
    where linked.row_key <> linked.submission_key
    {%- endfor %}
) as inputs
group by submission_key
{%- endmacro %}

{#- Keys to rebuild: fingerprint differs, or present on one side only; every key when the
    signature changed or no state exists. -#}
{% macro changed_submission_keys(raw_tables) -%}
{%- set state = submission_state_relation() -%}
{%- set state_exists = adapter.get_relation(state.database, state.schema, state.identifier) is not none -%}
{%- set signature = submission_build_signature() -%}
select coalesce(current_keys.submission_key, stored.submission_key) as submission_key
from ({{ submission_fingerprints(raw_tables) }}) as current_keys
full outer join (
    {%- if state_exists %}
    select submission_key, row_count, last_loaded_at, build_signature from {{ state }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as submission_key,
        cast(null as bigint) as row_count,
        cast(null as timestamp) as last_loaded_at,
        cast(null as {{ dbt.type_string() }}) as build_signature
    where 1 = 0
    {%- endif %}
) as stored
    on current_keys.submission_key = stored.submission_key
where
    {%- if not state_exists %}
    1 = 1
    {%- else %}
    current_keys.submission_key is null
    or stored.submission_key is null
    or current_keys.row_count <> stored.row_count
    or current_keys.last_loaded_at <> stored.last_loaded_at
    or stored.build_signature <> '{{ signature }}'
    or stored.row_count is null
    or stored.last_loaded_at is null
    {%- endif %}
{%- endmacro %}

{#- The model's filter: only rows of changed keys on an incremental run. Every key when the
    state is missing or the build signature changed (a stored key set with another
    signature makes every current key "changed" through the last condition above). -#}
{% macro submission_keys_filter(raw_tables, project_col='project_key', year_col='fiscal_year') -%}
{#- the hooks and the incremental filter read these staging views: declare them at parse time -#}
{%- do ref('stg_raw__submissions') -%}
{%- for raw_table in raw_tables -%}{%- do ref('stg_raw__' ~ raw_table) -%}{%- endfor -%}
{%- if is_incremental() -%}
where {{ submission_key(project_col, year_col) }} in (
    select submission_key from ({{ changed_submission_keys(raw_tables) }}) as changed_keys
)
{%- endif -%}
{%- endmacro %}

{#- pre-hook: delete the rows of changed keys (all rows when there is no state yet). -#}
{% macro submission_keys_delete(raw_tables) -%}
{%- if is_incremental() -%}
delete from {{ this }}
where {{ submission_key('project_key', 'fiscal_year') }} in (
    select submission_key from ({{ changed_submission_keys(raw_tables) }}) as changed_keys
)
{%- else -%}
select 1 as nothing_to_delete
{%- endif -%}
{%- endmacro %}

{#- The facts' materialization: incremental; a table on Spark, whose Parquet tables cannot
    DELETE the changed keys' rows (docs/warehouse.md "On Spark"): there every build rebuilds
    the facts whole, which gives the same rows (an incremental build equals a full one). -#}
{% macro submission_materialization() -%}
{{- return(adapter.dispatch('submission_materialization', 'jixiao')()) -}}
{%- endmacro %}

{% macro default__submission_materialization() -%}
{{- return('incremental') -}}
{%- endmacro %}

{% macro spark__submission_materialization() -%}
{{- return('table') -}}
{%- endmacro %}

{#- post-hook: store the fingerprints this build used (always: also after a full refresh). -#}
{% macro submission_keys_save(raw_tables) -%}
{{- adapter.dispatch('submission_keys_save', 'jixiao')(raw_tables) -}}
{%- endmacro %}

{#- Spark runs one statement per hook: the old state table is dropped before the hook's SQL. -#}
{% macro spark__submission_keys_save(raw_tables) -%}
{%- set state = submission_state_relation() -%}
{%- if execute %}{% do adapter.drop_relation(state) %}{% endif -%}
{{ jixiao.submission_keys_state_select(state, raw_tables) }}
{%- endmacro %}

{% macro default__submission_keys_save(raw_tables) -%}
{%- set state = submission_state_relation() -%}
drop table if exists {{ state }};
{{ jixiao.submission_keys_state_select(state, raw_tables) }}
{%- endmacro %}

{% macro submission_keys_state_select(state, raw_tables) -%}
create table {{ state }} as
select
    submission_key,
    row_count,
    last_loaded_at,
    cast('{{ submission_build_signature() }}' as {{ dbt.type_string() }}) as build_signature
from ({{ submission_fingerprints(raw_tables) }}) as current_keys
{%- endmacro %}
