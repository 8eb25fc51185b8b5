"""End to end: a real OpenSSH sshd plays the PBM, the daemon runs as a subprocess.

The PBM's outbound folder holds a multi-ST central pay, a single-ST central pay paid to the
PSAO, the first file again under another name, and a truncated file. Member pharmacies are
local folders, except one that receives over SFTP; a pharmacy claims switch drops an NCPDP
batch (with patient names, birth dates and cardholder ids) into a folder beside it. We check
from the outside: each pharmacy has exactly its part, once; the broken file is quarantined
with its reason and a rejecting 999 lands in the PBM's inbound folder; /metrics agrees with
what we counted ourselves; the daemon stops cleanly on SIGTERM; and no log line carries a
patient name, member or cardholder id, birth date or Rx number from any input file.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest
from daemon_support import (
    free_port,
    healthy,
    payee_npis,
    phi_values,
    sample,
    scrape,
    start_daemon,
    wait_for,
)
from sshd import keygen, public_key

from gateway.config.settings import load_settings
from gateway.ncpdp.reader import parse_file as read_ncpdp
from gateway.ops.demo import PBM_ID, member_id, write_samples, write_workspace
from gateway.store import open_configured
from gateway.store.models import FileStatus
from gateway.synth.ncpdp import SynthOptions, write_batches
from gateway.synth.x12_835 import Spec, write_835_file

SFTP_DESTINATION = "pharmacy-sftp"


@pytest.fixture
def pbm(sshd_server, tmp_path):
    """The PBM's side on the sshd host, and a workspace whose PBM and one pharmacy are SFTP."""
    remote = tmp_path / "pbm"
    for folder in ("outbound", "archive", "inbound"):
        (remote / folder).mkdir(parents=True)
    samples = write_samples(remote / "outbound")
    inputs = {p.name: p.read_bytes() for p in (remote / "outbound").iterdir()}
    known_hosts = sshd_server.write_known_hosts(tmp_path / "known_hosts")
    login = (f'host = "127.0.0.1"\nport = {sshd_server.port}\nuser = "{sshd_server.user}"\n'
             f'key_file = "{sshd_server.client_key}"\nknown_hosts = "{known_hosts}"\n')
    inbound = (f'type = "sftp"\n{login}remote_dir = "{remote / "outbound"}"\n'
               f'after_fetch = "archive"\narchive_dir = "{remote / "archive"}"\n')
    outbound = f'type = "sftp"\n{login}remote_dir = "{remote / "inbound"}"\n'
    root = tmp_path / "ws"
    sftp_inbox = tmp_path / "sftp-pharmacy" / "inbox"
    sftp_inbox.mkdir(parents=True)
    by_sftp = samples.pharmacies[1]
    destinations = {p.npi: f"folder:{root / 'pharmacies' / member_id(p) / 'inbox'}"
                    for p in samples.pharmacies}
    destinations[by_sftp.npi] = f"sftp:{SFTP_DESTINATION}:{sftp_inbox}"
    port = free_port()
    config = write_workspace(root, samples, inbound=inbound, outbound=outbound,
                             destinations=destinations, listen=f"127.0.0.1:{port}")
    (root / "partners" / "destinations" / f"{SFTP_DESTINATION}.toml").write_text(
        f'id = "{SFTP_DESTINATION}"\nname = "A pharmacy vendor SFTP"\n'
        f'[outbound]\ntype = "sftp"\n{login}remote_dir = "{sftp_inbox.parent}"\n')
    return {"root": root, "config": config, "samples": samples, "remote": remote, "port": port,
            "inputs": inputs, "sftp_inbox": sftp_inbox, "by_sftp": by_sftp,
            "known_hosts": known_hosts}


def inbox_of(pbm, pharmacy) -> Path:
    if pharmacy is pbm["by_sftp"]:
        return pbm["sftp_inbox"]
    return pbm["root"] / "pharmacies" / member_id(pharmacy) / "inbox"


def add_claims_switch(root: Path, drop: Path) -> tuple[Path, int]:
    """A second partner: a pharmacy switch dropping NCPDP claim batches in a local folder.
    Returns the batch and its number of transmissions."""
    drop.mkdir(parents=True)
    with (drop / "claims-20260115.dat").open("wb") as requests, \
            (drop.parent / "responses.dat").open("wb") as responses:
        details = write_batches(SynthOptions(seed=3, transmissions=8), requests, responses)
    (root / "partners" / "pbms" / "switch.toml").write_text(
        'id = "switch"\nname = "Pharmacy claims switch"\n[inbound]\ntype = "folder"\n'
        f'path = "{drop}"\nafter_fetch = "delete"\nsettle_seconds = 0.2\n'
        '[files]\npatterns = ["*.dat"]\n[schedule]\ninterval = 10\n')
    return drop / "claims-20260115.dat", details


