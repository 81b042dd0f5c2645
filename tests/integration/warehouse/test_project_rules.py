"""The dbt project's structural rules (项目规则), checked on the parsed manifest.

dbt-project-evaluator's rules without the package hub (issue 16, item 6): ``dbt parse`` writes
``manifest.json`` (a few seconds, no warehouse needed) and each rule below reads it:

- naming: a model's name starts with a prefix its layer declares (``vars.model_prefixes`` in
  dbt_project.yml; a model's layer is its first folder under ``models/``);
- what each layer may read (``vars.layer_reads``, over ``depends_on.nodes``): staging reads only
  sources, intermediate reads staging, intermediate and seeds, marts read intermediate, marts
  and seeds; only staging reads a source and no staging model reads another model;
- a primary-key test per model: ``unique`` and ``not_null`` on one column, or the project's
  ``unique_combination_of_columns`` (tests/generic);
- every mart has an enforced contract, a description and a description on every column;
- every column of every raw source (the tables and views ``src/jixiao/ingest/raw_schema.sql``
  creates) is declared in ``models/staging/raw/_raw__sources.yml`` with a description;
- no chain of consecutive view-materialised models is longer than ``vars.max_view_chain_depth``.

Each rule is a function returning its violations, one line per offending node; each is shown
to fail on a doctored copy of the manifest.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import duckdb
import pytest
import yaml

from jixiao.config import PROJECT_ROOT, get_settings
from jixiao.warehouse.dbt import dbt_paths, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

Manifest = dict[str, Any]
DBT_PROJECT = PROJECT_ROOT / "dbt_project"
RAW_SCHEMA = PROJECT_ROOT / "src" / "jixiao" / "ingest" / "raw_schema.sql"
RAW_SOURCES_YML = "models/staging/raw/"


# --- the manifest and the declared rules --------------------------------------------------


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """``dbt parse`` of the repository's project into a temporary JIXIAO_HOME."""
    settings = get_settings(tmp_path_factory.mktemp("jixiao_home")).ensure()
    run_dbt(settings, ["parse"])
    path = dbt_paths(settings)["target"] / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def project_vars() -> dict[str, Any]:
    project = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))
    return project["vars"]


@pytest.fixture(scope="module")
def raw_columns() -> dict[str, list[str]]:
    """Columns of every raw table and view, from raw_schema.sql run on an empty database."""
    con = duckdb.connect()
    try:
        con.execute(RAW_SCHEMA.read_text(encoding="utf-8"))
        rows = con.execute(
            """select table_name, column_name from information_schema.columns
               where table_schema = 'raw' order by table_name, ordinal_position"""
        ).fetchall()
    finally:
        con.close()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def models(manifest: Manifest) -> dict[str, dict[str, Any]]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "jixiao"
    }


def layer(node: dict[str, Any]) -> str:
    """A model's layer: its first folder under models/ (fqn = [project, folder, ..., name])."""
    return node["fqn"][1] if len(node["fqn"]) > 2 else "(models/)"


def kind(manifest: Manifest, uid: str) -> str:
    """What a parent is for the layer rules: source, seed, or the layer of a model."""
    if uid.startswith("source."):
        return "source"
    node = manifest["nodes"].get(uid)
    if node is None:
        return uid.split(".", 1)[0]
    if node["resource_type"] == "model":
        return layer(node)
    return str(node["resource_type"])


def report(title: str, problems: list[str]) -> str:
    return f"{title} ({len(problems)}):\n  " + "\n  ".join(problems)


# --- the rules: each returns one line per offending node ----------------------------------


def naming_violations(manifest: Manifest, project_vars: dict[str, Any]) -> list[str]:
    prefixes: dict[str, list[str]] = project_vars["model_prefixes"]
    problems = []
    for node in models(manifest).values():
        wanted = prefixes.get(layer(node))
        if wanted is None:
            problems.append(
                f"{node['name']} ({node['original_file_path']}): folder {layer(node)!r} is "
                f"not a declared layer ({', '.join(prefixes)})"
            )
        elif not node["name"].startswith(tuple(wanted)):
            problems.append(
                f"{node['name']} ({node['original_file_path']}): a {layer(node)} model's "
                f"name starts with {' or '.join(wanted)}"
            )
    return sorted(problems)


