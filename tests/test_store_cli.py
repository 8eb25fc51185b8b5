"""The operator commands (both back ends): queue, deliveries list/retry/release/replay, trace."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys

import pytest

from gateway.cli import main
from gateway.store import DeliveryState, open_store


@pytest.fixture
def scene(store, tmp_path):
    """One central-pay file split in three: one delivered, one dead, one held."""
    path = tmp_path / "era.835"
    path.write_bytes(b"central pay 835")
    file_id = store.record_received(
        partner="pbm-a",
        remote_path="/out/era.835",
        original_name="era.835",
        size=15,
        mtime=None,
        sha256=hashlib.sha256(b"central pay 835").hexdigest(),
        payload_path=path,
    ).file.id
    ids = {}
    for ordinal, npi in enumerate(["1111111111", "2222222222", "3333333333"]):
        sha = store.put_payload(io.BytesIO(npi.encode()))
        doc = store.add_document(
            file_id, ordinal, kind="835", routing_keys={"payee_npi": npi}, payload_sha256=sha
        )
        hold = "payee NPI 3333333333 is not a member" if npi == "3333333333" else None
        ids[npi] = store.enqueue(
            doc.id, destination=f"ph-{npi[:2]}", format="835", output_name=f"{npi}.835", hold=hold
        ).id
    claim = store.claim("w1", 30)
    store.ack(claim.delivery.id, claim.token, output_sha256=sha, location="/drop/1111111111.835")
    claim = store.claim("w1", 30)
    store.fail(claim.delivery.id, claim.token, error="permission denied", retry_in=None)
    return file_id, ids


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_queue_shows_depth_and_says_when_an_operator_is_needed(scene, store_url, capsys):
    code, out = run(capsys, "queue", "--store", store_url)
    assert code == 1
    rows = {tuple(line.split()[:3]) for line in out.splitlines()}
    assert {("ph-11", "delivered", "1"), ("ph-22", "dead", "1"), ("ph-33", "held", "1")} <= rows
    assert "2 deliveries wait for an operator" in out


def test_list_retry_release_and_replay(scene, store, store_url, capsys):
    file_id, ids = scene
    dead = ids["2222222222"]
    code, out = run(capsys, "deliveries", "list", "--state", "dead", "--store", store_url)
    assert code == 0 and f"D{dead}" in out and "permission denied" in out
    assert f"D{ids['1111111111']}" not in out
    code, out = run(
        capsys,
        "deliveries",
        "retry",
        f"D{dead}",
        "--store",
        store_url,
        "--reason",
        "permissions fixed",
    )
    assert code == 0 and store.get_delivery(dead).state is DeliveryState.PENDING
    assert store.events("delivery", dead)[-1].reason == "permissions fixed"
    code, out = run(capsys, "deliveries", "retry", "--all-dead", "--store", store_url)
    assert out.strip() == "0 dead deliveries queued again"
    held = ids["3333333333"]
    code, out = run(
        capsys, "deliveries", "release", f"D{held}", "--to", "folder:/srv/ph-new", "--store",
        store_url,
    )
    assert code == 0 and store.get_delivery(held).destination == "folder:/srv/ph-new"
    code, out = run(capsys, "deliveries", "replay", f"F{file_id}", "--store", store_url)
    assert out.strip() == f"F{file_id}: 3 deliveries queued again"


def test_trace_walks_file_documents_deliveries_events(scene, store_url, capsys):
    file_id, ids = scene
    code, out = run(capsys, "trace", f"F{file_id}", "--store", store_url)
    assert code == 0
    assert (
        out.index(f"F{file_id}")
        < out.index("payee_npi=1111111111")
        < out.index(f"D{ids['1111111111']}")
        < out.index("/drop/1111111111.835")
    )
    assert "payee NPI 3333333333 is not a member" in out
    code, out = run(capsys, "trace", f"D{ids['2222222222']}", "--store", store_url)
    assert "permission denied; dead" in out and "1111111111" not in out
    code, out = run(capsys, "trace", "--pharmacy", "3333333333", "--store", store_url)
    assert f"D{ids['3333333333']}" in out and "held" in out and "2222222222" not in out
    code, out = run(capsys, "trace", "--pharmacy", "9999999999", "--store", store_url)
    assert code == 1 and "nothing recorded" in out


def test_mistakes_are_one_line_errors(store_url, tmp_path):
    def gateway(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "gateway", *argv], capture_output=True, text=True
        )

    missing = gateway("queue", "--store", f"sqlite:///{tmp_path}/nowhere.db")
    assert missing.returncode == 2 and "there is no store" in missing.stderr
    assert not (tmp_path / "nowhere.db").exists()
    open_store(store_url).close()
    unknown = gateway("deliveries", "retry", "D999", "--store", store_url)
    assert unknown.returncode == 1 and "there is no delivery 999" in unknown.stderr
    bad = gateway("trace", "X1", "--store", store_url)
    assert bad.returncode == 2 and "F7 for file 7" in bad.stderr
    for result in (missing, unknown, bad):
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
