"""The nightly DAG pulls the departments' workbooks from a real SFTP server (OpenSSH's sshd on
127.0.0.1, a test key, one folder per department) through the Airflow SFTP provider: both
departments' files are pulled and loaded once, a second night pulls nothing new, and with one
source down the other still loads (拉取，真实 SFTP 服务器)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from jixiao import runs
from jixiao.samples.demo import build_demo_inbox
from tests.e2e.net import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
XF = "新丰县政务服务数据管理局_2023_项目支出绩效自评表.xlsx"
JM = "江门市政务服务数据管理局_2023_指标评分表.xlsx"
MTIME = 1_701_000_000.0  # when the departments saved their files (2023-11-26)


@dataclass
class Sshd:
    port: int
    key_file: Path
    root: Path

    def conn(self, port: int | None = None) -> str:
        """An Airflow connection (JSON form) for this server, as AIRFLOW_CONN_<ID> takes it."""
        return json.dumps(
            {
                "conn_type": "sftp",
                "host": "127.0.0.1",
                "port": port or self.port,
                "login": os.environ.get("USER") or "root",
                "extra": {"key_file": str(self.key_file), "no_host_key_check": True},
            }
        )


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    """sshd on 127.0.0.1 with its own host key and an authorized test key (no passwords)."""
    assert Path(SSHD).exists(), "openssh-server is not installed (.ci/run installs it)"
    d = tmp_path / "sshd"
    d.mkdir()
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True
        )
    shutil.copyfile(d / "client_key.pub", d / "authorized_keys")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\n"
        f"PidFile {d / 'sshd.pid'}\nAuthorizedKeysFile {d / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        "Subsystem sftp internal-sftp\nLogLevel ERROR\n",
        encoding="utf-8",
    )
    log = (d / "sshd.log").open("wb")
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((d / "sshd.log").read_text()) from None
            time.sleep(0.2)
    try:
        yield Sshd(port, d / "client_key", tmp_path / "srv")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _departments(sshd: Sshd, tmp_path: Path) -> dict[str, Path]:
    """Each department's folder on the server with its workbooks, saved at MTIME."""
    samples = {p.name: p for p in build_demo_inbox(tmp_path / "samples")}
    folders = {"xinfeng": sshd.root / "xinfeng", "jiangmen": sshd.root / "jiangmen"}
    for key, name in (("xinfeng", XF), ("jiangmen", JM)):
        folders[key].mkdir(parents=True)
        target = folders[key] / name
        shutil.copyfile(samples[name], target)
        os.utime(target, (MTIME, MTIME))
    (folders["jiangmen"] / "请勿读取.txt").write_text("not a workbook", encoding="utf-8")
    return folders


def _sources(home: Path, folders: dict[str, Path]) -> None:
    (home / "sources.yml").write_text(
        "sources:\n"
        f"  - {{name: 新丰县政务服务数据管理局, kind: sftp, conn_id: sftp_xinfeng,"
        f" path: '{folders['xinfeng']}'}}\n"
        f"  - {{name: 江门市政务服务数据管理局, kind: sftp, conn_id: sftp_jiangmen,"
        f" path: '{folders['jiangmen']}'}}\n",
        encoding="utf-8",
    )


def _loaded(rig) -> list[tuple[str, str, datetime]]:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(rig.settings.warehouse), read_only=True)
    try:
        return con.execute(
            "select file_name, status, received_at from raw.load_log order by file_name, loaded_at"
        ).fetchall()
    finally:
        con.close()


def _pull_stage(rig) -> dict:  # type: ignore[no-untyped-def, type-arg]
    run = runs.latest_run(rig.settings)
    (row,) = [r for r in runs.stage_rows(run) if r["stage"] == "pull"]
    return row


def test_nightly_pulls_each_department_once(rig, sshd: Sshd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folders = _departments(sshd, tmp_path)
    _sources(rig.settings.home, folders)
    env = {"AIRFLOW_CONN_SFTP_XINFENG": sshd.conn(), "AIRFLOW_CONN_SFTP_JIANGMEN": sshd.conn()}
    first = rig.run("jixiao_nightly", **env)
    assert first["state"] == "success", first["log"][-6000:]
    assert first["tasks"]["pull"] == "success"
    loaded = _loaded(rig)
    assert [(name, status) for name, status, _ in loaded] == [(XF, "loaded"), (JM, "loaded")]
    # the ingest saw the department's own save time, not the time of the transfer
    saved = datetime.fromtimestamp(MTIME, UTC).replace(tzinfo=None)
    assert all(abs((at - saved).total_seconds()) < 1 for _, _, at in loaded), loaded
    assert sorted(p.name for p in rig.settings.inbox.iterdir()) == sorted([XF, JM])
    assert "2 个来源、拉取 2 个文件、失败 0 个来源" in _pull_stage(rig)["summary"]
    # nothing at the source was moved or deleted
    assert sorted(p.name for p in folders["jiangmen"].iterdir()) == sorted([JM, "请勿读取.txt"])

    second = rig.run("jixiao_nightly", **env)
    assert second["state"] == "success", second["log"][-6000:]
    assert "拉取 0 个文件" in _pull_stage(rig)["summary"]
    assert _loaded(rig) == loaded  # loaded exactly once
    assert second["tasks"]["dbt_build"] == "skipped"  # a night with nothing new does nothing


def test_one_source_down_the_other_still_loads(rig, sshd: Sshd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folders = _departments(sshd, tmp_path)
    _sources(rig.settings.home, folders)
    env = {
        "AIRFLOW_CONN_SFTP_XINFENG": sshd.conn(),
        "AIRFLOW_CONN_SFTP_JIANGMEN": sshd.conn(port=free_port()),  # nobody listens there
    }
    result = rig.run("jixiao_nightly", **env)
    assert result["state"] == "success", result["log"][-6000:]
    assert [(n, s) for n, s, _ in _loaded(rig)] == [(XF, "loaded")]
    stage = _pull_stage(rig)
    assert stage["status"] == runs.WARNING
    assert "江门市政务服务数据管理局" in stage["summary"] and "失败 1 个来源" in stage["summary"]
    report = (rig.settings.quality / "index.html").read_text(encoding="utf-8")
    assert 'data-stage="pull" data-status="warning"' in report
