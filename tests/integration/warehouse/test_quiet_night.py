"""A night costs what changed (无新增则不做): the nightly's plan, run through the real stages.

On a real warehouse (the demo inbox plus one unreadable file that is quarantined) the first
night loads, builds, gates and publishes. Then:

- an unchanged night skips the raw gate, dbt, the marts gate and publish, records them as
  "skipped: nothing new" in its stage records and the quality report, and leaves the
  published file untouched; the quarantined file does not count as new;
- a night with one resubmitted workbook runs every stage, without reloading the seeds, without
  a full refresh and without the dbt unit tests, and builds only what a raw table feeds;
- a night after a failed build is never "nothing new";
- a changed dbt model rebuilds with ``--full-refresh`` though no file is new; a changed seed
  reloads the seeds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from jixiao import pipeline, runs
from jixiao.config import PROJECT_ROOT, Settings, get_settings
from jixiao.samples.demo import build_demo_inbox, yichun_2022
from jixiao.samples.forms import write_selfeval_form

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

YICHUN = "宜春市大数据发展管理局_2022_项目支出绩效自评表.xlsx"
JUNK = "损坏的文件.xlsx"


def night(s: Settings, run_id: str, force: bool = False) -> dict[str, Any]:
    """One night the way the DAG runs it: pull, discover, ingest, plan; the rest unless
    skipped."""
    pipeline.pull(s, run_id)
    paths = pipeline.discover(s)
    ingested = pipeline.ingest(paths, s, run_id)
    plan = pipeline.plan_night(s, run_id, discovered=len(paths), force=force)
    out: dict[str, Any] = {"paths": paths, "ingested": ingested, "plan": plan}
    if not plan["nothing_to_do"]:
        pipeline.gate_raw(s, run_id)
        out["dbt"] = pipeline.dbt_build(s, run_id)
        out["dbt_nodes"] = dbt_nodes(s)
        pipeline.gate_marts(s, run_id)
        out["publish"] = pipeline.publish(s, run_id)
    pipeline.quality_report(s, run_id)
    return out


def dbt_nodes(s: Settings) -> dict[str, Any]:
    """The node ids and arguments of the last dbt invocation (dbt's run_results.json)."""
    data = json.loads((s.home / "dbt" / "target" / "run_results.json").read_text("utf-8"))
    return {"ids": [r["unique_id"] for r in data["results"]], "args": data["args"]}


SEED_ONLY_MODELS = {
    "model.jixiao.dim_fund_source",
    "model.jixiao.dim_evaluation_scheme",
    "model.jixiao.mart_report_labels",
}


def raw_downstream(s: Settings, ids: list[str]) -> set[str]:
    """Of ``ids``, the models, tests and exposures with a raw table (a dbt source) upstream,
    read from the manifest's graph; a test counts when any of its parents does."""
    manifest = json.loads((s.home / "dbt" / "target" / "manifest.json").read_text("utf-8"))
    graph = {**manifest["nodes"], **manifest["exposures"]}
    memo: dict[str, bool] = {}

    def fed(uid: str) -> bool:
        if uid.startswith("source."):
            return True
        if uid not in memo:
            memo[uid] = False
            parents = graph.get(uid, {}).get("depends_on", {}).get("nodes", [])
            memo[uid] = any(fed(p) for p in parents)
        return memo[uid]

    return {i for i in ids if not i.startswith(("seed.", "unit_test.", "operation.")) and fed(i)}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stages(s: Settings, run_id: str) -> dict[str, tuple[str, str]]:
    return {
        r["stage"]: (r["status"], r["summary"]) for r in runs.stage_rows(runs.load_run(s, run_id))
    }


def marts(db: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select project_key, fiscal_year, spent_yuan from marts.mart_project_year order by all"
        ).fetchall()
    finally:
        con.close()


def implementing_units(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select distinct implementing_unit from marts.dim_project "
            "where department_name like '宜春%'"
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, Any]]:
    s = get_settings(tmp_path_factory.mktemp("quiet") / "home").ensure()
    build_demo_inbox(s.inbox)
    (s.inbox / JUNK).write_bytes(b"PK\x03\x04 this is not a workbook")
    return s, night(s, "night-1")


def test_first_night_seeds_and_leaves_out_unit_tests(
    first: tuple[Settings, dict[str, Any]],
) -> None:
    s, n1 = first
    assert not n1["plan"]["nothing_to_do"]
    assert n1["ingested"]["files_quarantined"] == 1  # the junk file
    assert n1["dbt"]["full_refresh"] and n1["dbt"]["seeds_reloaded"]  # a fresh warehouse
    ids = n1["dbt_nodes"]["ids"]
    assert any(i.startswith("seed.") for i in ids)
    assert any(i.startswith("model.") for i in ids) and any(i.startswith("test.") for i in ids)
    assert not [i for i in ids if i.startswith("unit_test.")]  # the suite runs those
    assert s.published.exists()


