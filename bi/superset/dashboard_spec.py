"""The jixiao Superset dashboard, as code (仪表板定义).

``python bi/superset/dashboard_spec.py`` writes the export bundle in ``bi/superset/bundle/``
(the YAML tree ``superset import-dashboards`` reads: metadata.yaml, databases/, datasets/,
charts/, dashboards/). Column verbose names are the Chinese part of the dbt yml descriptions of
the marts (the same text the published file carries as column comments). The database's
SQLAlchemy URI holds the placeholder ``__JIXIAO_PUBLISHED__``; ``bi/superset/jixiao_bi.py``
fills in the absolute path of ``$JIXIAO_HOME/published/jixiao.duckdb`` when it imports.

The metrics are the MetricFlow definitions of ``dbt_project/models/semantic/`` (docs/bi.md
"Metrics"): every rate is a ratio of sums (e.g. Σ spent / Σ final budget), the project
measures count top-level projects only (``parent_project_key is null``), the spending-rate
buckets count the yearly rows only.

Only the standard library and PyYAML: it runs in the project's venv or Superset's.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUNDLE = HERE / "bundle"
MARTS_YML = sorted((ROOT / "dbt_project" / "models" / "marts").glob("*/_*.yml"))
PLACEHOLDER = "__JIXIAO_PUBLISHED__"
NS = uuid.UUID("6d1f7c1e-3c55-4b8e-9d0a-6a1f5b1e0c14")  # stable uuids from names

DATABASE_NAME = "jixiao 发布库 (published marts)"
DASHBOARD_TITLE = "预算绩效评价 jixiao"
DASHBOARD_SLUG = "jixiao"


def uid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NS, f"{kind}:{name}"))


SEMANTIC_YML = ROOT / "dbt_project" / "models" / "semantic" / "_semantic__models.yml"
AGGREGATES = {
    "sum": "SUM({})",
    "count": "COUNT({})",
    "count_distinct": "COUNT(DISTINCT {})",
    "average": "AVG({})",
    "min": "MIN({})",
    "max": "MAX({})",
}


def semantic_metrics(model: str, semantic_yml: Path = SEMANTIC_YML) -> dict[str, tuple[str, str]]:
    """The MetricFlow metrics over ``ref('<model>')``, compiled to SQL from the semantic layer's
    own definitions (指标定义只写一次): metric name -> (Chinese label, SQL expression).

    A simple metric is its measure's aggregate of the measure's ``expr``; a ratio metric is its
    numerator over its denominator (``NULLIF`` of zero). A metric whose measures belong to
    another semantic model is not a metric of this dataset; a metric with a filter or another
    type is refused, so the dashboard never shows a definition it did not compile."""
    doc = yaml.safe_load(semantic_yml.read_text(encoding="utf-8"))
    measures: dict[str, tuple[str, str]] = {}
    for sm in doc["semantic_models"]:
        for m in sm.get("measures", []):
            measures[m["name"]] = (
                sm["model"],
                AGGREGATES[m["agg"]].format(m.get("expr") or m["name"]),
            )
    metrics = {m["name"]: m for m in doc["metrics"]}

    def compiled(name: str) -> tuple[str, str] | None:
        metric = metrics[name]
        if metric.get("filter"):
            raise ValueError(f"metric {name}: filters are not compiled for the dashboard")
        params = metric["type_params"]
        if metric["type"] == "simple":
            ref, sql = measures[params["measure"]]
            return (ref, sql) if ref == f"ref('{model}')" else None
        if metric["type"] == "ratio":
            num, den = compiled(params["numerator"]), compiled(params["denominator"])
            if num is None or den is None:
                return None
            return (num[0], f"({num[1]}) * 1.0 / NULLIF({den[1]}, 0)")
        raise ValueError(f"metric {name}: type {metric['type']} is not compiled for the dashboard")

    out = {}
    for name, metric in metrics.items():
        found = compiled(name)
        if found is not None:
            out[name] = (metric["label"].split(" (")[0], found[1])
    return out


#: number formats of the semantic metrics the dashboard shows (Superset d3 formats)
FORMATS = {
    "execution_rate": ".2%",
    "allocation_rate": ".2%",
    "average_score": ".2f",
    "graded_project_count": ",d",
    "project_count": ",d",
    "final_budget_total": ",.2f",
    "allocated_total": ",.2f",
    "spent_total": ",.2f",
    "recomputed_score_total": ",.2f",
    "scored_project_count": ",d",
    "review_flag_count": ",d",
    "spending_rate_bucket_count": ",d",
}


def dataset_metrics(model: str) -> dict[str, tuple[str, str, str]]:
    """The semantic layer's metrics of ``model`` with their display formats."""
    return {
        name: (label, sql, FORMATS.get(name, ",.2f"))
        for name, (label, sql) in semantic_metrics(model).items()
    }