def layer_read_violations(manifest: Manifest, project_vars: dict[str, Any]) -> list[str]:
    """Parents outside the layers a model's layer may read (``vars.layer_reads``).

    ``vars.layer_read_exceptions`` names, per model, the parents it may read besides: only
    incremental models may have one (their state hooks read staging), and an exception that
    is no longer needed is reported too.
    """
    allowed: dict[str, list[str]] = project_vars["layer_reads"]
    exceptions: dict[str, list[str]] = project_vars.get("layer_read_exceptions") or {}
    nodes = models(manifest)
    by_name = {n["name"]: n for n in nodes.values()}
    problems = []
    for node in nodes.values():
        may_read = set(allowed.get(layer(node), []))
        excepted = set(exceptions.get(node["name"], []))
        if excepted and node["config"]["materialized"] != "incremental":
            problems.append(
                f"{node['name']} ({layer(node)}) has a layer_read_exception but is not "
                "incremental: only an incremental fact's hooks may read staging"
            )
            excepted = set()
        for parent in node["depends_on"]["nodes"]:
            if kind(manifest, parent) in may_read:
                continue
            if parent.startswith("model.") and parent.rsplit(".", 1)[-1] in excepted:
                continue
            problems.append(
                f"{node['name']} ({layer(node)}) reads {parent} ({kind(manifest, parent)}); "
                f"{layer(node)} may read {', '.join(sorted(may_read)) or 'nothing'}"
            )
    for name, parents in exceptions.items():
        node = by_name.get(name)
        read = {p.rsplit(".", 1)[-1] for p in node["depends_on"]["nodes"]} if node else set()
        problems += [
            f"{name}: layer_read_exception for {parent}, which it does not read"
            for parent in parents
            if parent not in read
        ]
    return sorted(problems)


def source_reader_violations(manifest: Manifest) -> list[str]:
    return sorted(
        f"{node['name']} ({layer(node)}) reads source {parent}: only staging reads sources"
        for node in models(manifest).values()
        if layer(node) != "staging"
        for parent in node["depends_on"]["nodes"]
        if parent.startswith("source.")
    )


def staging_reads_model_violations(manifest: Manifest) -> list[str]:
    return sorted(
        f"{node['name']} reads the model {parent}: a staging model reads its source only"
        for node in models(manifest).values()
        if layer(node) == "staging"
        for parent in node["depends_on"]["nodes"]
        if parent.startswith("model.")
    )


def primary_key_violations(manifest: Manifest) -> list[str]:
    """Models without unique + not_null on one column or a unique_combination_of_columns."""
    unique: dict[str, set[str]] = {}
    not_null: dict[str, set[str]] = {}
    combination: set[str] = set()
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata")
        if node["resource_type"] != "test" or not meta or not node["config"].get("enabled", True):
            continue
        attached = node.get("attached_node")
        if not attached:
            continue
        if meta["name"] == "unique":
            unique.setdefault(attached, set()).add(node["column_name"])
        elif meta["name"] == "not_null":
            not_null.setdefault(attached, set()).add(node["column_name"])
        elif meta["name"] == "unique_combination_of_columns":
            combination.add(attached)
    return sorted(
        f"{node['name']} ({node['config']['materialized']}, {node['original_file_path']}): "
        "no primary-key test (unique + not_null on one column, or unique_combination_of_columns)"
        for uid, node in models(manifest).items()
        if node["config"]["materialized"] != "ephemeral"
        and uid not in combination
        and not unique.get(uid, set()) & not_null.get(uid, set())
    )


def mart_contract_violations(manifest: Manifest) -> list[str]:
    problems = []
    for node in models(manifest).values():
        if layer(node) != "marts":
            continue
        if not node["config"].get("contract", {}).get("enforced"):
            problems.append(f"{node['name']}: contract not enforced")
        if not node["description"].strip():
            problems.append(f"{node['name']}: no description")
        if not node["columns"]:
            problems.append(f"{node['name']}: no columns declared")
        problems += [
            f"{node['name']}.{name}: no description"
            for name, column in node["columns"].items()
            if not (column.get("description") or "").strip()
        ]
    return sorted(problems)


