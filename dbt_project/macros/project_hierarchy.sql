{#- 项目层级 (project hierarchy): the two rules every model that rolls projects up shares. -#}

{% macro top_level_projects(project_years) -%}
    {#- The rows of ``project_years`` (a CTE or relation with project_key and
        parent_project_key) whose project is not a sub-project of another listed project:
        sub-projects are already inside their parent's rolled-up figures. -#}
    select {{ project_years }}.*
    from {{ project_years }}
    left join (select distinct project_key from {{ project_years }}) as parents
        on {{ project_years }}.parent_project_key = parents.project_key
    where parents.project_key is null
{%- endmacro %}

{% macro parent_departments() -%}
    {#- 部门键 (department key, as dim_department names it) of each parent project: its own,
        else the department of its sub-projects (a project without a parent is its own
        parent). Columns: parent_project_key, department_name. -#}
    select
        parent_project_key,
        coalesce(max(own_department), max(child_department)) as department_name
    from (
        select project_key as parent_project_key, department_name as own_department,
            null as child_department
        from {{ ref('dim_project') }}
        union all
        select parent_project_key, null, department_name
        from {{ ref('dim_project') }}
        where parent_project_key is not null
    ) as keyed
    group by parent_project_key
{%- endmacro %}

{% macro project_year_totals(project_years, keys) -%}
    {#- 项目年度汇总 (the roll-up the department and region marts share): per ``keys``, the
        number of project-years and the sums of their funds, recomputed scores (with how many
        have one, for an exact average) and review flags. ``project_years`` holds top-level
        projects only (top_level_projects), so nothing is counted twice. -#}
    select
        {% for key in keys -%}
        {{ key }},
        {% endfor -%}
        count(*) as project_count,
        sum(final_budget_yuan) as final_budget_yuan,
        sum(allocated_yuan) as allocated_yuan,
        sum(spent_yuan) as spent_yuan,
        -- average as exact decimal division (DuckDB's avg() of a DECIMAL returns a DOUBLE)
        sum(recomputed_score) as recomputed_score_sum,
        count(recomputed_score) as scored_project_count,
        sum(flag_count) as flag_count
    from {{ project_years }}
    group by {{ keys | join(', ') }}
{%- endmacro %}
