"""The stewards' quality report in a real browser (质量报告浏览器测试).

Headless Chromium opens the generated ``quality/index.html``; the page must log no severe
console errors, load no external resource, and show the figures we put in the warehouse.
A screenshot lands in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from jixiao.quality.gates import QualityGateFailed, run_gate
from jixiao.quality.report import build_quality_report
from tests.integration.quality import quality_data as data

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        reason = "headless Chromium not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--window-size=1366,900",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def kpi(driver, key: str) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.ID, f"kpi-{key}").text)


def test_report_in_headless_chromium(settings, browser):
    from selenium.webdriver.common.by import By

    raw = data.merge(
        data.good_raw(),
        data.superseded_bad_raw(),
        {
            "rejected_rows": [
                data._row(
                    "rejected_rows",
                    row_number=13,
                    cell_ref="E13",
                    reason_code="bad_unit",
                    expected="元 或 万元 / 元 or 万元",
                )
            ],
        },
    )
    marts = data.merge(data.good_marts(), data.uncovered_budget())
    data.create_marts(settings.warehouse, raw, marts)
    quarantine = settings.quarantine / ("b" * 64)
    quarantine.mkdir(parents=True)
    (quarantine / "x.xlsx").write_bytes(b"PK kept bytes")
    # point the quarantined load_log row at the kept file
    import duckdb

    con = duckdb.connect(str(settings.warehouse))
    con.execute(
        "update raw.load_log set quarantine_path = ? where status = 'quarantined'",
        [str(quarantine / "x.xlsx")],
    )
    con.close()

    assert run_gate("raw", settings).success
    with pytest.raises(QualityGateFailed):
        run_gate("marts", settings)
    index = build_quality_report(settings)

    browser.get(index.as_uri())
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "quality_report.png"))
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    browser.save_screenshot(str(ARTIFACTS / "quality_report_bottom.png"))

    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe
    requested = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    urls = {
        m["params"]["request"]["url"]
        for m in requested
        if m["method"] == "Network.requestWillBeSent"
    }
    assert all(u.startswith("file://") for u in urls), urls

    load_log = raw["load_log"]
    assert kpi(browser, "received") == len(load_log)
    assert kpi(browser, "loaded") == sum(r["status"] == "loaded" for r in load_log)
    assert kpi(browser, "quarantined") == sum(r["status"] == "quarantined" for r in load_log)
    assert kpi(browser, "superseded") == len(data.superseded_bad_raw()["submissions"])
    assert kpi(browser, "rejected_rows") == len(raw["rejected_rows"])
    assert kpi(browser, "review_flags") == len(marts["mart_review_flags"])
    assert kpi(browser, "critical_failures") == 1  # the budget without evaluation or flag

    rejected = browser.find_element(By.ID, "rejected-table").text
    assert "E13" in rejected and "元 或 万元" in rejected
    link = browser.find_element(By.CSS_SELECTOR, "#quarantine-table a")
    assert (index.parent / link.get_attribute("href").split("quality/")[-1]).exists() or Path(
        link.get_attribute("href").removeprefix("file://")
    ).exists()
    failing = browser.find_element(By.CSS_SELECTOR, 'tr[data-suite="marts__budget_coverage"]')
    assert "失败" in failing.text
    docs = browser.find_element(By.ID, "data-docs-link").get_attribute("href")
    assert Path(docs.removeprefix("file://")).is_file()
    svg_bars = browser.find_elements(By.CSS_SELECTOR, "#trend-chart rect.bar-files")
    assert len(svg_bars) >= 1
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 1366  # no horizontal scrolling on a laptop screen


def test_report_without_warehouse_or_marts(settings, browser):
    from selenium.webdriver.common.by import By

    index = build_quality_report(settings)  # nothing ingested yet
    browser.get(index.as_uri())
    assert kpi(browser, "received") == 0
    assert "no warehouse yet" in browser.find_element(By.TAG_NAME, "header").text

    data.create_raw(settings.warehouse, {})  # raw schema, empty tables, no marts
    index = build_quality_report(settings)
    browser.get(index.as_uri())
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert "marts not built yet" in browser.find_element(By.ID, "flags").text
    assert kpi(browser, "rejected_rows") == 0
