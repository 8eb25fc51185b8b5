"""The console in a real browser (Debian's chromium through Playwright) against the real
daemon: sign in, find a pharmacy's remittance by its TRN02 and resend it, redirect a dead
letter to a corrected folder, pause a partner and see polling stop — and a viewer or a POST
without the CSRF token can do none of it. Screenshots of the dashboard and a file page are
kept in tests/artifacts/console/ (gitignored)."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require
from console_support import ARTIFACTS, BROWSER_ARGS, PASSWORDS, Console, running_console
from daemon_support import phi_values, remittances, wait_for
from playwright.sync_api import sync_playwright

from gateway.store.models import DeliveryState
from gateway.synth.x12_835 import Spec, write_835_file

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with running_console(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(CHROMIUM.is_file(), f"Debian's chromium ({CHROMIUM})", "apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield launched
        launched.close()


def signed_in(browser, console: Console, user: str):
    context = browser.new_context(base_url=console.url)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("button[type=submit]")
    page.wait_for_url(f"{console.url}/")
    return page


def test_find_a_remittance_by_trn02_open_it_and_resend_it(browser, console):
    pharmacy = console.samples.pharmacies[0].pharmacy_id
    (delivered,) = [p for p in console.folder(pharmacy).iterdir() if p.suffix == ".835"]
    original = delivered.read_bytes()
    (remittance,) = remittances(delivered)
    trace_number = remittance.payment.trace_number
    page = signed_in(browser, console, "olga")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert "Dead letters" in page.inner_text("main")

    page.goto("/files")
    page.fill("input[name=trace_number]", trace_number)
    page.click("text=Search")
    rows = page.locator("#files tr").all()[1:]
    assert len(rows) == 1 and trace_number in rows[0].inner_text()
    rows[0].locator("a").click()
    page.wait_for_selector("h1:has-text('File F')")
    page.screenshot(path=str(ARTIFACTS / "file.png"), full_page=True)
    part = page.locator("table.parts tr", has_text=trace_number)
    assert pharmacy in part.inner_text() and "delivered" in part.inner_text()

    delivered.unlink()
    part.locator("button:has-text('Resend')").click()
    assert "queued again" in page.inner_text(".notice")
    wait_for(delivered.exists, timeout=30, what="the resent 835 in the pharmacy's folder",
             process=console.daemon.process)
    assert delivered.read_bytes() == original
    with console.store() as store:
        (listing,) = [d for d in store.list_deliveries(state=DeliveryState.DELIVERED)
                      if d.location and Path(d.location) == delivered]
        resent = [e for e in store.events("delivery", listing.id) if e.action == "resent"]
    assert resent and resent[-1].actor == "console:olga"


def test_redirect_a_dead_letter_to_a_corrected_folder(browser, console):
    corrected = console.root / "corrected" / "inbox"
    page = signed_in(browser, console, "olga")
    page.goto("/deliveries?state=dead")
    rows = page.locator("#deliveries tr").all()[1:]
    assert len(rows) == 1 and "blocked" in rows[0].inner_text()
    rows[0].locator("a").first.click()
    page.fill("#redirect-to", f"folder:{corrected}")
    page.click("#redirect")
    assert "queued for" in page.inner_text(".notice")
    wait_for(lambda: corrected.is_dir() and any(corrected.glob("*.835")), timeout=30,
             what="the redirected 835", process=console.daemon.process)
    (arrived,) = corrected.glob("*.835")
    assert {r.payee.npi for r in remittances(arrived)} == {console.samples.pharmacies[-1].npi}
    page.reload()
    assert page.inner_text("#state") == "delivered"
    assert page.inner_text("#destination") == f"folder:{corrected}"


def test_pause_a_partner_and_polling_stops(browser, console):
    page = signed_in(browser, console, "olga")
    page.goto("/partners")
    page.fill("#partners input[name=reason]", "the PBM migrates its SFTP tonight")
    page.click("text=Pause demo-pbm")
    assert "paused" in page.inner_text(".notice")
    with console.store() as store:
        before = len(store.list_files(limit=1000))
    outbound = console.root / "pbm" / "outbound"
    write_835_file(str(outbound / "era-50-late.835"),
                   Spec(payees=2, claims=4, seed=50, interchange_control_number=650))
    mark = len(console.daemon.log_lines())
    console.daemon.signal(signal.SIGHUP)  # a reload polls every (unpaused) partner at once
    wait_for(lambda: any("configuration reloaded" in line
                         for line in console.daemon.log_lines()[mark:]),
             timeout=20, what="the reload", process=console.daemon.process)
    time.sleep(3)  # three main-loop cycles: a poll would have happened
    assert not any("poll done" in line for line in console.daemon.log_lines()[mark:])
    with console.store() as store:
        assert len(store.list_files(limit=1000)) == before

    page.click("text=Resume demo-pbm")
    assert "resumed" in page.inner_text(".notice")
    console.daemon.signal(signal.SIGHUP)

    def received() -> bool:
        with console.store() as store:
            return len(store.list_files(limit=1000)) == before + 1

    wait_for(received, timeout=30, what="the file, once resumed", process=console.daemon.process)


def test_viewer_is_refused_every_action_and_a_post_needs_the_csrf_token(browser, console):
    page = signed_in(browser, console, "vera")
    with console.store() as store:
        delivery = store.list_deliveries(state=DeliveryState.DELIVERED)[0]
        state_before = store.get_delivery(delivery.id)
    page.goto(f"/deliveries/{delivery.id}")
    assert page.locator("#resend").count() == 0  # no action offered to a viewer
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for action, form in ((f"deliveries/{delivery.id}/resend", {}),
                         (f"deliveries/{delivery.id}/redirect", {"to": "folder:/srv/x"}),
                         (f"deliveries/{delivery.id}/release", {}),
                         ("deliveries/retry-dead", {}), ("partners/demo-pbm/pause", {})):
        answer = page.request.post(f"/{action}", form={"csrf_token": csrf, **form})
        assert answer.status == 403, action
        assert "operator role" in answer.text()
    api = page.request.post(f"/api/deliveries/{delivery.id}/resend",
                            data={"reason": "x"}, headers={"X-CSRF-Token": csrf})
    assert api.status == 403

    operator = signed_in(browser, console, "olga")
    missing = operator.request.post(f"/deliveries/{delivery.id}/resend", form={"reason": "x"})
    assert missing.status == 403 and "CSRF" in missing.text()
    forged = operator.request.post("/partners/demo-pbm/pause", form={"csrf_token": csrf})
    assert forged.status == 403  # another session's token is no token
    with console.store() as store:
        assert store.get_delivery(delivery.id) == state_before
        assert store.partner_pauses() == {}


def test_no_patient_data_on_list_pages_nor_for_a_viewer(browser, console):
    inputs = [p for p in (console.root / "pbm").rglob("*.835")]
    phi = phi_values(inputs)
    assert phi  # the scan has something to look for
    viewer = signed_in(browser, console, "vera")
    for path in ("/", "/files", "/deliveries", "/partners", "/members", "/files/1"):
        viewer.goto(path)
        text = viewer.content()
        assert not [value for value in phi if value in text], path
    assert "Raw bytes" not in viewer.content()
    operator = signed_in(browser, console, "olga")
    operator.goto("/files/1")
    assert "Raw bytes" in operator.content()
    assert any(value in operator.content() for value in phi)  # claim detail, operators only


def teardown_module() -> None:
    if not any(ARTIFACTS.glob("*.png")):
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
