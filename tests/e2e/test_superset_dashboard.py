"""The jixiao dashboard in a real Apache Superset (Superset 仪表板端到端测试).

One night on the demo workbooks publishes ``published/jixiao.duckdb``; Superset 6.1 (its own
venv, ``.tools/superset``, installed here by ``make`` when missing: an install failure fails
the test) is set up ONCE for the module the way ``make bi`` does it (``bi/superset/jixiao_bi.py
setup``: SQLite metadata, admin user with a generated password, ``superset import-dashboards``
of ``bi/superset/bundle``) and served on 127.0.0.1 on a free port. Then:

- the database is the published file, opened read-only; every dataset column has a Chinese
  verbose name;
- every chart of the dashboard answers its data API (``/api/v1/chart/<id>/data/``) with rows,
  and the execution rate of 江门 2023 is Σ spent / Σ final budget, equal to the mart's figure;
- headless Chromium logs in, opens the dashboard, every chart renders (no error in the DOM)
  and the screenshot (``test-artifacts/superset_dashboard.png``) is not blank.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest

from jixiao.config import PROJECT_ROOT, Settings
from tests.e2e.net import free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(1500)]

SUPERSET_VENV = PROJECT_ROOT / ".tools" / "superset"
STAMP = SUPERSET_VENV / ".installed"
BI = PROJECT_ROOT / "bi" / "superset" / "jixiao_bi.py"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CJK = re.compile(r"[\u4e00-\u9fff]")
JM_DEPT = "江门市政务服务数据管理局"
N_CHARTS = 8


@dataclass
class Superset:
    base: str
    password: str
    home: Path
    startup_seconds: float

    def call(self, path: str, data: Any = None, token: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers)  # noqa: S310 - loopback
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310 - loopback
                return json.load(resp)
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{path}: HTTP {exc.code} {exc.read()[:2000]!r}") from exc

    def token(self) -> str:
        login = {"username": "admin", "password": self.password, "provider": "db"}
        return str(self.call("/api/v1/security/login", login)["access_token"])


def _superset_python() -> Path:
    """Superset's venv, installed by make's own rule when missing (never skipped)."""
    if not STAMP.exists():
        make = shutil.which("make")
        assert make, "make is needed to install Superset (.tools/superset)"
        proc = subprocess.run(
            [make, str(STAMP)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1200
        )
        assert proc.returncode == 0, f"Superset install failed:\n{proc.stdout}\n{proc.stderr}"
    python = SUPERSET_VENV / "bin" / "python"
    assert python.exists(), python
    return python


@pytest.fixture(scope="module")
def night(published_demo: Settings) -> Settings:
    """The demo workbooks through one night, published (tests/conftest.py, shared)."""
    return published_demo


@pytest.fixture(scope="module")
def superset(night: Settings) -> Iterator[Superset]:
    python = _superset_python()
    home = night.home
    started = time.monotonic()
    setup = subprocess.run(
        [str(python), str(BI), "setup", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = home / "superset" / "setup.log"
    assert setup.returncode == 0, (
        setup.stdout + setup.stderr + (log.read_text()[-6000:] if log.exists() else "")
    )
    port = free_port()
    sys_path = str(python.parent)
    env = {
        **os.environ,
        "JIXIAO_HOME": str(home),
        "JIXIAO_SUPERSET_HOME": str(home / "superset"),
        "SUPERSET_CONFIG_PATH": str(BI.with_name("superset_config.py")),
        "FLASK_APP": "superset.app:create_app()",
        "PATH": sys_path + os.pathsep + os.environ.get("PATH", ""),
    }
    server_log = (home / "superset" / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(python.with_name("superset")),
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--with-threads",
        ],
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (home / "superset" / "server.log").read_text()[-6000:]
            try:
                with urllib.request.urlopen(base + "/health", timeout=5) as resp:  # noqa: S310
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "Superset did not answer /health in 180 s"
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        print(f"Superset set up and serving in {elapsed:.1f} s ({setup.stdout.strip()})")
        password = (home / "superset" / "admin_password").read_text().strip()
        yield Superset(base, password, home, elapsed)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        server_log.close()


def test_committed_bundle_is_what_the_spec_generates(tmp_path: Path) -> None:
    """bi/superset/bundle is dashboard_spec.py's output on today's dbt yml and seeds."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "dashboard_spec", BI.with_name("dashboard_spec.py")
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.generate(tmp_path / "bundle")
    committed = BI.with_name("bundle")

    def tree(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.yaml")}

    assert tree(fresh) == tree(committed), "run .venv/bin/python bi/superset/dashboard_spec.py"


def _dashboard_charts(superset: Superset, token: str) -> list[dict[str, Any]]:
    charts = superset.call("/api/v1/dashboard/jixiao/charts", token=token)["result"]
    return sorted(charts, key=lambda c: c["id"])


def test_database_is_the_published_file_read_only(superset: Superset, night: Settings) -> None:
    token = superset.token()
    dbs = superset.call("/api/v1/database/?q=(page_size:100)", token=token)["result"]
    assert len(dbs) == 1
    db = superset.call(f"/api/v1/database/{dbs[0]['id']}/connection", token=token)["result"]
    assert db["sqlalchemy_uri"] == f"duckdb:///{night.published}"
    extra = json.loads(db["extra"]) if isinstance(db["extra"], str) else db["extra"]
    assert extra["engine_params"] == {"connect_args": {"read_only": True}}

    datasets = superset.call("/api/v1/dataset/?q=(page_size:100)", token=token)["result"]
    assert len(datasets) == 6
    for ds in datasets:
        full = superset.call(f"/api/v1/dataset/{ds['id']}", token=token)["result"]
        unnamed = [
            c["column_name"] for c in full["columns"] if not CJK.search(c["verbose_name"] or "")
        ]
        assert unnamed == [], (ds["table_name"], unnamed)
        assert all(CJK.search(m["verbose_name"] or "") for m in full["metrics"]), full["metrics"]


def test_every_chart_returns_rows_and_the_rates_are_ratios_of_sums(
    superset: Superset, night: Settings
) -> None:
    token = superset.token()
    charts = _dashboard_charts(superset, token)
    assert len(charts) == N_CHARTS, [c["slice_name"] for c in charts]
    results: dict[str, list[dict[str, Any]]] = {}
    for chart in charts:
        data = superset.call(f"/api/v1/chart/{chart['id']}/data/", token=token)
        rows = data["result"][0]["data"]
        assert data["result"][0]["rowcount"] > 0 and rows, chart["slice_name"]
        results[chart["slice_name"]] = rows

    table = next(rows for name, rows in results.items() if name.startswith("部门年度执行与得分"))
    jm = next(r for r in table if r["department_name"] == JM_DEPT and r["fiscal_year"] == 2023)
    con = duckdb.connect(str(night.published), read_only=True)
    try:
        mart = con.execute(
            "select execution_rate, spent_yuan, final_budget_yuan, avg_recomputed_score "
            "from marts.mart_department_year where department_name = ? and fiscal_year = 2023",
            [JM_DEPT],
        ).fetchone()
    finally:
        con.close()
    assert mart is not None
    rate, spent, final, score = mart
    assert jm["spent_total"] == pytest.approx(float(spent), abs=0.005)
    assert jm["final_budget_total"] == pytest.approx(float(final), abs=0.005)
    assert jm["execution_rate"] == pytest.approx(float(spent) / float(final), rel=1e-12)
    assert Decimal(str(round(jm["execution_rate"], 6))) == rate  # the mart's DECIMAL(12,6)
    assert round(jm["average_score"], 2) == float(score)  # 97.86, seed 002
    for row in table:  # every rate shown is Σ spent / Σ final budget, never a mean of rates
        assert row["execution_rate"] == pytest.approx(
            row["spent_total"] / row["final_budget_total"], rel=1e-12
        )
    flags = next(rows for name, rows in results.items() if name.startswith("复核问题数"))
    assert sum(r["review_flag_count"] for r in flags) > 0


def test_dashboard_screenshot_in_headless_chromium(superset: Superset) -> None:
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    assert chromium and chromedriver, "apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1600,2500",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    try:
        wait = WebDriverWait(driver, 120)
        driver.get(superset.base + "/login/")
        wait.until(lambda d: d.find_elements(By.ID, "username"))
        driver.find_element(By.ID, "username").send_keys("admin")
        driver.find_element(By.ID, "password").send_keys(superset.password, Keys.ENTER)
        wait.until(lambda d: "/login" not in d.current_url)
        driver.get(superset.base + "/superset/dashboard/jixiao/?standalone=1")
        rendered = ".dashboard-component-chart-holder :is(canvas, table)"
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rendered)) >= N_CHARTS)
        time.sleep(2)  # let the charts' entry animations finish
        holders = driver.find_elements(By.CSS_SELECTOR, ".dashboard-component-chart-holder")
        assert len(holders) == N_CHARTS
        text = driver.find_element(By.TAG_NAME, "body").text
        assert "error" not in text.lower() and "错误" not in text, text[:3000]
        assert "预算执行率" in text and JM_DEPT in text
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "superset_dashboard.png"
        driver.save_screenshot(str(shot))
    finally:
        driver.quit()

    image = Image.open(shot).convert("RGB")
    small = image.resize((image.width // 4, image.height // 4))
    Counts = list[tuple[int, tuple[int, int, int]]]
    counts = cast(Counts, small.getcolors(small.width * small.height) or [])
    total = small.width * small.height
    non_white = sum(n for n, rgb in counts if min(rgb) < 235) / total
    colours = {(r // 16, g // 16, b // 16) for _, (r, g, b) in counts}
    assert non_white > 0.08, non_white
    assert len(colours) > 60, len(colours)


def test_setup_again_reimports_a_changed_bundle(superset: Superset) -> None:
    """`make bi` again after the bundle changed: overwritten in place, nothing duplicated."""
    (superset.home / "superset" / "bundle.sha256").write_text("an older bundle\n")
    again = subprocess.run(
        [str(_superset_python()), str(BI), "setup", "--home", str(superset.home)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "superset reimport" in again.stdout and "create-admin" not in again.stdout
    token = superset.token()
    assert len(_dashboard_charts(superset, token)) == N_CHARTS
    dashboards = superset.call("/api/v1/dashboard/?q=(page_size:100)", token=token)["result"]
    assert [d["slug"] for d in dashboards] == ["jixiao"]
    charts = superset.call("/api/v1/chart/?q=(page_size:100)", token=token)["result"]
    assert len(charts) == N_CHARTS
