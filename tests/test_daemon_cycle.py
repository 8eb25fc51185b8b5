"""One daemon cycle (``run --once``) on local folders: the walk of DESIGN.md, checked from
the outside — the pharmacies' folders, the PBM's folders and the store's records."""

from __future__ import annotations

import os
import shutil
import time
from decimal import Decimal

import pytest
from daemon_support import outputs, payee_npis, remittances, sample

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.daemon.metrics import parse_exposition
from gateway.ops.demo import folder_workspace, member_id
from gateway.store import open_configured
from gateway.store.models import DeliveryState, FileStatus
from gateway.synth.ncpdp import SynthOptions, write_batches


@pytest.fixture
def workspace(tmp_path):
    config, samples = folder_workspace(tmp_path / "ws")
    return tmp_path / "ws", config, samples


def run_once(config) -> Daemon:
    daemon = Daemon(load_settings(config))
    assert daemon.run(once=True) == 0
    return daemon


def test_each_pharmacy_gets_exactly_its_part_once(workspace):
    root, config, samples = workspace
    daemon = run_once(config)

    pharmacies = root / "pharmacies"
    for pharmacy in samples.pharmacies:
        inbox = pharmacies / member_id(pharmacy) / "inbox"
        delivered = sorted(p for p in inbox.iterdir() if p.suffix == ".835")
        assert len(delivered) == 1, f"{member_id(pharmacy)} got {delivered}"
        assert payee_npis(delivered[0]) == {pharmacy.npi}  # its own claims, nobody else's
    # every claim of both good files arrived somewhere, and the money adds up per file
    multi = samples.by_name("era-20260105-multi.835").summary
    central = samples.by_name("era-20260105-central.835").summary
    parts = [r for p in pharmacies.rglob("*.835") for r in remittances(p)]
    assert sum(len(r.claims) for r in parts) == multi.claims + central.claims
    multi_npis = {p.npi for p in multi.pharmacies}
    assert sum((r.payment.amount for r in parts if r.payee.npi in multi_npis), Decimal(0)) == \
        sum((s.payment for s in multi.sets), Decimal(0))
    # the PBM's folder is emptied into its archive only once everything was stored
    assert not [p for p in (root / "pbm" / "outbound").iterdir() if p.is_file()]
    assert len(list((root / "pbm" / "archive").iterdir())) == len(samples.files)

    samples_by_name = {f.name: f for f in samples.files}
    store = open_configured(load_settings(config))
    files = {f.original_name: f for f in store.list_files()}
    assert {n: f.status for n, f in files.items()} == {
        "era-20260105-multi.835": FileStatus.ROUTED,
        "era-20260105-central.835": FileStatus.ROUTED,
        "era-20260105-resent.835": FileStatus.DUPLICATE,
        "era-20260105-broken.835": FileStatus.QUARANTINED,
    }
    assert samples_by_name.keys() == files.keys()
    assert store.deliveries_of_file(files["era-20260105-resent.835"].id) == []

    metrics = parse_exposition(daemon.metrics.exposition().decode())
    assert sample(metrics, "gateway_files_received_total", partner="demo-pbm",
                  outcome="accepted") == 3
    assert sample(metrics, "gateway_files_received_total", partner="demo-pbm",
                  outcome="duplicate") == 1
    assert sample(metrics, "gateway_files_quarantined_total", partner="demo-pbm",
                  code="truncated") == 1
    delivered = store.list_deliveries(state=DeliveryState.DELIVERED, limit=1000)
    assert sum(v for (name, _), v in metrics.items()
               if name == "gateway_deliveries_completed_total") == len(delivered)
    assert sample(metrics, "gateway_deliveries", state="delivered") == len(delivered)
    store.close()


def test_a_broken_file_is_kept_refused_and_answered(workspace):
    root, config, _ = workspace
    original = (root / "pbm" / "outbound" / "era-20260105-broken.835").read_bytes()
    run_once(config)
    store = open_configured(load_settings(config))
    (broken,) = [f for f in store.list_files() if f.status is FileStatus.QUARANTINED]
    assert broken.error.startswith("truncated: ")
    assert "era-20260105-broken.835" in broken.error and "segment" in broken.error
    with store.open_payload(broken.sha256) as kept:
        assert kept.read() == original  # nothing lost: the exact bytes stay in the store
    assert [e.action for e in store.events("file", broken.id)][-1:] != []
    ack = root / "pbm" / "inbound" / f"era-20260105-broken.835.{broken.id}.999"
    text = ack.read_text()
    assert "AK1*HP*103*005010X221A1" in text  # answers the broken file's group
    assert "AK9*R*" in text  # rejected
    assert "TA1*" in ack.with_suffix(".ta1").read_text()  # the envelope is answered too
    accepted = [p for p in (root / "pbm" / "inbound").iterdir()
                if p != ack and p.suffix != ".ta1"]
    assert len(accepted) == 2 and all("AK9*A*" in p.read_text() for p in accepted)
    store.close()