PROJECT_METRICS = dataset_metrics("mart_project_year")


SQL_MONTHLY = """\
-- monthly cumulative execution with the project's department and final budget
-- (mart_execution_monthly x mart_project_year), so the rate is a ratio of sums
select e.project_key, e.fiscal_year, e.month, p.department_name, p.final_budget_yuan,
       e.month_spent_yuan, e.cumulative_spent_yuan, e.time_schedule_rate, e.is_lagging
from marts.mart_execution_monthly as e
inner join marts.mart_project_year as p
  on p.project_key = e.project_key and p.fiscal_year = e.fiscal_year"""

#: dataset name -> (table or None, virtual SQL or None, metrics, calculated columns)
DATASETS: dict[str, dict[str, Any]] = {
    "mart_project_year": {"metrics": PROJECT_METRICS},
    "mart_department_year": {"metrics": {}},
    "mart_review_flags": {
        "metrics": dataset_metrics("mart_review_flags"),
        "calculated": {"flag_title": ("复核问题类型", "__FLAG_TITLES__", "VARCHAR")},
    },
    "mart_spending_rate_distribution": {
        "metrics": dataset_metrics("mart_spending_rate_distribution"),
        "calculated": {
            "bucket_order_label": (
                "支出率分档",
                "CAST(sort_order AS VARCHAR) || '. ' || bucket_label",
                "VARCHAR",
            )
        },
    },
    "mart_category_year": {
        "metrics": {"category_amount": ("金额（元）", "SUM(amount_yuan)", ",.2f")},
    },
    "execution_monthly_by_department": {
        "sql": SQL_MONTHLY,
        "description": "月度累计执行（含部门与全年预算）(monthly cumulative execution)",
        "metrics": {
            "cumulative_execution_rate": (
                "累计执行率",
                "SUM(cumulative_spent_yuan) * 1.0 / NULLIF(SUM(final_budget_yuan), 0)",
                ".2%",
            ),
            "time_schedule_rate": ("序时进度", "MAX(time_schedule_rate)", ".2%"),
        },
        "columns_from": {
            "project_key": "mart_execution_monthly",
            "fiscal_year": "mart_execution_monthly",
            "month": "mart_execution_monthly",
            "department_name": "mart_project_year",
            "final_budget_yuan": "mart_project_year",
            "month_spent_yuan": "mart_execution_monthly",
            "cumulative_spent_yuan": "mart_execution_monthly",
            "time_schedule_rate": "mart_execution_monthly",
            "is_lagging": "mart_execution_monthly",
        },
    },
}

NO_FILTER: list[dict[str, Any]] = []
WHOLE_PERIOD = [
    {
        "clause": "WHERE",
        "expressionType": "SQL",
        "sqlExpression": "fiscal_year IS NULL",
        "subject": None,
        "operator": None,
        "comparator": None,
    }
]

