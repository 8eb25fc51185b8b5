"""The operator store and service on both back ends: searches newest first with filters,
resend and redirect (and what they refuse), partner pauses, accounts and sessions."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import UTC, datetime, timedelta

import pytest

from gateway.cli import main
from gateway.errors import ConfigError, StoreError
from gateway.service import Accounts, Operations, Queries
from gateway.store import DeliveryState
from gateway.store.models import FileStatus
from gateway.store.operator import DeliveryQuery, FileQuery
from gateway.store.operator_models import Role


def received(store, tmp_path, name: str, partner: str = "pbm-a"):
    path = tmp_path / name
    path.write_bytes(name.encode())
    return store.record_received(
        partner=partner, remote_path=f"/out/{name}", original_name=name, size=len(name),
        mtime=None, sha256=hashlib.sha256(name.encode()).hexdigest(), payload_path=path).file


def part(store, file_id: int, ordinal: int, pharmacy: str, trn: str, amount: str):
    sha = store.put_payload(io.BytesIO(f"{file_id}-{ordinal}".encode()))
    doc = store.add_document(file_id, ordinal, kind="835-part", payload_sha256=sha,
                             routing_keys={"pharmacy_id": pharmacy, "trace_number": trn,
                                           "amount": amount, "owner": f"member:{pharmacy}"})
    return store.enqueue(doc.id, destination=f"folder:/srv/{pharmacy}", format="835",
                         output_name=f"{pharmacy}.835")


@pytest.fixture
def scene(store, tmp_path):
    a = received(store, tmp_path, "a.835")
    b = received(store, tmp_path, "b.835", partner="pbm-b")
    deliveries = [part(store, a.id, 0, "P1", "TRN-A1", "10.00"),
                  part(store, a.id, 1, "P2", "TRN-A2", "20.50"),
                  part(store, b.id, 0, "P1", "TRN-B1", "30.00")]
    return a, b, deliveries


def test_searches_filter_and_page_newest_first(scene, store):
    a, b, deliveries = scene
    queries = Queries(store)
    assert [r.file.id for r in queries.files(FileQuery()).items] == [b.id, a.id]
    assert [r.file.id for r in queries.files(FileQuery(pharmacy="P2")).items] == [a.id]
    assert [r.file.id for r in queries.files(FileQuery(trace_number="TRN-B1")).items] == [b.id]
    assert [r.file.id for r in queries.files(FileQuery(amount="20.50")).items] == [a.id]
    assert queries.files(FileQuery(partner="pbm-b", pharmacy="P2")).items == []
    row = queries.files(FileQuery(partner="pbm-a")).items[0]
    assert row.trace_numbers == ("TRN-A1", "TRN-A2") and str(row.amount) == "30.50"
    later = datetime.now(UTC) + timedelta(hours=1)
    assert queries.files(FileQuery(since=later)).items == []
    page = queries.deliveries(DeliveryQuery(), limit=2)
    assert [x.delivery.id for x in page.items] == [deliveries[2].id, deliveries[1].id]
    assert page.has_more and page.items[0].partner == "pbm-b"
    rest = queries.deliveries(DeliveryQuery(), offset=2, limit=2)
    assert [x.delivery.id for x in rest.items] == [deliveries[0].id] and not rest.has_more
    mine = queries.deliveries(DeliveryQuery(pharmacy="P1", partner="pbm-a")).items
    assert [x.delivery.id for x in mine] == [deliveries[0].id]
    assert store.last_documents_by_pharmacy()["P1"].document.file_id == b.id
    counts = {(c.partner, c.status): c.count for c in store.file_counts()}
    assert counts == {("pbm-a", FileStatus.RECEIVED): 1, ("pbm-b", FileStatus.RECEIVED): 1}


def test_resend_and_redirect_are_audited_and_refuse_what_is_in_flight(scene, store):
    deliveries = scene[2]
    ops = Operations(store, actor="console:olga")
    claim = store.claim("w", 30)
    with pytest.raises(StoreError, match="leased"):
        ops.resend(claim.delivery.id)
    store.ack(claim.delivery.id, claim.token, output_sha256="0" * 64, location="/srv/P1/P1.835")
    again = ops.resend(claim.delivery.id, "pharmacy lost it")
    assert again.state is DeliveryState.PENDING and again.attempts == 0
    event = store.events("delivery", again.id)[-1]
    assert (event.action, event.actor) == ("resent", "console:olga")
    assert "was delivered" in event.reason and "pharmacy lost it" in event.reason
    moved = ops.redirect(deliveries[1].id, "folder:/srv/corrected")
    assert moved.destination == "folder:/srv/corrected"
    assert store.events("delivery", moved.id)[-1].action == "redirected"
    with pytest.raises(ConfigError, match="relative"):
        ops.redirect(deliveries[1].id, "folder:here")
    with pytest.raises(ConfigError, match="no roster"):
        ops.redirect(deliveries[1].id, "P2")


def test_pauses_are_kept_and_audited(store):
    ops = Operations(store, actor="operator:root")
    ops.pause_partner("pbm-a", "their SFTP moves")
    assert store.partner_pauses()["pbm-a"].paused_by == "operator:root"
    with pytest.raises(StoreError, match="paused already"):
        ops.pause_partner("pbm-a")
    assert ops.resume_partner("pbm-a") and not ops.resume_partner("pbm-a")
    assert [e.action for e in store.events("partner", "pbm-a")] == ["paused", "resumed"]


def test_accounts_sessions_and_their_end(store):
    accounts = Accounts(store, actor="operator:root")
    with pytest.raises(ConfigError, match="at least 12"):
        accounts.add("olga", "short", Role.OPERATOR)
    user = accounts.add("olga", "a long enough passphrase", Role.OPERATOR)
    assert user.password_hash.startswith("$argon2id$") and "passphrase" not in user.password_hash
    assert accounts.authenticate("olga", "wrong passphrase!!") is None
    assert accounts.authenticate("nobody", "a long enough passphrase") is None
    assert accounts.authenticate("olga", "a long enough passphrase").role is Role.OPERATOR
    store.add_session("a" * 64, "olga", "csrf")
    assert store.touch_session("a" * 64, idle_seconds=60, max_seconds=3600).user_name == "olga"
    time.sleep(1.1)
    assert store.touch_session("a" * 64, idle_seconds=1, max_seconds=3600) is None  # idle
    store.add_session("b" * 64, "olga", "csrf")
    accounts.disable("olga")  # ends every session of the user
    assert store.touch_session("b" * 64, idle_seconds=60, max_seconds=3600) is None
    assert accounts.authenticate("olga", "a long enough passphrase") is None
    actions = [e.reason for e in store.events("user", "olga")]
    assert actions[0] == "role operator" and "disabled" in actions[-1]


def test_users_command_reads_the_password_from_stdin(store, store_url, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert main(["users", "add", "vera", "--role", "viewer", "--password-stdin",
                 "--store", store_url]) == 0
    assert main(["users", "list", "--store", store_url]) == 0
    out = capsys.readouterr().out
    assert "vera" in out and "viewer" in out and "correct horse" not in out