def test_a_second_cycle_changes_nothing_and_a_resent_file_is_a_duplicate(workspace):
    root, config, _ = workspace
    run_once(config)
    before = outputs(root / "pharmacies")
    # the PBM sends the multi file again under a new name: recorded, not delivered again
    shutil.copyfile(root / "pbm" / "archive" / "era-20260105-multi.835",
                    root / "pbm" / "outbound" / "era-20260106-again.835")
    run_once(config)
    assert outputs(root / "pharmacies") == before
    store = open_configured(load_settings(config))
    again = [f for f in store.list_files() if f.original_name == "era-20260106-again.835"]
    assert again[0].status is FileStatus.DUPLICATE
    store.close()


def test_ncpdp_files_join_the_walk(tmp_path):
    """A partner dropping NCPDP claim batches: each transmission is recorded under the
    pharmacy that sent it (201-B1), a broken batch is quarantined, and no 999 is sent for
    NCPDP (acknowledgments answer X12 only)."""
    root = tmp_path / "ws"
    config, _ = folder_workspace(root)
    outbound = root / "pbm" / "outbound"
    for file in outbound.iterdir():
        file.unlink()
    pbm = root / "partners" / "pbms" / "demo-pbm.toml"
    pbm.write_text(pbm.read_text().replace('patterns = ["*.835"]', 'patterns = ["*.dat"]'))
    with (outbound / "claims.dat").open("wb") as requests, \
            (tmp_path / "responses.dat").open("wb") as responses:
        details = write_batches(SynthOptions(seed=5, transmissions=6), requests, responses)
    good = (outbound / "claims.dat").read_bytes()
    (outbound / "claims-cut.dat").write_bytes(good[: len(good) // 2])
    run_once(config)
    store = open_configured(load_settings(config))
    files = {f.original_name: f for f in store.list_files()}
    assert files["claims.dat"].status is FileStatus.ROUTED
    assert files["claims-cut.dat"].status is FileStatus.QUARANTINED
    documents = store.documents_of_file(files["claims.dat"].id)
    assert len(documents) == details
    assert {d.kind for d in documents} == {"ncpdp-request"}
    # 202-B2 = 01: 201-B1 is the pharmacy's NPI, kept under the roster's "npi" key
    assert {tuple(d.routing_keys) for d in documents} == {("npi",)}
    (pharmacy,) = {d.routing_keys["npi"] for d in documents}
    assert len(store.documents_with_key(pharmacy)) == details
    assert not any((root / "pbm" / "inbound").iterdir())
    store.close()


def test_a_start_sweeps_old_temp_files_but_not_fresh_ones(workspace):
    _, config, _ = workspace
    work = load_settings(config).work_dir
    work.mkdir(parents=True)
    stale, fresh = work / ".fetch-crashed.part", work / ".fetch-running.part"
    for path in (stale, fresh):
        path.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    run_once(config)
    assert not stale.exists() and fresh.exists()


def test_a_partner_asking_for_ta1_gets_ta1(workspace):
    root, config, _ = workspace
    pbm = root / "partners" / "pbms" / "demo-pbm.toml"
    pbm.write_text(pbm.read_text().replace('kind = "999"', 'kind = "ta1"'))
    run_once(config)
    acks = {p.name.split(".835.")[0]: p.read_text() for p in (root / "pbm" / "inbound").iterdir()}
    assert sorted(acks) == ["era-20260105-broken", "era-20260105-central", "era-20260105-multi"]
    assert all(name.endswith(".ta1") for name in os.listdir(root / "pbm" / "inbound"))
    assert "TA1*000000103*" in acks["era-20260105-broken"]
    assert "*R*" in acks["era-20260105-broken"].split("TA1*")[1]  # TA104 rejected
    assert "*A*000" in acks["era-20260105-multi"]  # TA104 accepted, TA105 no error
