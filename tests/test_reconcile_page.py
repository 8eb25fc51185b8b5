"""The HTML report in a real browser: Debian's Chromium driven by Playwright (never
`playwright install`), offline. The page must show the totals and both charts and log no
console error; its screenshot is kept under tests/artifacts/ (printed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import REPO, require
from playwright.sync_api import sync_playwright
from recon_support import load_scenario

from gateway.reconcile.documents import build_report
from gateway.reconcile.ledgers import open_ledger
from gateway.store import open_store
from gateway.synth.recon import ReconSpec

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture
def chromium():
    require(Path(CHROMIUM).is_file() and shutil.which(CHROMIUM) is not None,
            f"Chromium ({CHROMIUM})", "apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def test_html_report_renders_totals_and_charts_in_chromium(chromium, tmp_path):
    with open_store(f"sqlite:///{tmp_path}/gateway.db") as store, open_ledger(store) as ledger:
        loaded = load_scenario(store, ledger, ReconSpec(seed=4, claims=150, weeks=5),
                               tmp_path / "scenario")
        pharmacy = loaded.roster.by_id("PH00001")
        report = build_report(ledger, loaded.scope(pharmacy.pharmacy_id), loaded.config)
    page_file = tmp_path / "report.html"
    page_file.write_bytes(report.render("html"))
    report.close()
    summary = report.summary

    page = chromium.new_page(viewport={"width": 1200, "height": 1600})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("file:")
            else None)
    page.goto(page_file.as_uri())
    totals = page.inner_text("#totals")
    assert f"{summary.claims:,}" in totals
    expected = sum(t.expected for n, t in summary.by_outcome.items()
                   if n != "unmatched-payment")
    assert f"{expected:,.2f}" in totals
    for chart, title in (("#chart-aging", "Unpaid claims by age"),
                         ("#chart-dir-fees", "DIR and fees by PBM")):
        svg = page.locator(f"{chart} svg")
        assert svg.count() == 1
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100
        assert title in page.inner_text(chart)
    assert "pbm-beta" in page.inner_text("#chart-dir-fees")
    assert errors == [] and outside == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "reconcile-report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
