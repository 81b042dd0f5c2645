"""docker-compose.yml checked against the local setup, without a Docker engine (编排文件检查).

Same DAGs folder and dbt profile as a local run, no example DAGs, no default credentials,
every secret from .env, every variable documented in .env.example, and the services the
LocalExecutor deployment needs, each with a healthcheck and its dependencies, among them the
PostgreSQL warehouse server (issue 17; DuckDB stays the engine unless JIXIAO_WAREHOUSE is set),
and the CeleryExecutor variant (profile ``celery``: Redis and two workers).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from jixiao.config import PROJECT_ROOT, get_settings

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
PROFILES = PROJECT_ROOT / "dbt_project" / "profiles.yml"

# ${VAR}, ${VAR:?msg}, ${VAR:-default}, ${VAR-default}, ${VAR?msg}; "$${...}" is an escape
VAR_RE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
SECRET_RE = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|(^|_)KEY$", re.IGNORECASE)
AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]


CELERY_WORKERS = ["airflow-worker-1", "airflow-worker-2"]


class InterpolationError(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """The subset of compose interpolation this file uses (``:?``, ``?``, ``:-``, ``-``)."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        value = env.get(name)
        if (op == ":?" and not value) or (op == "?" and value is None):
            raise InterpolationError(f"{name}: {arg}")
        if (op == ":-" and not value) or (op == "-" and value is None):
            return arg
        return value or ""

    return VAR_RE.sub(one, text).replace("$$", "$")


def read_env_example() -> dict[str, str]:
    env = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def filled_env() -> dict[str, str]:
    """.env.example with every empty value filled in, as an operator would."""
    return {k: v or f"filled-{k.lower()}" for k, v in read_env_example().items()}


@pytest.fixture(scope="module")
def raw() -> str:
    return COMPOSE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(raw: str) -> dict[str, Any]:
    return yaml.safe_load(interpolate(raw, filled_env()))


def env_of(compose: dict[str, Any], service: str) -> dict[str, str]:
    env = compose["services"][service].get("environment", {})
    assert isinstance(env, dict), f"{service}: use the mapping form for environment"
    return {k: str(v) for k, v in env.items()}


def bind_mounts(compose: dict[str, Any], service: str) -> dict[str, str]:
    """container path -> host path (resolved) of the service's bind mounts."""
    mounts = {}
    for spec in compose["services"][service].get("volumes", []):
        source, target = spec.split(":")[:2]
        if source.startswith((".", "/")):
            mounts[target] = str((PROJECT_ROOT / source).resolve())
    return mounts


def test_services_healthchecks_and_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"postgres", "warehouse", "airflow-init", *AIRFLOW_SERVICES}
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["warehouse"]
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        assert "healthcheck" in svc, name
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert svc["depends_on"]["warehouse"]["condition"] == "service_healthy", name
        assert svc["depends_on"]["airflow-init"]["condition"] == (
            "service_completed_successfully"
        ), name
        assert env_of(compose, name)["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
    }
    init = services["airflow-init"]
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"
    script = "\n".join(init["command"])
    assert "airflow db migrate" in script and "airflow users create" in script