def ncpdp_phi(path: Path) -> set[str]:
    """Patient names, birth dates (as sent and as ISO dates), cardholder ids in a batch."""
    values: set[str] = set()
    with path.open("rb") as stream:
        for claim in read_ncpdp(stream):
            patient, insurance = claim.patient, claim.insurance
            if patient is not None:
                values |= {patient.first_name or "", patient.last_name or ""}
                if patient.date_of_birth:
                    values |= {patient.date_of_birth.strftime("%Y%m%d"),
                               patient.date_of_birth.isoformat()}
            if insurance is not None:
                values.add(insurance.cardholder_id or "")
    return {v for v in values if len(v) >= 5}


def test_daemon_end_to_end_over_sftp(pbm, tmp_path):
    samples, remote, port = pbm["samples"], pbm["remote"], pbm["port"]
    claims, transmissions = add_claims_switch(pbm["root"], tmp_path / "switch-drop")
    claims_phi = ncpdp_phi(claims)
    started = time.time()
    daemon = start_daemon(pbm["config"], tmp_path / "daemon.log")
    try:
        wait_for(lambda: healthy(port), timeout=30, what="/healthz", process=daemon.process)

        def settled() -> bool:
            landed = all(any(inbox_of(pbm, p).glob("*.835")) for p in samples.pharmacies)
            acks = len(list((remote / "inbound").glob("*.999"))) == 3
            return (landed and acks and not any((remote / "outbound").iterdir())
                    and not any(claims.parent.iterdir()))

        wait_for(settled, timeout=60, what="every pharmacy's part and 3 acks",
                 process=daemon.process)
        time.sleep(0.5)  # let the workers record their acks before we scrape
        metrics = scrape(port)
        code = daemon.stop(timeout=30)
    finally:
        daemon.kill()
    assert code == 0, daemon.log_lines()[-20:]

    # Every pharmacy has exactly its part, once (the SFTP one included).
    delivered = 0
    for pharmacy in samples.pharmacies:
        files = [p for p in inbox_of(pbm, pharmacy).iterdir() if not p.name.startswith(".")]
        assert len(files) == 1, f"{member_id(pharmacy)}: {files}"
        assert payee_npis(files[0]) == {pharmacy.npi}
        delivered += 1
    assert not list(pbm["sftp_inbox"].glob("*.part"))

    # The PBM's files were all taken, archived byte for byte, never left half-done.
    archived = {p.name: p.read_bytes() for p in (remote / "archive").iterdir()}
    assert sorted(archived.values()) == sorted(pbm["inputs"].values())

    # The broken file: quarantined with its reason, a rejecting 999 in the PBM's inbound.
    store = open_configured(load_settings(pbm["config"]))
    status = {f.original_name: f for f in store.list_files()}
    broken = status["era-20260105-broken.835"]
    assert broken.status is FileStatus.QUARANTINED and broken.error.startswith("truncated")
    assert status["era-20260105-resent.835"].status is FileStatus.DUPLICATE
    rejection = (remote / "inbound" / f"era-20260105-broken.835.{broken.id}.999").read_text()
    assert "AK9*R*" in rejection
    store.close()

    # /metrics says what we counted.
    assert sample(metrics, "gateway_files_received_total", partner=PBM_ID,
                  outcome="accepted") == 3
    assert sample(metrics, "gateway_files_received_total", partner=PBM_ID,
                  outcome="duplicate") == 1
    assert sample(metrics, "gateway_files_quarantined_total", partner=PBM_ID,
                  code="truncated") == 1
    assert sample(metrics, "gateway_documents_total", partner=PBM_ID, format="835") == \
        len(samples.by_name("era-20260105-multi.835").summary.sets) + 1
    # + three 999s and the truncated file's TA1
    assert sample(metrics, "gateway_deliveries", state="delivered") == delivered + 4
    completed = sum(v for (n, _), v in metrics.items()
                    if n == "gateway_deliveries_completed_total")
    assert completed == delivered + 4
    assert sample(metrics, "gateway_files_received_total", partner="switch",
                  outcome="accepted") == 1
    assert sample(metrics, "gateway_documents_total", partner="switch",
                  format="ncpdp-request") == transmissions
    assert sample(metrics, "gateway_dead_letters_total") == 0
    assert all(v == 0 for (n, _), v in metrics.items() if n == "gateway_queue_depth")
    last_poll = sample(metrics, "gateway_last_successful_poll_timestamp_seconds",
                       partner=PBM_ID)
    assert started <= last_poll <= time.time()

    # No PHI in any log line: names, member ids and Rx numbers of the inputs.
    lines = daemon.log_lines()
    assert len(lines) > 10
    phi = phi_values([remote / "archive" / n for n in archived])
    phi |= rx_numbers([remote / "archive" / n for n in archived])
    assert len(phi) > 20 and len(claims_phi) > 10
    phi |= claims_phi
    leaks = [(value, line) for line in lines for value in phi
             if value in set(re.findall(r"[A-Za-z0-9]+", line))]
    assert not leaks, leaks[:3]


