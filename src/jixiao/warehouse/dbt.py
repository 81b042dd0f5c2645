"""Run the dbt warehouse in-process (数据仓库构建 / dbt build).

``build`` runs ``dbt build`` (seeds, models, data tests and unit tests; a resource type can be
left out) against ``settings.warehouse`` with :class:`dbt.cli.main.dbtRunner`, or against a
PostgreSQL server when ``JIXIAO_WAREHOUSE=postgres`` (the profile's ``postgres`` target), or
a local Spark session with ``JIXIAO_WAREHOUSE=spark`` (``spark``; :mod:`jixiao.warehouse.spark`).
dbt's target and log folders go under ``settings.home`` so the repository stays clean. Any
failing node raises :class:`DbtBuildFailed` with the node names and messages. ``unit_tests``
runs only the dbt unit tests (the test suite does; the nightly leaves them out).
``project_fingerprint`` says whether the project (or only its seeds) changed since a recorded
build.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jixiao.config import Settings
from jixiao.errors import DataError
from jixiao.warehouse.spark import spark_dir

FAILED_STATUSES = frozenset({"error", "fail", "runtime error", "skipped"})
"""dbt node statuses that make a build fail (失败状态). Skipped nodes were skipped because an
upstream node failed, so they count as failures too."""


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome (单个节点结果)."""

    unique_id: str
    status: str
    message: str | None
    failures: int | None = None


@dataclass(frozen=True)
class DbtRunResult:
    """Outcome of a dbt command (dbt 运行结果)."""

    command: str
    success: bool
    nodes: list[NodeResult] = field(default_factory=list)

    @property
    def failed(self) -> list[NodeResult]:
        """Nodes that failed or were skipped (失败的节点)."""
        return [n for n in self.nodes if n.status in FAILED_STATUSES]

    def to_dict(self) -> dict[str, Any]:
        """A small JSON-serialisable summary (for Airflow XCom and the CLI)."""
        by_status: dict[str, int] = {}
        for n in self.nodes:
            by_status[n.status] = by_status.get(n.status, 0) + 1
        return {
            "command": self.command,
            "success": self.success,
            "nodes": len(self.nodes),
            "by_status": by_status,
            "failed": [
                {"node": n.unique_id, "status": n.status, "message": n.message} for n in self.failed
            ],
        }


class DbtBuildFailed(DataError):
    """dbt build failed (数据仓库构建失败); carries the failing nodes and their messages."""

    def __init__(self, result: DbtRunResult, error: BaseException | None = None) -> None:
        self.result = result
        self.error = error
        errors = [n for n in result.failed if n.status != "skipped"]
        skipped = len(result.failed) - len(errors)
        lines = [f"  - {n.unique_id} [{n.status}]: {n.message or ''}".rstrip() for n in errors]
        if skipped:
            lines.append(
                f"  - 另有 {skipped} 个下游节点被跳过 / {skipped} downstream nodes skipped"
            )
        if error is not None:
            lines.append(f"  - dbt raised: {error}")
        detail = "\n".join(lines) or "  - (no node failed; dbt reported an invocation error)"
        super().__init__(
            f"dbt {result.command} 失败，以下节点出错 / dbt {result.command} failed; "
            f"failing nodes:\n{detail}"
        )


def dbt_paths(settings: Settings) -> dict[str, Path]:
    """Folders dbt writes to, all under JIXIAO_HOME (dbt 输出目录)."""
    base = settings.home / "dbt"
    return {"target": base / "target", "logs": base / "logs"}