def test_same_dags_folder_and_no_example_dags(compose: dict[str, Any]) -> None:
    from jixiao.orchestration import airflow_env

    local = airflow_env(get_settings(PROJECT_ROOT / "var"))
    for name in ["airflow-init", *AIRFLOW_SERVICES]:
        env = env_of(compose, name)
        dags_in_container = env["AIRFLOW__CORE__DAGS_FOLDER"]
        assert bind_mounts(compose, name)[dags_in_container] == local["AIRFLOW__CORE__DAGS_FOLDER"]
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
        assert local["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
        assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == local["AIRFLOW__CORE__DEFAULT_TIMEZONE"]
    assert sorted(p.name for p in (PROJECT_ROOT / "dags").glob("jixiao_*.py"))


def test_project_mounted_in_the_checkout_layout(compose: dict[str, Any]) -> None:
    """src, dags, dbt_project, expectations and seeds sit side by side, as in the checkout,
    so jixiao.config.PROJECT_ROOT-relative paths (and dbt's ``../seeds``) hold."""
    for name in ["airflow-init", *AIRFLOW_SERVICES]:
        home = env_of(compose, name)["JIXIAO_HOME"]
        mounts = {
            t: h for t, h in bind_mounts(compose, name).items() if not t.startswith(home + "/")
        }
        roots = {str(PurePosixPath(t).parent) for t in mounts}
        assert len(roots) == 1, roots
        root = roots.pop()
        for folder in ("src", "dags", "dbt_project", "expectations", "seeds"):
            target = f"{root}/{folder}"
            assert mounts.get(target) == str(PROJECT_ROOT / folder), (name, folder)
        volumes = compose["services"][name]["volumes"]
        assert any(
            v.split(":")[1] == home and v.split(":")[0] in compose["volumes"] for v in volumes
        ), "JIXIAO_HOME must be a named volume"


def test_people_reach_their_folders_on_the_host(compose: dict[str, Any]) -> None:
    """Departments' inbox and feedback, the reports, the quality report and the published file
    are host folders (no `docker compose cp`), at the paths jixiao derives from JIXIAO_HOME;
    the warehouse itself stays in the named volume."""
    for name in ["airflow-init", *AIRFLOW_SERVICES]:
        home = env_of(compose, name)["JIXIAO_HOME"]
        inside = get_settings(Path(home))
        mounts = bind_mounts(compose, name)
        for path in (
            inside.inbox,
            inside.feedback,
            inside.reports,
            inside.quality,
            inside.published_dir,
        ):
            host = mounts.get(str(PurePosixPath(path)))
            assert host is not None, (name, str(path))
            assert Path(host).is_relative_to(PROJECT_ROOT / "var"), host  # ignored by git
        assert str(PurePosixPath(inside.warehouse.parent)) not in mounts
    assert "/var/" in (PROJECT_ROOT / ".gitignore").read_text().split()  # host folders untracked


def test_web_ui_published_on_this_host_only(compose: dict[str, Any], raw: str) -> None:
    (port,) = compose["services"]["airflow-apiserver"]["ports"]
    assert port.split(":")[0] == "127.0.0.1", port
    # the operator can open it, by a documented variable
    everywhere = "0.0.0.0"  # noqa: S104 - the documented opt-in under test
    opened = yaml.safe_load(interpolate(raw, {**filled_env(), "AIRFLOW_API_BIND": everywhere}))
    assert opened["services"]["airflow-apiserver"]["ports"][0].startswith(everywhere + ":")


#: the dbt targets compose can select (JIXIAO_WAREHOUSE): the embedded file and the server
COMPOSE_TARGETS = ("duckdb", "postgres")


def test_same_dbt_profile(compose: dict[str, Any]) -> None:
    outputs = yaml.safe_load(PROFILES.read_text(encoding="utf-8"))["jixiao"]["outputs"]

    def texts(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [t for key in node for t in texts(node[key])]
        return [str(node)]

    profile = "\n".join(t for target in COMPOSE_TARGETS for t in texts(outputs[target]))
    needed = set(re.findall(r"env_var\(\s*['\"]([A-Za-z0-9_]+)['\"]\s*\)", profile))
    assert needed, "profiles.yml reads its settings from the environment"
    for name in ["airflow-init", *AIRFLOW_SERVICES]:
        env = env_of(compose, name)
        assert needed <= set(env), (name, needed - set(env))
        assert bind_mounts(compose, name)[env["DBT_PROFILES_DIR"]] == str(PROFILES.parent)
        # the profile's warehouse is the one jixiao derives from JIXIAO_HOME
        if "JIXIAO_WAREHOUSE_PATH" in needed:
            expected = get_settings(env["JIXIAO_HOME"]).warehouse
            assert env["JIXIAO_WAREHOUSE_PATH"] == expected.as_posix()


def test_the_warehouse_database_is_wired(compose: dict[str, Any], raw: str) -> None:
    """The PostgreSQL warehouse is a server of its own (服务 warehouse): PostgreSQL with the C
    collation load_raw requires, a healthcheck, its own named volume; every Airflow service
    reaches it by the JIXIAO_PG_* that profiles.yml and jixiao.warehouse.postgres read, with
    the server's own credentials; DuckDB stays the engine unless JIXIAO_WAREHOUSE says postgres."""
    from jixiao.warehouse import postgres

    wh = compose["services"]["warehouse"]
    assert str(wh["image"]).startswith("postgres:")
    check = " ".join(wh["healthcheck"]["test"])
    assert "pg_isready" in check and "POSTGRES_DB" in check
    initdb = env_of(compose, "warehouse")
    assert "--locale=C" in initdb["POSTGRES_INITDB_ARGS"].split()
    assert "--encoding=UTF8" in initdb["POSTGRES_INITDB_ARGS"].split()
    (volume,) = wh["volumes"]
    name, target = volume.split(":")[:2]
    assert name in compose["volumes"] and target == "/var/lib/postgresql/data"
    assert name not in {v.split(":")[0] for v in compose["services"]["postgres"]["volumes"]}
    assert "ports" not in wh  # reached inside the compose network only
    for service in ["airflow-init", *AIRFLOW_SERVICES]:
        env = env_of(compose, service)
        assert env["JIXIAO_WAREHOUSE"] == "duckdb", service
        assert env["JIXIAO_PG_HOST"] == "warehouse", service
        assert env["JIXIAO_PG_USER"] == initdb["POSTGRES_USER"], service
        assert env["JIXIAO_PG_PASSWORD"] == initdb["POSTGRES_PASSWORD"], service
        assert env["JIXIAO_PG_DBNAME"] == initdb["POSTGRES_DB"], service
        with pytest.MonkeyPatch.context() as mp:
            for key, value in env.items():
                mp.setenv(key, value)
            address = postgres.connection_settings()
            assert get_settings(Path(env["JIXIAO_HOME"])).warehouse_engine == "duckdb"
        assert (address.host, address.port, address.dbname) == (
            "warehouse",
            5432,
            initdb["POSTGRES_DB"],
        )
    # the switch: JIXIAO_WAREHOUSE=postgres in .env, and duckdb when .env leaves it out
    on_pg = yaml.safe_load(interpolate(raw, {**filled_env(), "JIXIAO_WAREHOUSE": "postgres"}))
    unset = {k: v for k, v in filled_env().items() if k != "JIXIAO_WAREHOUSE"}
    default = yaml.safe_load(interpolate(raw, unset))
    for service in AIRFLOW_SERVICES:
        assert env_of(on_pg, service)["JIXIAO_WAREHOUSE"] == "postgres"
        assert env_of(default, service)["JIXIAO_WAREHOUSE"] == "duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JIXIAO_WAREHOUSE", env_of(on_pg, "airflow-scheduler")["JIXIAO_WAREHOUSE"])
        assert get_settings(PROJECT_ROOT / "var").warehouse_engine == "postgres"


def test_the_celery_variant(compose: dict[str, Any], raw: str) -> None:
    """The CeleryExecutor variant (issue 17 item 4): ``--profile celery`` adds the Redis broker
    and two workers and nothing else; AIRFLOW_EXECUTOR=CeleryExecutor switches every Airflow
    service, all on the same broker (Redis' own password) and result backend (the metadata
    database); the workers are the scheduler's image, mounts and environment (the DuckDB
    staging file, the inbox and the warehouse settings are shared), each with a name of its
    own and a Celery ping as healthcheck; LocalExecutor stays the default."""
    import importlib.util

    services = compose["services"]
    profiled = {name for name, svc in services.items() if "profiles" in svc}
    assert profiled == {"redis", *CELERY_WORKERS}
    assert all(services[name]["profiles"] == ["celery"] for name in profiled)
    for name in ["airflow-init", *AIRFLOW_SERVICES, *CELERY_WORKERS]:
        assert env_of(compose, name)["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
    filled = filled_env()
    on = yaml.safe_load(interpolate(raw, {**filled, "AIRFLOW_EXECUTOR": "CeleryExecutor"}))
    redis = on["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--requirepass") + 1] == filled["REDIS_PASSWORD"]
    assert "ping" in redis["healthcheck"]["test"]
    assert env_of(on, "redis")["REDISCLI_AUTH"] == filled["REDIS_PASSWORD"]  # the ping's auth
    assert "ports" not in redis  # reached inside the compose network only
    scheduler = env_of(on, "airflow-scheduler")
    for name in ["airflow-init", *AIRFLOW_SERVICES, *CELERY_WORKERS]:
        env = env_of(on, name)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == (
            f"redis://:{filled['REDIS_PASSWORD']}@redis:6379/0"
        ), name
        # prefork: ingest's process pool fails in a daemonic child; threads: the task
        # supervisor cannot set signal handlers (both measured by test_celery_nightly)
        assert env["AIRFLOW__CELERY__POOL"] == "solo", name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == (
            "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        ), name
    hostnames = set()
    for name in CELERY_WORKERS:
        svc = on["services"][name]
        assert svc["command"] == "celery worker", name
        hostnames.add(svc["hostname"])
        check = " ".join(svc["healthcheck"]["test"])
        assert "inspect ping" in check and "celery@${HOSTNAME}" in check, name
        app_module = check.split("--app ", 1)[1].split()[0].rsplit(".", 1)[0]
        assert importlib.util.find_spec(app_module) is not None, app_module
        deps = svc["depends_on"]
        for dep in ("postgres", "warehouse", "redis"):
            assert deps[dep]["condition"] == "service_healthy", (name, dep)
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert svc["volumes"] == on["services"]["airflow-scheduler"]["volumes"], name
        assert env_of(on, name) == scheduler, name
    assert hostnames == set(CELERY_WORKERS)
    # the other services wait for the broker when the profile runs it, and only then
    for name in AIRFLOW_SERVICES:
        assert on["services"][name]["depends_on"]["redis"] == {
            "condition": "service_healthy",
            "required": False,
        }, name
    # the image installs the executor and the broker client (main dependencies, not a group)
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    main = {
        re.split(r"[<>=!~\[;\s]", d, maxsplit=1)[0] for d in pyproject["project"]["dependencies"]
    }
    assert {"apache-airflow-providers-celery", "redis", "celery"} <= main


def test_no_default_credentials(raw: str) -> None:
    for m in VAR_RE.finditer(raw):
        name, op = m.group(1), m.group(2)
        if SECRET_RE.search(name) or name.startswith(("POSTGRES_", "AIRFLOW_ADMIN_")):
            assert op == ":?", f"${{{name}}} must be required (:?) with no default"
    example = read_env_example()
    for key, value in example.items():
        if SECRET_RE.search(key):
            assert value == "", f".env.example must not carry a value for {key}"
    # unchanged .env.example must not start anything: the secrets are missing
    with pytest.raises(InterpolationError):
        interpolate(raw, example)
    # and each secret on its own is required: leaving only it empty stops compose
    for key in [k for k in example if SECRET_RE.search(k)]:
        with pytest.raises(InterpolationError, match=key):
            interpolate(raw, {**filled_env(), key: ""})


def test_secrets_only_from_env(compose: dict[str, Any], raw: str) -> None:
    literal = yaml.safe_load(raw.replace("$$", "$"))  # uninterpolated values
    for name, svc in literal["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if SECRET_RE.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", str(value)), (name, key)
    conn = literal["services"]["airflow-scheduler"]["environment"][
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
    ]
    userinfo = conn.split("://", 1)[1].split("@", 1)[0]
    assert re.fullmatch(r"\$\{POSTGRES_USER:\?[^}]*\}:\$\{POSTGRES_PASSWORD:\?[^}]*\}", userinfo)
    filled = filled_env()
    assert (
        env_of(compose, "airflow-scheduler")["AIRFLOW__CORE__FERNET_KEY"]
        == filled["AIRFLOW_FERNET_KEY"]
    )


def test_every_variable_is_documented_in_env_example(raw: str) -> None:
    used = {m.group(1) for m in VAR_RE.finditer(raw)}
    declared = set(read_env_example())
    assert used - declared == set(), "add these to .env.example"
    assert declared - used == set(), ".env.example declares variables compose never uses"


def dockerfile_runs() -> list[str]:
    """The Dockerfile's RUN commands, continuation lines joined (镜像构建命令)."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    return [m.group(1) for m in re.finditer(r"^RUN\s+(.+)$", text, re.MULTILINE)]


def uv_syncs() -> list[list[str]]:
    return [shlex.split(cmd) for cmd in dockerfile_runs() if cmd.startswith("uv sync")]


def test_image_installs_from_the_lock() -> None:
    """The image installs what `make install` installs: uv.lock, frozen, with the uv release the
    Makefile pins; never `pip install` of the project (which would resolve afresh)."""
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    base = re.search(r"^FROM\s+python:(3\.\d+)-\S+$", dockerfile, re.MULTILINE)
    assert base and base.group(1) == "3.11", "the Python the lock was resolved for"
    assert re.search(r"^COPY .*\buv\.lock\b", dockerfile, re.MULTILINE)
    syncs = uv_syncs()
    assert len(syncs) >= 1
    for args in syncs:
        assert "--frozen" in args and "--no-dev" in args, args
    pips = [cmd for cmd in dockerfile_runs() if "pip install" in cmd]
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    uv_version = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    arg = re.search(r"^ARG UV_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert uv_version and arg and arg.group(1) == uv_version.group(1)
    for cmd in pips:  # only uv itself comes from pip, pinned
        assert re.search(r'pip install --no-cache-dir "uv==\$\{UV_VERSION\}"', cmd), cmd
        assert "-e" not in shlex.split(cmd), cmd
    # every group the image asks for is declared
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    groups = set(pyproject["dependency-groups"])
    for args in syncs:
        asked = {args[i + 1] for i, a in enumerate(args) if a == "--group"}
        assert asked <= groups, asked - groups
        assert "deploy" in asked, "the compose file needs the FAB auth manager and psycopg2"
    # the yearly reports print their PDF with Chromium (jixiao.reports.pdf)
    assert any("chromium" in cmd.split() for cmd in dockerfile_runs())
    assert re.search(r'^ENTRYPOINT \[.*"airflow"\]$', dockerfile, re.MULTILINE)


def test_compose_needs_what_the_deploy_group_installs(compose: dict[str, Any]) -> None:
    """The compose file's auth manager and metadata driver come from the `deploy` group."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deploy = " ".join(pyproject["dependency-groups"]["deploy"])
    env = env_of(compose, "airflow-scheduler")
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].startswith("airflow.providers.fab.")
    assert "apache-airflow-providers-fab" in deploy
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert "apache-airflow-providers-postgres" in deploy


@pytest.mark.slow
def test_the_images_install_resolves_from_the_lock(tmp_path: Path) -> None:
    """Run the Dockerfile's own `uv sync` lines (no Docker engine here) on a copy of what the
    image copies: the environment they make has the locked Airflow, the FAB auth manager, the
    PostgreSQL driver and jixiao, and none of the dev tools."""
    root = tmp_path / "jixiao"
    root.mkdir()
    for name in ("pyproject.toml", "uv.lock", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("*.pyc"))
    uv = shutil.which("uv") or str(PROJECT_ROOT / ".tools" / "uv" / "bin" / "uv")
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV"))} | {
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON": sys.executable,
    }
    for args in uv_syncs():
        done = subprocess.run(
            [uv, *args[1:]], cwd=root, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    python = venv / "bin" / "python"
    probe = (
        "import importlib.metadata as m, airflow, jixiao, psycopg2;"
        "from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager;"
        "print('VERSIONS', m.version('apache-airflow'), m.version('dbt-core'), m.version('duckdb'))"
    )
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    from importlib.metadata import version

    locked = [version(name) for name in ("apache-airflow", "dbt-core", "duckdb")]
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("VERSIONS ")]
    assert line.split()[1:] == locked
    assert not (venv / "bin" / "pytest").exists()  # --no-dev
    assert (venv / "bin" / "airflow").exists() and (venv / "bin" / "jixiao").exists()