def test_unchanged_night_skips_and_says_so(first: tuple[Settings, dict[str, Any]]) -> None:
    s, _ = first
    published, before = sha(s.published), marts(s.published)
    build_mtime = (s.home / "dbt" / "target" / "run_results.json").stat().st_mtime_ns
    n2 = night(s, "night-2")
    assert n2["paths"] == []  # the quarantined file is not new again
    assert n2["plan"]["nothing_to_do"] is True
    assert "dbt" not in n2
    assert (s.home / "dbt" / "target" / "run_results.json").stat().st_mtime_ns == build_mtime
    assert sha(s.published) == published and marts(s.published) == before
    got = stages(s, "night-2")
    assert got["ingest"][0] == runs.PASSED
    for name in pipeline.SKIPPABLE_STAGES:
        assert got[name] == (runs.SKIPPED, pipeline.SKIP_SUMMARY), name
    html = (s.quality / "index.html").read_text("utf-8")
    assert "night-2" in html
    for name in pipeline.SKIPPABLE_STAGES:
        assert f'data-stage="{name}" data-status="skipped"' in html, name
    assert "无新增或变更文件，跳过" in html and "nothing new" in html
    # forced, the same night runs everything
    forced = pipeline.plan_night(s, "night-2-forced", discovered=0, force=True)
    assert forced["nothing_to_do"] is False
    assert runs.load_run(s, "night-2-forced") is None  # nothing recorded as skipped


def test_resubmitted_file_runs_everything_but_seeds_and_full_refresh(
    first: tuple[Settings, dict[str, Any]],
) -> None:
    s, _ = first
    published = sha(s.published)
    changed = dataclasses.replace(yichun_2022(), implementing_unit="宜春市数字政府运营中心")
    write_selfeval_form(s.inbox / YICHUN, [changed])
    n3 = night(s, "night-3")
    assert [Path(p).name for p in n3["paths"]] == [YICHUN]
    assert n3["plan"]["nothing_to_do"] is False
    assert n3["dbt"]["full_refresh"] is False and n3["dbt"]["seeds_reloaded"] is False
    ids = n3["dbt_nodes"]["ids"]
    assert any(i.startswith("model.") for i in ids)
    assert not [i for i in ids if i.startswith(("seed.", "unit_test."))]
    assert n3["dbt_nodes"]["args"].get("full_refresh") in (False, None)
    # only what reads a raw table is rebuilt and tested: the nodes the first night built that
    # a raw table is upstream of (or, for a test, of one of its parents), and nothing else
    assert n3["dbt"]["select"] == pipeline.RAW_DOWNSTREAM
    raw_fed = raw_downstream(s, first[1]["dbt_nodes"]["ids"])
    assert {i for i in ids if not i.startswith("operation.")} == raw_fed
    left_out = set(first[1]["dbt_nodes"]["ids"]) - raw_fed
    assert "model.jixiao.dim_fund_source" in left_out and "model.jixiao.fct_payments" in raw_fed
    assert {i for i in left_out if i.startswith("model.")} == SEED_ONLY_MODELS
    assert sha(s.published) != published
    assert implementing_units(s.published) == {"宜春市数字政府运营中心"}
    assert {k: v[0] for k, v in stages(s, "night-3").items()} == dict.fromkeys(
        runs.STAGES, runs.PASSED
    )
    # and the night after is quiet again
    assert night(s, "night-4")["plan"]["nothing_to_do"] is True