#: charts: key -> title, dataset, viz, form data fields (x axis, groupby, metrics, ...)
CHARTS: dict[str, dict[str, Any]] = {
    "department_year_table": {
        "title": "部门年度执行与得分 (department x year)",
        "dataset": "mart_project_year",
        "viz": "table",
        "groupby": ["department_name", "fiscal_year"],
        "metrics": [
            "final_budget_total",
            "spent_total",
            "execution_rate",
            "allocation_rate",
            "average_score",
            "project_count",
        ],
        "order": [["fiscal_year", True]],
        "width": 12,
        "height": 52,
    },
    "execution_rate_by_department": {
        "title": "预算执行率：部门 × 年度 (execution rate)",
        "dataset": "mart_project_year",
        "viz": "echarts_timeseries_bar",
        "x_axis": "department_name",
        "rotate": 30,
        "groupby": ["fiscal_year"],
        "metrics": ["execution_rate"],
        "y_axis_format": ".0%",
        "width": 6,
        "height": 56,
    },
    "average_score_by_department": {
        "title": "平均得分：部门 × 年度 (average score)",
        "dataset": "mart_project_year",
        "viz": "echarts_timeseries_bar",
        "x_axis": "department_name",
        "rotate": 30,
        "groupby": ["fiscal_year"],
        "metrics": ["average_score"],
        "y_axis_format": ".1f",
        "width": 6,
        "height": 56,
    },
    "grade_distribution": {
        "title": "等级分布 (grades)",
        "dataset": "mart_project_year",
        "viz": "pie",
        "groupby": ["grade"],
        "metric": "graded_project_count",
        "filters": [
            {
                "clause": "WHERE",
                "expressionType": "SQL",
                "sqlExpression": "grade IS NOT NULL",
                "subject": None,
                "operator": None,
                "comparator": None,
            }
        ],
        "width": 4,
        "height": 56,
    },
    "review_flags_by_department": {
        "title": "复核问题数：部门 × 类型 (review flags)",
        "dataset": "mart_review_flags",
        "viz": "echarts_timeseries_bar",
        "x_axis": "department_name",
        "rotate": 30,
        "groupby": ["flag_title"],
        "metrics": ["review_flag_count"],
        "stack": "Stack",
        "y_axis_format": ",d",
        "width": 8,
        "height": 56,
    },
    "spending_rate_distribution": {
        "title": "子项目支出率分布 (spending-rate buckets)",
        "dataset": "mart_spending_rate_distribution",
        "viz": "echarts_timeseries_bar",
        "x_axis": "bucket_order_label",
        "rotate": 30,
        "groupby": ["fiscal_year"],
        "metrics": ["spending_rate_bucket_count"],
        "filters": [
            {
                "clause": "WHERE",
                "expressionType": "SQL",
                "sqlExpression": "fiscal_year IS NOT NULL",
                "subject": None,
                "operator": None,
                "comparator": None,
            }
        ],
        "stack": "Stack",
        "y_axis_format": ",d",
        "width": 6,
        "height": 56,
    },
    "category_shares": {
        "title": "类别支出占比：全期 (category shares, whole period)",
        "dataset": "mart_category_year",
        "viz": "echarts_timeseries_bar",
        "x_axis": "department_name",
        "rotate": 30,
        "groupby": ["category"],
        "metrics": ["category_amount"],
        "filters": WHOLE_PERIOD,
        "stack": "Expand",
        "y_axis_format": ".0%",
        "width": 6,
        "height": 56,
    },
    "monthly_execution": {
        "title": "月度累计执行率与序时进度 (monthly execution)",
        "dataset": "execution_monthly_by_department",
        "viz": "echarts_timeseries_line",
        "x_axis": "month",
        "groupby": ["fiscal_year"],
        "metrics": ["cumulative_execution_rate", "time_schedule_rate"],
        "adhoc_metrics": True,  # legend "累计执行率, 2019" instead of the metric's name
        "y_axis_format": ".0%",
        "width": 12,
        "height": 56,
    },
}
#: dashboard rows, by chart key
ROWS = [
    ["department_year_table"],
    ["execution_rate_by_department", "average_score_by_department"],
    ["grade_distribution", "review_flags_by_department"],
    ["spending_rate_distribution", "category_shares"],
    ["monthly_execution"],
]