def rx_numbers(paths: list[Path]) -> set[str]:
    """CLP01 (the prescription number): claim content, never to be logged."""
    found = set()
    for path in paths:
        text = path.read_bytes().decode("latin-1")
        for segment in text.split(text[105]):
            fields = segment.strip().split(text[3])
            if fields[0] == "CLP":
                found.add(fields[1])
    return found


def test_sighup_reloads_members_and_sigterm_stops_cleanly(pbm, tmp_path):
    """A bad roster edit is refused (the daemon keeps running on the old one); a good one —
    a new member and a file for it — is picked up at once after SIGHUP."""
    remote, root = pbm["remote"], pbm["root"]
    daemon = start_daemon(pbm["config"], tmp_path / "daemon.log")
    try:
        wait_for(lambda: len(list((remote / "inbound").glob("*.999"))) == 3,
                 timeout=60, what="the first files", process=daemon.process)
        roster = root / "partners" / "members.csv"
        good = roster.read_text()
        roster.write_text(good.replace(",true,", ",TRUE-TYPO,", 1))
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: any("reload refused" in line for line in daemon.log_lines()),
                 timeout=20, what="a refused reload", process=daemon.process)
        assert healthy(pbm["port"])

        newcomer = write_835_file(str(remote / "outbound" / "era-20260106-new.835"),
                                  Spec(payees=1, claims=5, seed=14,
                                       interchange_control_number=104)).pharmacies[0]
        inbox = root / "pharmacies" / "newcomer"
        roster.write_text(good + f"NEW-1,{newcomer.name},{newcomer.npi},{newcomer.ncpdp_id},"
                          f"{newcomer.tin},true,folder:{inbox},835\n")
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: any(inbox.glob("*.835")), timeout=30, what="the new member's file",
                 process=daemon.process)
        assert payee_npis(next(inbox.glob("*.835"))) == {newcomer.npi}
        stopped_at = time.monotonic()
        assert daemon.stop(timeout=30) == 0
        assert time.monotonic() - stopped_at < 15
    finally:
        daemon.kill()


def test_an_unreachable_pbm_never_stops_the_daemon(pbm, sshd_server, tmp_path):
    """The PBM's host key does not match what we pinned: every poll fails (counted; logged
    once, with the offered fingerprint), the daemon stays healthy and delivers nothing; once the
    operator pins the right key and reloads, the files flow."""
    known_hosts, port = pbm["known_hosts"], pbm["port"]
    other = keygen(tmp_path / "other_host_key")
    known_hosts.write_text(f"[127.0.0.1]:{sshd_server.port} {public_key(other).read_text()}")
    daemon = start_daemon(pbm["config"], tmp_path / "daemon.log")
    try:
        wait_for(lambda: healthy(port) and sample(scrape(port), "gateway_polls_total",
                                                  partner=PBM_ID, outcome="failed") >= 1,
                 timeout=30, what="a failed poll", process=daemon.process)
        failure = next(e for e in daemon.events() if e.get("event") == "outage began")
        assert failure["subject"] == f"partner:{PBM_ID}" and "SHA256:" in failure["reason"]
        assert len(list((pbm["remote"] / "outbound").iterdir())) == len(pbm["inputs"])
        sshd_server.write_known_hosts(known_hosts)
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: len(list((pbm["remote"] / "inbound").glob("*.999"))) == 3,
                 timeout=60, what="the files after the fix", process=daemon.process)
        assert daemon.stop() == 0
    finally:
        daemon.kill()