def source_column_violations(manifest: Manifest, raw_columns: dict[str, list[str]]) -> list[str]:
    """Every column of every raw source declared in the sources yml with a description."""
    problems = []
    sources = {
        node["identifier"]: node
        for node in manifest["sources"].values()
        if node["package_name"] == "jixiao"
        and node["original_file_path"].startswith(RAW_SOURCES_YML)
    }
    for table, node in sorted(sources.items()):
        declared = node["columns"]
        actual = raw_columns.get(table)
        if actual is None:
            problems.append(f"{node['unique_id']}: raw_schema.sql creates no raw.{table}")
            continue
        problems += [
            f"{node['unique_id']}.{column}: not declared in {node['original_file_path']}"
            for column in actual
            if column not in declared
        ]
        problems += [
            f"{node['unique_id']}.{column}: declared but not a column of raw.{table}"
            for column in declared
            if column not in actual
        ]
        problems += [
            f"{node['unique_id']}.{column}: no description"
            for column, spec in declared.items()
            if column in actual and not (spec.get("description") or "").strip()
        ]
    return problems


def view_chains(manifest: Manifest) -> dict[str, list[str]]:
    """For each view model, the longest chain of consecutive views ending at it."""
    nodes = models(manifest)
    longest: dict[str, list[str]] = {}

    def chain(uid: str) -> list[str]:
        if uid not in longest:
            longest[uid] = []  # a cycle cannot happen in a parsed project; guard anyway
            parents = [
                chain(p)
                for p in nodes[uid]["depends_on"]["nodes"]
                if p in nodes and nodes[p]["config"]["materialized"] == "view"
            ]
            longest[uid] = [*max(parents, key=len, default=[]), nodes[uid]["name"]]
        return longest[uid]

    return {
        nodes[uid]["name"]: chain(uid)
        for uid in nodes
        if nodes[uid]["config"]["materialized"] == "view"
    }


def view_chain_violations(manifest: Manifest, project_vars: dict[str, Any]) -> list[str]:
    limit = int(project_vars["max_view_chain_depth"])
    return sorted(
        f"{name}: {len(chain)} views in a row ({' -> '.join(chain)}), at most {limit}"
        for name, chain in view_chains(manifest).items()
        if len(chain) > limit
    )


# --- the rules hold on the project -----------------------------------------------------


def test_models_are_named_for_their_layer(manifest: Manifest, project_vars: dict[str, Any]) -> None:
    problems = naming_violations(manifest, project_vars)
    assert not problems, report("models named against their layer's prefixes", problems)


def test_each_layer_reads_only_what_it_may(
    manifest: Manifest, project_vars: dict[str, Any]
) -> None:
    problems = layer_read_violations(manifest, project_vars)
    assert not problems, report("models reading another layer than they may", problems)


def test_only_staging_reads_sources(manifest: Manifest) -> None:
    problems = source_reader_violations(manifest)
    assert not problems, report("models other than staging reading a source", problems)


def test_staging_models_read_no_model(manifest: Manifest) -> None:
    problems = staging_reads_model_violations(manifest)
    assert not problems, report("staging models reading another model", problems)


def test_every_model_has_a_primary_key_test(manifest: Manifest) -> None:
    problems = primary_key_violations(manifest)
    assert not problems, report("models without a primary-key test", problems)


def test_marts_have_enforced_contracts_and_descriptions(manifest: Manifest) -> None:
    problems = mart_contract_violations(manifest)
    assert not problems, report("marts without a contract or a description", problems)


def test_every_raw_source_column_is_documented(
    manifest: Manifest, raw_columns: dict[str, list[str]]
) -> None:
    problems = source_column_violations(manifest, raw_columns)
    assert not problems, report("raw source columns not documented", problems)
    # every raw table and view is a source, and every column of each is described
    sources = {
        n["identifier"] for n in manifest["sources"].values() if n["package_name"] == "jixiao"
    }
    assert set(raw_columns) <= sources, sorted(set(raw_columns) - sources)


def test_view_chains_are_short(manifest: Manifest, project_vars: dict[str, Any]) -> None:
    problems = view_chain_violations(manifest, project_vars)
    assert not problems, report("chains of views too long", problems)