def flag_titles_sql() -> str:
    """CASE flag_code -> its Chinese title, from seeds/review_flag_types.csv."""
    with (ROOT / "seeds" / "review_flag_types.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    whens = " ".join(f"WHEN {quoted(r['flag_code'])} THEN {quoted(r['title_zh'])}" for r in rows)
    return f"CASE flag_code {whens} ELSE flag_code END"


def metric_definitions() -> dict[str, tuple[str, str, str]]:
    return {m: d for spec in DATASETS.values() for m, d in spec["metrics"].items()}


def chart_metrics(spec: dict[str, Any]) -> list[Any]:
    names = spec.get("metrics") or [spec["metric"]]
    if not spec.get("adhoc_metrics"):
        return list(names)
    defs = metric_definitions()
    return [
        {
            "expressionType": "SQL",
            "sqlExpression": defs[m][1],
            "label": defs[m][0],
            "hasCustomLabel": True,
            "optionName": f"metric_{m}",
        }
        for m in names
    ]


def dbt_models() -> dict[str, dict[str, Any]]:
    """model -> its entry (description, columns with name, data_type, description) in the
    marts' dbt yml, each file read once per bundle."""
    out: dict[str, dict[str, Any]] = {}
    for path in MARTS_YML:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in doc.get("models", []):
            out[model["name"]] = model
    return out


def chinese_label(description: str) -> str:
    """'全年预算数/调整后预算，元 (final budget, yuan)' -> '全年预算数/调整后预算（元）'."""
    text = re.split(r"\s*\((?=[A-Za-z])| [a-z_]+/", description.strip(), maxsplit=1)[0]
    text = re.split(r" ?[=＝]", text, maxsplit=1)[0]
    text = re.split(r"：", text, maxsplit=1)[0]
    text = text.replace("，元", "（元）").replace("，比例", "").strip(" ，,")
    return text or description


def _column(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    data_type = str(spec.get("data_type", "varchar")).upper()
    return {
        "advanced_data_type": None,
        "column_name": name,
        "description": spec.get("description"),
        "expression": None,
        "extra": None,
        "filterable": True,
        "groupby": True,
        "is_active": True,
        "is_dttm": False,
        "python_date_format": None,
        "type": data_type,
        "verbose_name": chinese_label(spec.get("description") or name),
    }


def dataset_yaml(name: str, spec: dict[str, Any], models: dict[str, dict[str, Any]]):
    if "columns_from" in spec:
        by_model = {m: {c["name"]: c for c in d.get("columns", [])} for m, d in models.items()}
        columns = [_column(c, by_model[m][c]) for c, m in spec["columns_from"].items()]
    else:
        columns = [_column(c["name"], c) for c in models[name].get("columns", [])]
    for col, (label, expr, data_type) in spec.get("calculated", {}).items():
        expr = flag_titles_sql() if expr == "__FLAG_TITLES__" else expr
        columns.append(
            {**_column(col, {"data_type": data_type}), "expression": expr, "verbose_name": label}
        )
    metrics = [
        {
            "currency": None,
            "d3format": fmt,
            "description": f"{label}: {expr} (dbt_project/models/semantic)",
            "expression": expr,
            "extra": None,
            "metric_name": metric,
            "metric_type": None,
            "verbose_name": label,
            "warning_text": None,
        }
        for metric, (label, expr, fmt) in spec["metrics"].items()
    ]
    return {
        "table_name": name,
        "schema": "marts" if "sql" not in spec else None,
        "catalog": None,
        "sql": spec.get("sql"),
        "description": spec.get("description") or models.get(name, {}).get("description", ""),
        "main_dttm_col": None,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "params": None,
        "template_params": None,
        "uuid": uid("dataset", name),
        "database_uuid": uid("database", "jixiao"),
        "metrics": metrics,
        "columns": columns,
        "version": "1.0.0",
    }


def form_data(key: str, spec: dict[str, Any]) -> dict[str, Any]:
    fd: dict[str, Any] = {
        "viz_type": spec["viz"],
        "datasource": "__DATASOURCE__",
        "adhoc_filters": spec.get("filters", NO_FILTER),
        "row_limit": 1000,
        "color_scheme": "supersetColors",
        "extra_form_data": {},
        "dashboards": [],
    }
    viz = spec["viz"]
    if viz == "table":
        fd.update(
            query_mode="aggregate",
            groupby=spec["groupby"],
            metrics=spec["metrics"],
            percent_metrics=[],
            order_desc=False,
            table_timestamp_format="smart_date",
            show_cell_bars=True,
            column_config={
                m: {"d3NumberFormat": PROJECT_METRICS[m][2]}
                for m in spec["metrics"]
                if m in PROJECT_METRICS
            },
            server_pagination=False,
            timeseries_limit_metric=None,
        )
    elif viz == "pie":
        fd.update(
            groupby=spec["groupby"],
            metric=spec["metric"],
            show_labels=True,
            labels_outside=True,
            label_type="key_value_percent",
            number_format="SMART_NUMBER",
            show_legend=True,
            legendOrientation="top",
            donut=True,
            innerRadius=35,
            outerRadius=70,
        )
    else:
        fd.update(
            x_axis=spec["x_axis"],
            x_axis_sort_asc=True,
            x_axis_sort_series="name",
            x_axis_sort_series_ascending=True,
            groupby=spec["groupby"],
            metrics=chart_metrics(spec),
            order_desc=True,
            y_axis_format=spec.get("y_axis_format", "SMART_NUMBER"),
            show_legend=True,
            legendOrientation="top",
            legendType="scroll",
            rich_tooltip=True,
            truncate_metric=True,
            show_empty_columns=True,
            xAxisLabelRotation=spec.get("rotate", 0),
            x_axis_title_margin=15,
            y_axis_title_margin=15,
            y_axis_title_position="Left",
            orientation="vertical",
            only_total=True,
            markerEnabled=True,
            markerSize=6,
        )
        if spec.get("stack"):
            fd["stack"] = spec["stack"]
    return fd


def query_context(spec: dict[str, Any], fd: dict[str, Any]) -> dict[str, Any]:
    """What the chart data API (/api/v1/chart/<id>/data/) runs: the chart's rows, flat."""
    columns = ([spec["x_axis"]] if "x_axis" in spec else []) + spec["groupby"]
    metrics = chart_metrics(spec)
    return {
        "datasource": {"id": 0, "type": "table"},
        "force": False,
        "queries": [
            {
                "filters": [],
                "extras": {
                    "having": "",
                    "where": " AND ".join(f"({f['sqlExpression']})" for f in fd["adhoc_filters"]),
                },
                "applied_time_extras": {},
                "columns": columns,
                "metrics": metrics,
                "orderby": [[c, True] for c in columns],
                "annotation_layers": [],
                "row_limit": 1000,
                "series_limit": 0,
                "order_desc": True,
                "url_params": {},
                "custom_params": {},
                "custom_form_data": {},
            }
        ],
        "form_data": fd,
        "result_format": "json",
        "result_type": "full",
    }


def chart_yaml(key: str, spec: dict[str, Any]) -> dict[str, Any]:
    fd = form_data(key, spec)
    return {
        "slice_name": spec["title"],
        "description": None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": spec["viz"],
        "params": fd,
        "query_context": json.dumps(query_context(spec, fd), ensure_ascii=False),
        "cache_timeout": None,
        "uuid": uid("chart", key),
        "version": "1.0.0",
        "dataset_uuid": uid("dataset", spec["dataset"]),
    }


def dashboard_yaml() -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": DASHBOARD_TITLE}},
    }
    for i, row in enumerate(ROWS, start=1):
        row_id = f"ROW-{i}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for key in row:
            spec = CHARTS[key]
            chart_id = f"CHART-{key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {
                "type": "CHART",
                "id": chart_id,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    "width": spec["width"],
                    "height": spec["height"],
                    "chartId": 0,
                    "uuid": uid("chart", key),
                    "sliceName": spec["title"],
                },
            }
    return {
        "dashboard_title": DASHBOARD_TITLE,
        "description": None,
        "css": "",
        "slug": DASHBOARD_SLUG,
        "certified_by": "",
        "certification_details": "",
        "published": True,
        "uuid": uid("dashboard", DASHBOARD_SLUG),
        "position": position,
        "metadata": {
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "label_colors": {},
            "shared_label_colors": [],
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": False,
            "default_filters": "{}",
            "chart_configuration": {},
            "native_filter_configuration": [],
        },
        "version": "1.0.0",
    }


