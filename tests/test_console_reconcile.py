"""The console's reconciliation pages on the real daemon: the demo's claims and remittances
routed by a daemon cycle (which fills the claims ledger), then ``gateway run`` serving the
console. The page, the report downloads and the JSON API answer what ``gateway reconcile``
answers (one service behind both); a viewer may not see claim-level money; the members page
links each pharmacy's reconciliation, and the report page renders in Chromium with its chart."""

from __future__ import annotations

import csv
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require
from console_support import ARTIFACTS, BROWSER_ARGS
from daemon_support import free_port, start_daemon, wait_for
from playwright.sync_api import sync_playwright

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.ops.demo import folder_workspace
from gateway.ops.demo_claims import add_claims_partner
from gateway.service import Accounts
from gateway.store import open_configured
from gateway.store.operator_models import Role

CHROMIUM = Path("/usr/bin/chromium")
PASSWORDS = {"olga": "operator passphrase two", "vera": "viewer passphrase one"}
PERIOD = {"from": "2025-12-01", "to": "2026-01-31", "as_of": "2026-01-31"}


class Site:
    def __init__(self, url: str, config: Path, pharmacy: str) -> None:
        self.url, self.config, self.pharmacy = url, config, pharmacy

    def query(self) -> str:
        return urllib.parse.urlencode({"pharmacy": self.pharmacy, **PERIOD})


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("recon-console")
    config, samples = folder_workspace(root)
    add_claims_partner(root, samples)
    assert Daemon(load_settings(config)).run(once=True) == 0  # routes and fills the ledger
    port = free_port()
    config.write_text(config.read_text().replace(
        '[console]\nlisten = "off"', f'[console]\nlisten = "127.0.0.1:{port}"'))
    with open_configured(load_settings(config)) as store:
        accounts = Accounts(store, actor="operator:test")
        accounts.add("olga", PASSWORDS["olga"], Role.OPERATOR)
        accounts.add("vera", PASSWORDS["vera"], Role.VIEWER)
    with (root / "partners" / "members.csv").open() as handle:
        pharmacy = next(csv.DictReader(handle))["pharmacy_id"]
    daemon = start_daemon(config, root / "daemon.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(url), timeout=60, what="the console", process=daemon.process)
        yield Site(url, config, pharmacy)
    finally:
        daemon.stop()


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/login", timeout=2):
            return True
    except OSError:
        return False


def signed_in(url: str, user: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{url}/login").read().decode()
    token = re.search(r'name="login_csrf" value="([^"]+)"', form)[1]
    body = {"username": user, "password": PASSWORDS[user], "login_csrf": token, "next": "/"}
    opener.open(f"{url}/login", urllib.parse.urlencode(body).encode())
    return opener


def _status(opener: urllib.request.OpenerDirector, url: str) -> int:
    try:
        with opener.open(url) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_page_report_and_api_answer_what_the_cli_answers(site, tmp_path):
    out = tmp_path / "cli.json"
    assert main(["reconcile", "--config", str(site.config), "--pharmacy", site.pharmacy,
                 "--from", PERIOD["from"], "--to", PERIOD["to"], "--as-of", PERIOD["as_of"],
                 "--format", "json", "--out", str(out)]) == 0
    expected = json.loads(out.read_text())
    assert expected["outcomes"]["short-paid"]["count"] >= 1  # the demo has a short payment

    opener = signed_in(site.url, "olga")
    api = json.load(opener.open(f"{site.url}/api/reconcile?{site.query()}"))
    assert api == expected
    downloaded = json.load(opener.open(f"{site.url}/reconcile/report.json?{site.query()}"))
    assert downloaded == expected
    rows = list(csv.DictReader(opener.open(f"{site.url}/reconcile/report.csv?{site.query()}")
                               .read().decode().splitlines()))
    assert len([r for r in rows if r["outcome"] != "unmatched-payment"]) == expected["claims"]

    page = opener.open(f"{site.url}/reconcile?{site.query()}").read().decode()
    assert f'id="claims">{expected["claims"]}<' in page
    short = expected["outcomes"]["short-paid"]
    assert f"<td>short-paid</td><td>{short['count']}</td>" in page
    members = opener.open(f"{site.url}/members").read().decode()
    assert f'href="/reconcile?pharmacy={site.pharmacy}"' in members


def test_a_viewer_sees_no_claim_money(site):
    viewer = signed_in(site.url, "vera")
    for path in ("/reconcile", f"/reconcile?{site.query()}", f"/api/reconcile?{site.query()}",
                 f"/reconcile/report.csv?{site.query()}"):
        assert _status(viewer, site.url + path) == 403, path
    assert "/reconcile" not in viewer.open(f"{site.url}/members").read().decode()


def test_a_bad_period_is_a_clear_refusal(site):
    opener = signed_in(site.url, "olga")
    backwards = urllib.parse.urlencode({"pharmacy": site.pharmacy, "from": "2026-02-01",
                                        "to": "2026-01-01"})
    try:
        opener.open(f"{site.url}/api/reconcile?{backwards}")
        raise AssertionError("a period that ends before it starts was answered")
    except urllib.error.HTTPError as refused:
        assert refused.code == 422
        assert "before it starts" in refused.read().decode()


def test_the_report_page_renders_in_chromium_with_its_chart(site):
    require(CHROMIUM.is_file(), f"Debian's chromium ({CHROMIUM})", "apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_context(base_url=site.url).new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto("/login")
            page.fill("input[name=username]", "olga")
            page.fill("input[name=password]", PASSWORDS["olga"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{site.url}/")
            page.click("nav >> text=Reconciliation")
            page.fill("input[name=pharmacy]", site.pharmacy)
            for name, value in PERIOD.items():
                page.fill(f"input[name={name}]", value)
            page.click("button:has-text('Reconcile')")
            page.wait_for_selector("#outcomes")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "reconcile.png"), full_page=True)
            page.click("#report-html")
            page.wait_for_selector("svg")
            assert "Totals" in page.inner_text("body")
            assert errors == []
        finally:
            browser.close()
