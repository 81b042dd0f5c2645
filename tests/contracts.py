"""The dbt contracts as test fixtures use them (集市合同 → 测试表).

Every BI-facing mart has an enforced dbt contract: ``contract: {enforced: true}`` and, per
column, ``name`` and ``data_type`` in its yml under ``dbt_project/models/``. Test fixtures that
need mart tables without running dbt build them from here instead of writing the DDL by hand,
so a changed contract changes the fixtures with it (issue 16, item 5).

The yml files are read directly (no dbt invocation, no manifest): a few milliseconds. A model's
contract is enforced by its own ``config.contract`` (or the older top-level ``contract``), else
by the nearest ``+contract`` of its folder in ``dbt_project.yml``, as dbt resolves it.

Tables are created without the contract's constraints (none are declared today): the gate
fixtures insert rows that break exactly those rules on purpose.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = ROOT / "dbt_project"
RAW_SCHEMA = ROOT / "src" / "jixiao" / "ingest" / "raw_schema.sql"

Columns = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Contract:
    """One model's contract: its columns in order, each with the contract's ``data_type``."""

    model: str
    columns: Columns
    source: Path

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def ddl(self, schema: str = "marts") -> str:
        """``create table <schema>.<model> (...)`` for DuckDB, columns in the contract's order."""
        cols = ", ".join(f"{_q(name)} {data_type}" for name, data_type in self.columns)
        return f"create table {_q(schema)}.{_q(self.model)} ({cols})"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def normalize_type(data_type: str) -> str:
    """DuckDB's own spelling of a type (``integer`` → ``INTEGER``, ``decimal(18,2)`` →
    ``DECIMAL(18,2)``, ``text`` → ``VARCHAR``), so contract and catalogue compare as equals."""
    return str(duckdb.sqltype(data_type))


def _enforced(config: Any) -> bool | None:
    """``True``/``False`` when ``config`` sets the contract, ``None`` when it says nothing."""
    if not isinstance(config, dict):
        return None
    contract = config.get("+contract", config.get("contract"))
    if isinstance(contract, dict) and "enforced" in contract:
        return bool(contract["enforced"])
    return None


def _folder_enforced(project: dict[str, Any], folder: Sequence[str]) -> bool:
    """The ``+contract`` dbt_project.yml gives the models of ``folder`` (nearest one wins)."""
    node = (project.get("models") or {}).get(project.get("name"), {})
    enforced = bool(_enforced(node))
    for part in folder:
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            break
        found = _enforced(node)
        if found is not None:
            enforced = found
    return enforced


def parse_contracts(project_dir: Path = DBT_PROJECT) -> dict[str, Contract]:
    """Every model with an enforced contract under ``project_dir``/models, by model name."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    models_dir = project_dir / "models"
    out: dict[str, Contract] = {}
    for path in sorted(models_dir.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        folder = path.parent.relative_to(models_dir).parts
        for model in doc.get("models") or []:
            own = _enforced(model.get("config"))
            if own is None:
                own = _enforced(model)
            if not (own if own is not None else _folder_enforced(project, folder)):
                continue
            name = model["name"]
            columns = model.get("columns") or []
            untyped = [c["name"] for c in columns if not c.get("data_type")]
            if not columns or untyped:
                raise ValueError(
                    f"{path}: the enforced contract of {name} needs a data_type on every "
                    f"column (missing on {untyped or 'all: no columns'})"
                )
            if name in out:
                raise ValueError(f"{path}: {name} is also declared in {out[name].source}")
            out[name] = Contract(
                name, tuple((c["name"], str(c["data_type"])) for c in columns), path
            )
    return out


@functools.cache
def contracts() -> dict[str, Contract]:
    """The project's enforced contracts, parsed once per process."""
    return parse_contracts()


def contract(model: str) -> Contract:
    try:
        return contracts()[model]
    except KeyError:
        raise KeyError(f"{model} has no enforced contract under {DBT_PROJECT / 'models'}") from None


def create_tables(
    con: duckdb.DuckDBPyConnection,
    models: Iterable[str],
    schema: str = "marts",
    *,
    source: dict[str, Contract] | None = None,
) -> None:
    """Create ``schema`` (if needed) and one table per model, from its contract."""
    found = source if source is not None else contracts()
    con.execute(f"create schema if not exists {_q(schema)}")
    for model in models:
        if model not in found:
            raise KeyError(f"{model} has no enforced contract")
        con.execute(found[model].ddl(schema))


def create_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The raw tables from their one source of truth, the ingest's raw_schema.sql."""
    con.execute(RAW_SCHEMA.read_text(encoding="utf-8"))


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> Columns:
    """(name, DuckDB type) of ``schema.table`` in column order."""
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? "
        "order by column_index",
        [schema, table],
    ).fetchall()
    return tuple((str(n), str(t)) for n, t in rows)


def differences(expected: Contract, actual: Columns) -> list[str]:
    """What keeps ``actual`` (a table's columns) from being ``expected``'s contract."""
    model = expected.model
    if not actual:
        return [f"{model}: no such table"]
    want = [(n, normalize_type(t)) for n, t in expected.columns]
    have = [(n, normalize_type(t)) for n, t in actual]
    want_names = [n for n, _ in want]
    have_names = [n for n, _ in have]
    problems = [
        f"{model}: column {n} is not in the contract" for n in have_names if n not in want_names
    ]
    problems += [
        f"{model}: contract column {n} is missing" for n in want_names if n not in have_names
    ]
    common_want = [n for n in want_names if n in have_names]
    common_have = [n for n in have_names if n in want_names]
    if common_want != common_have:
        problems.append(f"{model}: column order {common_have} is not the contract's {common_want}")
    have_types = dict(have)
    problems += [
        f"{model}: column {n} is {have_types[n]}, the contract says {t}"
        for n, t in want
        if n in have_types and have_types[n] != t
    ]
    return problems


def check_tables(
    con: duckdb.DuckDBPyConnection,
    models: Iterable[str],
    schema: str = "marts",
    *,
    source: dict[str, Contract] | None = None,
) -> None:
    """Fail unless every table of ``models`` in ``schema`` is exactly its contract."""
    found = source if source is not None else contracts()
    problems = [p for m in models for p in differences(found[m], table_columns(con, schema, m))]
    if problems:
        raise AssertionError(
            "fixture tables drifted from the dbt contracts:\n" + "\n".join(problems)
        )


# --- tables that are not dbt models ----------------------------------------------------------

#: The columns ``jixiao.publish.publisher._write_published_scores`` puts before
#: ``SCORE_COLUMNS`` (tests/unit/test_contract_fixtures.py checks them against a table that
#: function really writes).
PUBLISHED_SCORES_HEAD: Columns = (
    ("publish_run_id", "varchar"),
    ("published_at", "timestamp"),
    ("marts_fingerprint", "varchar"),
)


def published_scores_columns() -> Columns:
    """Columns of ``marts._published_scores`` as the publisher writes it."""
    from jixiao.publish.publisher import SCORE_COLUMNS

    return PUBLISHED_SCORES_HEAD + tuple(SCORE_COLUMNS)


def create_published_scores(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> None:
    """``<schema>._published_scores`` with the publisher's columns (without its not-nulls)."""
    from jixiao.publish.publisher import SCORES_TABLE

    con.execute(f"create schema if not exists {_q(schema)}")
    con.execute(Contract(SCORES_TABLE, published_scores_columns(), Path(__file__)).ddl(schema))
