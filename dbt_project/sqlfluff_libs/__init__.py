"""What dbt gives a model's Jinja, for sqlfluff's jinja templater (SQL lint only).

`.sqlfluff` lints dbt_project/models with the jinja templater and the project's own macros
(dbt_project/macros); sqlfluff's dbt builtins bring ref, source, config, var, is_incremental
and this. The names below are the rest the models and macros use: dbt's cross-database
macros (dbt.type_string, dbt.concat, ...) rendered as dbt-duckdb renders them, adapter.dispatch
resolving to the project's duckdb__ / default__ macro, and stubs for what only a real dbt run
has (the graph, relations in the warehouse). Nothing here is used when dbt builds: dbt ignores
this folder. The dbt templater (sqlfluff-templater-dbt) would render with dbt itself, but its
newest release pins an older sqlfluff that needs an older click than the lock's (pyproject.toml).

sqlfluff imports this package as `sqlfluff_libs` (a package: its attributes become the Jinja
context, and no module named `dbt` is put in sys.modules).
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context


def _concat(fields: list[str]) -> str:
    return " || ".join(fields)


def _hash(field: str) -> str:
    return f"md5(cast({field} as VARCHAR))"


def _dateadd(datepart: str, interval: Any, from_date_or_timestamp: str) -> str:
    return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"


def _generate_series(upper_bound: int) -> str:
    return f"select range + 1 as generated_number from range({upper_bound})"


def _position(substring_text: str, string_text: str) -> str:
    return f"position({substring_text} in {string_text})"


dbt = SimpleNamespace(
    type_string=lambda: "VARCHAR",
    concat=_concat,
    hash=_hash,
    dateadd=_dateadd,
    generate_series=_generate_series,
    position=_position,
)


@pass_context
def _dispatch(context: Context, macro_name: str, macro_namespace: str | None = None) -> Any:
    """adapter.dispatch: the duckdb__ macro when the project has one, else default__."""
    for prefix in ("duckdb__", "default__"):
        macro = context.get(prefix + macro_name)
        if macro is not None:
            return macro
    raise KeyError(f"no duckdb__ or default__ macro for {macro_name}")


class _Relation(SimpleNamespace):
    def __str__(self) -> str:
        return ".".join(str(p) for p in (self.schema, self.identifier) if p)


adapter = SimpleNamespace(
    dispatch=_dispatch,
    get_relation=lambda database, schema, identifier: None,
    create_schema=lambda relation: None,
)
api = SimpleNamespace(
    Relation=SimpleNamespace(
        create=lambda database=None, schema=None, identifier=None, type=None: _Relation(
            database=database, schema=schema, identifier=identifier
        )
    )
)


class _Namespace:
    """`jixiao.<macro>`: a project macro called through its package name."""

    def __getattr__(self, macro_name: str) -> Any:
        @pass_context
        def call(context: Context, *args: Any, **kwargs: Any) -> Any:
            return context[macro_name](*args, **kwargs)

        return call


jixiao = _Namespace()
execute = False
model = SimpleNamespace(unique_id="model.jixiao.this_model")
graph = SimpleNamespace(nodes={})
target = SimpleNamespace(database="jixiao", schema="main", type="duckdb")


def local_md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - a placeholder