def test_a_failed_build_is_never_nothing_new(
    first: tuple[Settings, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    s, _ = first
    changed = dataclasses.replace(yichun_2022(), implementing_unit="宜春市信息中心")
    write_selfeval_form(s.inbox / YICHUN, [changed])
    paths = pipeline.discover(s)
    pipeline.ingest(paths, s, "night-5")
    assert pipeline.plan_night(s, "night-5", discovered=len(paths))["nothing_to_do"] is False
    before = pipeline.build_state(s)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("dbt crashed")

    monkeypatch.setattr("jixiao.warehouse.dbt.build", broken)
    with pytest.raises(RuntimeError):
        pipeline.dbt_build(s, "night-5")
    assert pipeline.build_state(s) == before  # a failed build records nothing
    # the next night finds no new file but must still build what was loaded
    assert pipeline.discover(s) == []
    assert pipeline.plan_night(s, "night-6", discovered=0)["nothing_to_do"] is False
    monkeypatch.undo()
    pipeline.gate_raw(s, "night-6")
    pipeline.dbt_build(s, "night-6")
    pipeline.gate_marts(s, "night-6")
    pipeline.publish(s, "night-6")
    assert implementing_units(s.published) == {"宜春市信息中心"}
    assert pipeline.plan_night(s, "night-7", discovered=0)["nothing_to_do"] is True


def test_another_engine_is_never_nothing_new_and_builds_in_full(
    first: tuple[Settings, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same staging file on another engine or server (JIXIAO_WAREHOUSE=postgres or
    spark): the last build's seeds and incremental facts are not there, so the plan is a
    full refresh with the seeds, never "nothing new"; back on DuckDB it is quiet again."""
    s, _ = first
    assert pipeline.plan_night(s, "night-8", discovered=0)["nothing_to_do"] is True
    assert pipeline.build_state(s)[pipeline.BUILD]["target"] == "duckdb"
    monkeypatch.setenv("JIXIAO_WAREHOUSE", "spark")
    monkeypatch.setenv("JIXIAO_SPARK_DIR", str(s.home / "spark"))
    plan = pipeline.plan_night(s, "night-9", discovered=0)
    assert plan["nothing_to_do"] is False
    assert plan["full_refresh"] is True and plan["reload_seeds"] is True
    monkeypatch.setenv("JIXIAO_WAREHOUSE", "postgres")
    monkeypatch.setenv("JIXIAO_PG_DBNAME", "jixiao_other")
    assert pipeline.build_target(s).endswith("/jixiao_other")
    assert pipeline.plan_night(s, "night-10", discovered=0)["full_refresh"] is True
    monkeypatch.delenv("JIXIAO_WAREHOUSE")
    assert pipeline.plan_night(s, "night-11", discovered=0)["nothing_to_do"] is True


@dataclasses.dataclass(frozen=True)
class ProjectCopy(Settings):
    """Settings whose dbt project is a copy the test may edit (可修改的项目副本)."""

    project: Path = Path()

    @property
    def dbt_project_dir(self) -> Path:
        return self.project / "dbt_project"


def test_changed_model_rebuilds_in_full_and_changed_seed_reloads(
    first: tuple[Settings, dict[str, Any]], tmp_path: Path
) -> None:
    s, _ = first
    root = tmp_path / "repo"
    shutil.copytree(PROJECT_ROOT / "dbt_project", root / "dbt_project")
    shutil.copytree(PROJECT_ROOT / "seeds", root / "seeds")
    schema = PROJECT_ROOT / "src" / "jixiao" / "ingest" / "raw_schema.sql"
    (root / "src" / "jixiao" / "ingest").mkdir(parents=True)
    shutil.copy2(schema, root / "src" / "jixiao" / "ingest" / "raw_schema.sql")
    c = ProjectCopy(home=s.home, project=root)
    assert pipeline.fingerprints(c)["project"] == pipeline.fingerprints(s)["project"]
    assert pipeline.plan_night(c, "night-8", discovered=0)["nothing_to_do"] is True

    model = next((root / "dbt_project" / "models" / "marts").rglob("mart_project_year.sql"))
    model.write_text(model.read_text("utf-8") + "\n-- a comment is a change\n", "utf-8")
    plan = pipeline.plan_night(c, "night-9", discovered=0)
    assert plan["nothing_to_do"] is False and plan["full_refresh"] is True
    assert plan["reload_seeds"] is False
    result = pipeline.dbt_build(c, "night-9")
    assert result["full_refresh"] is True and result["seeds_reloaded"] is False
    assert result["select"] is None  # a changed project rebuilds the seed-only models too
    nodes = dbt_nodes(c)
    assert set(nodes["ids"]) >= SEED_ONLY_MODELS
    assert nodes["args"].get("full_refresh") is True
    assert not [i for i in nodes["ids"] if i.startswith(("seed.", "unit_test."))]

    seed = root / "seeds" / "grade_bands.csv"
    seed.write_text(seed.read_text("utf-8").replace(",excellent,", ",outstanding,"), "utf-8")
    plan = pipeline.plan_night(c, "night-10", discovered=0)
    assert plan["reload_seeds"] is True and plan["full_refresh"] is True
    result = pipeline.dbt_build(c, "night-10")
    assert result["seeds_reloaded"] is True
    assert any(i.startswith("seed.") for i in dbt_nodes(c)["ids"])
    con = duckdb.connect(str(c.warehouse), read_only=True)
    try:
        assert con.execute(
            "select grade_en from staging.grade_bands where grade = '优'"
        ).fetchall() == [("outstanding",)]
    finally:
        con.close()
    # the build recorded the copy's project: built again, nothing changed
    assert pipeline.plan_night(c, "night-11", discovered=0)["full_refresh"] is False
