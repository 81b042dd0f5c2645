"""`make bi`: Superset on the published marts (Superset 仪表板).

Run with Superset's own Python (``.tools/superset/bin/python``)::

    jixiao_bi.py setup [--home H]          # metadata DB, admin user, import the bundle
    jixiao_bi.py serve [--home H] [--port P]  # setup, then serve on 127.0.0.1:P

``setup`` is idempotent: it writes ``$JIXIAO_HOME/superset/secret_key`` and
``admin_password`` (generated, mode 600) on first use, upgrades the SQLite metadata
database (``superset.db``), creates the user ``admin`` if missing, runs ``superset init`` and
imports ``bi/superset/bundle/`` with the database URI pointing at
``$JIXIAO_HOME/published/jixiao.duckdb`` (read-only) through ``superset import-dashboards``;
on later runs it re-imports (overwriting the bundle's own database, datasets, charts and
dashboard) only when the bundle changed, so edits made in the UI to other objects stay.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUNDLE = HERE / "bundle"
CONFIG = HERE / "superset_config.py"
PLACEHOLDER = "__JIXIAO_PUBLISHED__"
ADMIN = "admin"


def home_of(home: str | None) -> Path:
    return Path(home or os.environ.get("JIXIAO_HOME") or ROOT / "var").resolve()


def superset_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        JIXIAO_HOME=str(home),
        JIXIAO_SUPERSET_HOME=str(home / "superset"),
        SUPERSET_CONFIG_PATH=str(CONFIG),
        FLASK_APP="superset.app:create_app()",
        SUPERSET_HOME=str(home / "superset"),
        PYTHONWARNINGS="ignore",
    )
    return env


def superset_exe() -> str:
    return str(Path(sys.executable).with_name("superset"))


def _secret(path: Path, nbytes: int) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(nbytes) + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def build_zip(home: Path) -> Path:
    """The bundle as the ZIP `superset import-dashboards` reads, with the published path."""
    published = home / "published" / "jixiao.duckdb"
    out = home / "superset" / "jixiao_dashboard.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(BUNDLE.rglob("*.yaml")):
            text = path.read_text(encoding="utf-8").replace(PLACEHOLDER, str(published))
            zf.writestr(f"jixiao_dashboard/{path.relative_to(BUNDLE).as_posix()}", text)
    return out


def _run(args: list[str], env: dict[str, str], log) -> None:
    started = time.monotonic()
    proc = subprocess.run(args, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    step = "reimport" if args[1] == __file__ else args[1]
    print(f"  superset {step}: {time.monotonic() - started:.1f} s", flush=True)
    if proc.returncode != 0:
        raise SystemExit(
            f"superset {' '.join(args[1:2])} failed (exit {proc.returncode}); see {log.name}"
        )


def setup(home: Path) -> Path:
    sup = home / "superset"
    sup.mkdir(parents=True, exist_ok=True)
    published = home / "published" / "jixiao.duckdb"
    if not published.exists():
        raise SystemExit(f"{published} does not exist: run `make demo` (or a nightly) first")
    _secret(sup / "secret_key", 42)
    password = _secret(sup / "admin_password", 18)
    env = superset_env(home)
    exe = superset_exe()
    with (sup / "setup.log").open("a", encoding="utf-8") as log:
        _run([exe, "db", "upgrade"], env, log)
        users = subprocess.run(
            [exe, "fab", "list-users"], env=env, capture_output=True, text=True, check=False
        )
        if f"username:{ADMIN}" not in users.stdout.replace(" ", ""):
            _run(
                [
                    exe,
                    "fab",
                    "create-admin",
                    "--username",
                    ADMIN,
                    "--firstname",
                    "jixiao",
                    "--lastname",
                    "admin",
                    "--email",
                    "admin@localhost",
                    "--password",
                    password,
                ],
                env,
                log,
            )
        _run([exe, "init"], env, log)
        bundle = build_zip(home)
        digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
        imported = sup / "bundle.sha256"
        if not imported.exists():
            # first import: the real CLI (databases, datasets, charts, dashboard)
            _run([exe, "import-dashboards", "--path", str(bundle), "--username", ADMIN], env, log)
        elif imported.read_text().strip() != digest:
            # a changed bundle: `import-dashboards` keeps existing charts and datasets, so
            # re-import everything of the bundle the way POST /api/v1/assets/import/ does
            _run([sys.executable, __file__, "reimport", "--home", str(home)], env, log)
        else:
            print("  bundle unchanged since its import: kept", flush=True)
        imported.write_text(digest + "\n")
    return sup / "admin_password"


def reimport(home: Path) -> None:
    """Overwrite the bundle's objects (ImportAssetsCommand, the assets import API's command)."""
    from flask import g
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.commands.importers.v1.utils import get_contents_from_bundle

        g.user = security_manager.find_user(username=ADMIN)
        with zipfile.ZipFile(build_zip(home)) as zf:
            contents = get_contents_from_bundle(zf)
        # metadata.yaml says "Dashboard"; the assets importer wants "assets"
        contents["metadata.yaml"] = contents["metadata.yaml"].replace("Dashboard", "assets")
        ImportAssetsCommand(contents).run()


def serve_args(port: int) -> list[str]:
    return [superset_exe(), "run", "--host", "127.0.0.1", "--port", str(port), "--with-threads"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "serve", "zip", "reimport"])
    parser.add_argument("--home", default=None)
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("JIXIAO_SUPERSET_PORT", 8088))
    )
    args = parser.parse_args(argv)
    home = home_of(args.home)
    if args.command == "zip":
        print(build_zip(home))
        return
    if args.command == "reimport":
        reimport(home)
        return
    print(f"Superset on {home / 'published' / 'jixiao.duckdb'} (read-only)", flush=True)
    password_file = setup(home)
    if args.command == "serve":
        print(
            f"Superset: http://127.0.0.1:{args.port}/superset/dashboard/jixiao/ "
            f"(this machine only); user {ADMIN}, password in {password_file}",
            flush=True,
        )
        os.execve(serve_args(args.port)[0], serve_args(args.port), superset_env(home))  # noqa: S606
    else:
        print(f"ready; user {ADMIN}, password in {password_file}")


if __name__ == "__main__":
    main()