@contextmanager
def _dbt_environment(settings: Settings) -> Iterator[None]:
    """Set the environment dbt reads (profiles.yml reads JIXIAO_WAREHOUSE_PATH)."""
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    settings.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
    wanted = {
        "JIXIAO_WAREHOUSE_PATH": str(settings.warehouse),
        # profiles.yml `settings:`: the same DuckDB limits as every other jixiao connection
        "JIXIAO_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "JIXIAO_DUCKDB_THREADS": str(settings.duckdb_threads),
        "JIXIAO_DUCKDB_TEMP_DIR": str(settings.duckdb_temp_dir),
        # the spark output's warehouse and metastore (jixiao.warehouse.spark.spark_dir)
        "JIXIAO_SPARK_DIR": str(spark_dir(settings)),
        "DBT_PROFILES_DIR": str(settings.dbt_project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _common_args(settings: Settings, project_dir: Path | None = None) -> list[str]:
    paths = dbt_paths(settings)
    project = project_dir or settings.dbt_project_dir
    return [
        # the profile's output (profiles.yml): duckdb, or postgres / spark (JIXIAO_WAREHOUSE)
        "--target",
        settings.warehouse_engine,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(paths["target"]),
        "--log-path",
        str(paths["logs"]),
    ]


def _node_results(res: Any) -> list[NodeResult]:
    results = getattr(res.result, "results", None) or []
    nodes: list[NodeResult] = []
    for r in results:
        node = getattr(r, "node", None)
        unique_id = getattr(node, "unique_id", None) or str(node)
        status = str(getattr(r.status, "value", r.status))
        nodes.append(
            NodeResult(
                unique_id=unique_id,
                status=status,
                message=getattr(r, "message", None),
                failures=getattr(r, "failures", None),
            )
        )
    return nodes


def _release_duckdb() -> None:
    """Close the DuckDB handle dbt-duckdb keeps open in this process (释放数据库连接).

    dbt-duckdb caches one connection per process; left open, it blocks other connections
    with a different configuration (e.g. read-only ones for the quality gate or publish).
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a locked dependency
        return
    env = getattr(DuckDBConnectionManager, "_ENV", None)
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def run_dbt(settings: Settings, args: list[str], project_dir: Path | None = None) -> DbtRunResult:
    """Invoke one dbt command in-process and return its result; raise on failure.

    ``project_dir`` (default: the repository's dbt project) lets a test run a copy.
    """
    from dbt.cli.main import dbtRunner

    settings.ensure()
    with _dbt_environment(settings):
        try:
            res = dbtRunner().invoke([*args, *_common_args(settings, project_dir), "--quiet"])
        finally:
            _release_duckdb()
    result = DbtRunResult(
        command=" ".join(args[:2]) if args[0] == "source" else args[0],
        success=bool(res.success),
        nodes=_node_results(res),
    )
    if not res.success or result.failed:
        raise DbtBuildFailed(result, res.exception)
    return result


def build(
    settings: Settings,
    select: str | None = None,
    full_refresh: bool = False,
    exclude_resource_types: tuple[str, ...] = (),
) -> DbtRunResult:
    """Run ``dbt build`` (种子、模型、测试) against the warehouse.

    ``select`` is a dbt selection (e.g. ``"marts"`` or ``"+mart_project_year"``); seeds and
    unit tests are part of the build unless ``exclude_resource_types`` leaves them out (e.g.
    ``("seed", "unit_test")``). Raises :class:`DbtBuildFailed` when any node fails.
    """
    args = ["build"]
    if select:
        args += ["--select", select]
    for resource_type in exclude_resource_types:
        args += ["--exclude-resource-type", resource_type]
    if full_refresh:
        args.append("--full-refresh")
    return run_dbt(settings, args)


def unit_tests(settings: Settings, project_dir: Path | None = None) -> DbtRunResult:
    """Run the dbt unit tests only (``dbt test --select test_type:unit``) (单元测试).

    The models' parents must exist in the warehouse (a build ran). Raises
    :class:`DbtBuildFailed` when a unit test fails.
    """
    return run_dbt(settings, ["test", "--select", "test_type:unit"], project_dir)


#: What of the repository the warehouse's dbt build depends on (构建依赖的文件): the dbt
#: project (models, macros, tests, seeds' settings, dbt_project.yml, profiles.yml), the seed
#: tables (``seeds/``) and the raw schema the staging models read.
def _project_inputs(settings: Settings) -> dict[str, list[Path]]:
    root = settings.dbt_project_dir
    repo = root.parent
    project = [root / "dbt_project.yml", root / "profiles.yml", root / "packages.yml"]
    for folder in ("models", "macros", "tests", "snapshots", "analyses"):
        project += _files_under(root / folder)
    project.append(repo / "src" / "jixiao" / "ingest" / "raw_schema.sql")
    return {"project": project, "seeds": _files_under(repo / "seeds")}


def _files_under(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.parts)
    ]


def fingerprint_files(paths: list[Path], base: Path) -> str:
    """SHA-256 over the relative names and bytes of ``paths`` (文件指纹); a missing file
    counts as absent, so adding or removing one changes the fingerprint."""
    h = hashlib.sha256()
    for path in sorted(set(paths)):
        if not path.is_file():
            continue
        h.update(str(path.relative_to(base)).encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def project_fingerprint(settings: Settings) -> dict[str, str]:
    """Fingerprints of the dbt project and of the seeds (dbt 项目指纹).

    ``project`` covers everything a build reads from the repository, the seeds included (a
    rule change is a seed change and changes what the models compute); ``seeds`` covers the
    seed files alone, to decide whether the seeds are reloaded.
    """
    inputs = _project_inputs(settings)
    base = settings.dbt_project_dir.parent
    return {
        "project": fingerprint_files(inputs["project"] + inputs["seeds"], base),
        "seeds": fingerprint_files(inputs["seeds"], base),
    }


def source_freshness(settings: Settings) -> DbtRunResult:
    """Run ``dbt source freshness`` on the raw tables (原始层新鲜度); stale data only warns."""
    return run_dbt(settings, ["source", "freshness"])


def docs_generate(settings: Settings) -> Path:
    """Run ``dbt docs generate`` (生成文档) and return the folder holding index.html."""
    run_dbt(settings, ["docs", "generate"])
    return dbt_paths(settings)["target"]