# --- each rule reports a doctored manifest -------------------------------------------------


def model_node(manifest: Manifest, name: str) -> dict[str, Any]:
    return next(n for n in models(manifest).values() if n["name"] == name)


def doctored(manifest: Manifest, change: Callable[[Manifest], None]) -> Manifest:
    copied = copy.deepcopy(manifest)
    change(copied)
    return copied


def test_naming_rule_reports_a_misnamed_model_and_an_undeclared_folder(
    manifest: Manifest, project_vars: dict[str, Any]
) -> None:
    def rename(m: Manifest) -> None:
        model_node(m, "int_submissions_ranked")["name"] = "submissions_ranked"
        model_node(m, "stg_raw__payments")["name"] = "int_payments"
        moved = model_node(m, "dim_date")
        moved["fqn"] = ["jixiao", "reports", "dim_date"]

    problems = naming_violations(doctored(manifest, rename), project_vars)
    assert len(problems) == 3, problems
    assert any(p.startswith("submissions_ranked ") and "int_" in p for p in problems)
    assert any(p.startswith("int_payments ") and "stg_" in p for p in problems)
    assert any(
        p.startswith("dim_date ") and "'reports' is not a declared layer" in p for p in problems
    )


def test_layer_rules_report_reads_across_layers(
    manifest: Manifest, project_vars: dict[str, Any]
) -> None:
    mart = next(n for n in models(manifest).values() if n["name"] == "mart_project_year")
    staging = next(n for n in models(manifest).values() if n["name"] == "stg_raw__payments")
    intermediate = model_node(manifest, "int_payments_deduplicated")
    source = next(u for u in manifest["sources"] if u.endswith(".payments"))

    def cross(m: Manifest) -> None:
        # a mart reading a staging model and a source; a staging model reading a model and a
        # seed; an intermediate model reading a mart
        model_node(m, "mart_project_year")["depends_on"]["nodes"] += [staging["unique_id"], source]
        model_node(m, "stg_raw__payments")["depends_on"]["nodes"] += [
            intermediate["unique_id"],
            "seed.jixiao.fund_sources",
        ]
        model_node(m, "int_payments_deduplicated")["depends_on"]["nodes"].append(mart["unique_id"])

    bad = doctored(manifest, cross)
    problems = layer_read_violations(bad, project_vars)
    assert len(problems) == 5, problems
    assert any(
        p.startswith("mart_project_year (marts) reads model.jixiao.stg_raw__payments")
        for p in problems
    )
    assert any(p.startswith(f"mart_project_year (marts) reads {source}") for p in problems)
    assert any(
        p.startswith("stg_raw__payments (staging) reads seed.jixiao.fund_sources") for p in problems
    )
    assert any(
        p.startswith(
            "int_payments_deduplicated (intermediate) reads model.jixiao.mart_project_year"
        )
        for p in problems
    )

    sources_read = source_reader_violations(bad)
    assert sources_read == [
        f"mart_project_year (marts) reads source {source}: only staging reads sources"
    ]
    models_read = staging_reads_model_violations(bad)
    assert models_read == [
        "stg_raw__payments reads the model model.jixiao.int_payments_deduplicated: a staging "
        "model reads its source only"
    ]


def test_layer_exceptions_are_only_for_incremental_facts_and_only_while_needed(
    manifest: Manifest, project_vars: dict[str, Any]
) -> None:
    wider = copy.deepcopy(project_vars)
    wider["layer_read_exceptions"]["mart_region_year"] = ["mart_project_year"]
    wider["layer_read_exceptions"]["fct_payments"].append("stg_raw__indicators")

    def as_table(m: Manifest) -> None:
        model_node(m, "fct_milestones")["config"]["materialized"] = "table"

    problems = layer_read_violations(doctored(manifest, as_table), wider)
    assert problems == sorted(
        [
            "fct_milestones (marts) has a layer_read_exception but is not incremental: only "
            "an incremental fact's hooks may read staging",
            "fct_milestones (marts) reads model.jixiao.stg_raw__milestones (staging); marts "
            "may read intermediate, marts, seed",
            "fct_milestones (marts) reads model.jixiao.stg_raw__submissions (staging); marts "
            "may read intermediate, marts, seed",
            "mart_region_year (marts) has a layer_read_exception but is not incremental: only "
            "an incremental fact's hooks may read staging",
            "fct_payments: layer_read_exception for stg_raw__indicators, which it does not read",
        ]
    ), problems


