"""`make airflow` / `jixiao airflow`: the UI listens on 127.0.0.1 unless told otherwise, and says
where the generated admin password is (本地 Airflow 的地址与密码)."""

from __future__ import annotations

import pytest

from jixiao.cli.airflow_cmd import standalone_banner
from jixiao.config import Settings
from jixiao.orchestration import PASSWORDS_FILE, airflow_env, api_address

AIRFLOW_KEYS = (
    "AIRFLOW__API__HOST",
    "AIRFLOW__API__PORT",
    "AIRFLOW__API__BASE_URL",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
    "JIXIAO_AIRFLOW_HOST",
    "JIXIAO_AIRFLOW_PORT",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in AIRFLOW_KEYS:
        monkeypatch.delenv(key, raising=False)


def test_loopback_by_default(settings: Settings) -> None:
    env = airflow_env(settings)
    assert (env["AIRFLOW__API__HOST"], env["AIRFLOW__API__PORT"]) == ("127.0.0.1", "8080")
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:8080"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"
    passwords = settings.home / "airflow" / PASSWORDS_FILE
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(passwords)
    banner = standalone_banner(env)
    assert "http://127.0.0.1:8080" in banner and str(passwords) in banner
    assert "仅本机" in banner and "this machine only" in banner


def test_the_operator_opens_it_to_the_network(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIXIAO_AIRFLOW_HOST", "0.0.0.0")  # noqa: S104 - the setting under test
    monkeypatch.setenv("JIXIAO_AIRFLOW_PORT", "18080")
    env = airflow_env(settings)
    assert env["AIRFLOW__API__HOST"] == "0.0.0.0"  # noqa: S104
    assert env["AIRFLOW__API__PORT"] == "18080"
    # the browser's address is unknown: no base URL; tasks still reach the API locally
    assert "AIRFLOW__API__BASE_URL" not in env
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert "reachable from the network" in standalone_banner(env)


def test_airflow_settings_already_given_win(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__API__HOST", "10.1.2.3")
    monkeypatch.setenv("AIRFLOW__API__PORT", "9090")
    env = airflow_env(settings)
    assert (env["AIRFLOW__API__HOST"], env["AIRFLOW__API__PORT"]) == ("10.1.2.3", "9090")


@pytest.mark.parametrize("port", ["0", "65536", "http", "-1"])
def test_a_bad_port_is_a_clear_error(port: str) -> None:
    with pytest.raises(ValueError, match=r"JIXIAO_AIRFLOW_PORT.*不是有效端口.*is not a port"):
        api_address({"JIXIAO_AIRFLOW_PORT": port})