def database_yaml() -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": f"duckdb:///{PLACEHOLDER}",
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        # read-only, always: the nightly publish renames a new file over this one
        "extra": {
            "engine_params": {"connect_args": {"read_only": True}},
            "metadata_params": {},
            "allows_virtual_table_explore": True,
        },
        "uuid": uid("database", "jixiao"),
        "version": "1.0.0",
    }


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    path.write_text("# generated by bi/superset/dashboard_spec.py - edit that, not this\n" + text)


def generate(out: Path = BUNDLE) -> Path:
    if out.exists():
        shutil.rmtree(out)
    models = dbt_models()
    _dump(
        out / "metadata.yaml",
        {"version": "1.0.0", "type": "Dashboard", "timestamp": "2026-12-03T00:00:00+00:00"},
    )
    _dump(out / "databases" / "jixiao.yaml", database_yaml())
    for name, spec in DATASETS.items():
        _dump(out / "datasets" / "jixiao" / f"{name}.yaml", dataset_yaml(name, spec, models))
    for key, spec in CHARTS.items():
        _dump(out / "charts" / f"{key}.yaml", chart_yaml(key, spec))
    _dump(out / "dashboards" / f"{DASHBOARD_SLUG}.yaml", dashboard_yaml())
    return out


if __name__ == "__main__":
    print(generate())