def test_primary_key_rule_reports_a_model_without_one(manifest: Manifest) -> None:
    single = model_node(manifest, "stg_raw__payments")["unique_id"]  # unique + not_null
    combined = model_node(manifest, "int_budget_amounts_pivoted")["unique_id"]  # combination

    def drop_tests(m: Manifest) -> None:
        for uid in [u for u, n in m["nodes"].items() if n["resource_type"] == "test"]:
            node = m["nodes"][uid]
            name = (node.get("test_metadata") or {}).get("name")
            if node.get("attached_node") == single and name == "not_null":
                del m["nodes"][uid]  # unique is left: not a primary key without not_null
            if node.get("attached_node") == combined and name == "unique_combination_of_columns":
                del m["nodes"][uid]

    problems = primary_key_violations(doctored(manifest, drop_tests))
    assert [p.split(" ", 1)[0] for p in problems] == [
        "int_budget_amounts_pivoted",
        "stg_raw__payments",
    ], problems


def test_mart_rule_reports_missing_contract_and_descriptions(manifest: Manifest) -> None:
    def undocument(m: Manifest) -> None:
        mart = model_node(m, "mart_department_year")
        mart["config"]["contract"]["enforced"] = False
        mart["description"] = ""
        next(iter(mart["columns"].values()))["description"] = " "
        # an intermediate model needs neither
        model_node(m, "int_submissions_ranked")["description"] = ""

    problems = mart_contract_violations(doctored(manifest, undocument))
    first_column = next(iter(model_node(manifest, "mart_department_year")["columns"]))
    assert problems == sorted(
        [
            "mart_department_year: contract not enforced",
            "mart_department_year: no description",
            f"mart_department_year.{first_column}: no description",
        ]
    )


def test_source_rule_reports_undocumented_and_undeclared_columns(
    manifest: Manifest, raw_columns: dict[str, list[str]]
) -> None:
    uid = next(u for u in manifest["sources"] if u.endswith(".payments"))

    def undocument(m: Manifest) -> None:
        columns = m["sources"][uid]["columns"]
        columns["payee"]["description"] = ""
        del columns["voucher_no"]
        columns["not_in_raw"] = {"name": "not_in_raw", "description": "x"}

    problems = source_column_violations(doctored(manifest, undocument), raw_columns)
    assert sorted(problems) == sorted(
        [
            f"{uid}.voucher_no: not declared in models/staging/raw/_raw__sources.yml",
            f"{uid}.not_in_raw: declared but not a column of raw.payments",
            f"{uid}.payee: no description",
        ]
    )


def test_view_chain_rule_reports_a_long_chain(
    manifest: Manifest, project_vars: dict[str, Any]
) -> None:
    # stg_raw__indicators -> int_indicators_deduplicated -> int_indicators_weighted ->
    # int_indicators_scored -> int_project_level1_scores: five views once these are views
    names = [
        "int_indicators_deduplicated",
        "int_indicators_weighted",
        "int_indicators_scored",
        "int_project_level1_scores",
    ]

    def as_views(m: Manifest) -> None:
        for name in names:
            model_node(m, name)["config"]["materialized"] = "view"

    problems = view_chain_violations(doctored(manifest, as_views), project_vars)
    assert any(
        p.startswith("int_project_level1_scores: 5 views in a row (stg_raw__")
        and p.endswith("int_project_level1_scores), at most 4")
        for p in problems
    ), problems
    # four in a row is allowed
    shorter = doctored(manifest, as_views)
    model_node(shorter, "int_indicators_deduplicated")["config"]["materialized"] = "table"
    assert not view_chain_violations(shorter, project_vars)


def test_rules_read_the_declared_vars(project_vars: dict[str, Any]) -> None:
    """The layers the rules know are the folders under models/ (a new folder needs a layer)."""
    folders = {p.name for p in (DBT_PROJECT / "models").iterdir() if p.is_dir()}
    assert folders == set(project_vars["model_prefixes"]) == set(project_vars["layer_reads"])
