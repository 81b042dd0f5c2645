"""One PostgreSQL server on 127.0.0.1 for a test session (测试用 PostgreSQL 服务器).

Debian's ``postgresql`` package (``.ci/run`` installs it), initialised in a /tmp/jixiao-pg-*
dir of its own (removed afterwards) and listening on 127.0.0.1 on a free port only, run as the
``postgres`` OS user when the tests run as root (initdb and the server refuse root), stopped at
the end. tests/e2e/conftest.py makes it the session fixture ``postgres_server``, shared by the
PostgreSQL warehouse test, the nightly on PostgreSQL and the Celery nightly; each of them
works in a database of its own (:func:`create_database`).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jixiao.warehouse import postgres
from tests.e2e.net import free_port

PG_USER = "jixiao"
PG_DB = "jixiao"


def _pg_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, else the newest /usr/lib/postgresql/<v>/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    assert versions, f"PostgreSQL's {name} is not installed (.ci/run installs postgresql)"
    return str(versions[-1])


@dataclass
class PostgresServer:
    port: int
    password: str
    data_dir: Path
    timings: dict[str, float] = field(default_factory=dict)

    def env(self, dbname: str = PG_DB) -> dict[str, str]:
        """The environment jixiao and dbt's ``postgres`` target read (profiles.yml), on
        database ``dbname``."""
        return {
            "JIXIAO_WAREHOUSE": "postgres",
            "JIXIAO_PG_HOST": "127.0.0.1",
            "JIXIAO_PG_PORT": str(self.port),
            "JIXIAO_PG_USER": PG_USER,
            "JIXIAO_PG_PASSWORD": self.password,
            "JIXIAO_PG_DBNAME": dbname,
        }

    def address(self, dbname: str = PG_DB) -> postgres.PostgresAddress:
        return postgres.PostgresAddress("127.0.0.1", self.port, PG_USER, self.password, dbname)


def _as_server_user(args: list[str]) -> list[str]:
    """Run a server program as ``postgres`` when we are root (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _let_server_user_in(path: Path) -> dict[Path, int]:
    """As root, pytest's tmp dirs are 0700: give ``postgres`` traverse rights (x, not read) on
    the folders above its data dir and hand it the dir; return the modes to restore."""
    changed: dict[Path, int] = {}
    if os.geteuid() != 0:
        return changed
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            changed[parent] = stat.S_IMODE(mode)
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
    shutil.chown(path, "postgres", "postgres")
    return changed


@contextmanager
def running_postgres_server() -> Iterator[PostgresServer]:
    """initdb + pg_ctl start on 127.0.0.1:<free port> (C collation: DuckDB orders text by its
    bytes, so must the server), password login (scram), a ``jixiao`` database; stopped after
    the session. fsync is off: a test server's data is thrown away."""
    started = time.monotonic()
    # not under pytest's basetemp: another pytest session starting meanwhile resets
    # /tmp/pytest-of-<user> to 0700 and the server (another OS user) loses its data dir
    server_dir = Path(tempfile.mkdtemp(prefix="jixiao-pg-"))
    restore = _let_server_user_in(server_dir)
    password = os.urandom(12).hex()
    pwfile = server_dir / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(pwfile, "postgres", "postgres")
    data = server_dir / "data"
    log = server_dir / "server.log"
    subprocess.run(
        _as_server_user(
            [
                _pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                PG_USER,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ]
        ),
        check=True,
        capture_output=True,
    )
    pwfile.unlink()
    port = free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={server_dir}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    pg_ctl = _pg_bin("pg_ctl")
    proc = subprocess.run(
        _as_server_user(
            [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"]
        ),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        server_log = log.read_text(encoding="utf-8") if log.exists() else ""
        raise AssertionError(f"PostgreSQL did not start:\n{proc.stderr}\n{server_log[-4000:]}")
    server = PostgresServer(port=port, password=password, data_dir=data)
    try:
        import psycopg2

        con = psycopg2.connect(**server.address("postgres").dsn())
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"create database {PG_DB}")
        con.close()
        server.timings["server_start_seconds"] = round(time.monotonic() - started, 2)
        yield server
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        for folder, mode in restore.items():
            folder.chmod(mode)
        shutil.rmtree(server_dir, ignore_errors=True)


def create_database(server: PostgresServer, name: str) -> None:
    """``create database <name>`` on the server (the C collation of the cluster)."""
    with postgres.connect(server.address("postgres")) as con:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"create database {name}")
