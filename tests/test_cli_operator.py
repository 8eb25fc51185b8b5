"""The operator CLI, defect by defect as issue 12 found it (each test fails on the main of
that day), on a real workspace run through the real daemon (``run --once`` in process).

1. `deliveries list` showed the oldest 100, without timestamps.
2. One pharmacy's remittance could not be sent again (only a whole file replayed).
3. After a member's destination was corrected, retry and replay still went to the old one.
4. `deliveries release` without `--destination` broke the delivery (destination 'held').
5. `--destination` took any string; a relative `folder:` landed under the daemon's cwd.
6. `queue`, `deliveries` and `trace` ignored $GATEWAY_CONFIG.
7. `trace --pharmacy` had no PBM, date, amount or check/EFT filter and printed pages.
8. No command showed progress on long work.
"""

from __future__ import annotations

import hashlib
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_support import REPO, big_workspace, remittances

from gateway.cli import main
from gateway.config.members import load_roster
from gateway.config.problems import ConfigProblems
from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.ops.demo import member_id
from gateway.store import DeliveryState, open_configured


@pytest.fixture
def workspace(tmp_path):
    """Two central pays (four pharmacies) through the daemon; the last pharmacy's folder
    cannot be made, so its delivery is dead."""
    config, samples = big_workspace(tmp_path, files=2, payees=2, claims=4)
    blocked = member_id(samples.pharmacies[-1])
    (tmp_path / "blocked").write_text("not a folder\n")
    roster = tmp_path / "partners" / "members.csv"
    roster.write_text(roster.read_text().replace(
        f"folder:{tmp_path / 'pharmacies' / blocked}", f"folder:{tmp_path / 'blocked' / 'in'}"))
    Daemon(load_settings(config)).run(once=True)
    return config, samples, blocked


def store_of(config: Path):
    return open_configured(load_settings(config))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dead_delivery(config: Path):
    with store_of(config) as store:
        (dead,) = store.list_deliveries(state=DeliveryState.DEAD)
    return dead


def test_1_list_is_newest_first_with_timestamps_and_pages(workspace, capsys):
    config = workspace[0]
    with store_of(config) as store:
        ids = sorted(d.id for d in store.list_deliveries(limit=1000))
    code, out, _ = run(capsys, "deliveries", "list", "--limit", "2", "--config", str(config))
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["ID", "CREATED", "STATE"]
    assert [line.split()[0] for line in lines[1:3]] == [f"D{ids[-1]}", f"D{ids[-2]}"]
    assert lines[1].split()[1].startswith("20")  # a date in the CREATED column
    assert "--page 2" in lines[-1]
    code, out, _ = run(capsys, "deliveries", "list", "--limit", "2", "--page", "2",
                       "--state", "delivered", "--partner", "demo-pbm", "--config", str(config))
    assert code == 0 and f"D{ids[-1]}" not in out


def test_2_resend_one_pharmacys_remittance_even_delivered(workspace, capsys):
    config, samples, _ = workspace
    pharmacy = member_id(samples.pharmacies[0])
    folder = config.parent / "pharmacies" / pharmacy
    (delivered,) = folder.glob("*.835")
    with store_of(config) as store:
        (mine,) = [d for d in store.list_deliveries(state=DeliveryState.DELIVERED)
                   if d.location == str(delivered)]
    delivered.unlink()
    code, out, _ = run(capsys, "deliveries", "resend", f"D{mine.id}", "--reason", "lost it",
                       "--config", str(config))
    assert code == 0 and f"D{mine.id} queued again" in out
    with store_of(config) as store:
        assert [d.id for d in store.list_deliveries(state=DeliveryState.PENDING)] == [mine.id]
        assert store.events("delivery", mine.id)[-1].action == "resent"
    Daemon(load_settings(config)).run(once=True)
    assert delivered.is_file()  # that one file again; nobody else's


def test_3_a_corrected_roster_destination_is_used_by_retry_and_replay(workspace, capsys):
    config, samples, blocked = workspace
    dead = dead_delivery(config)
    corrected = config.parent / "corrected" / blocked
    roster = config.parent / "partners" / "members.csv"
    roster.write_text(roster.read_text().replace(
        f"folder:{config.parent / 'blocked' / 'in'}", f"folder:{corrected}"))
    code, out, _ = run(capsys, "deliveries", "retry", f"D{dead.id}", "--config", str(config))
    assert code == 0 and f"folder:{corrected}" in out
    Daemon(load_settings(config)).run(once=True)
    (arrived,) = corrected.glob("*.835")
    assert {r.payee.npi for r in remittances(arrived)} == {samples.pharmacies[-1].npi}

    arrived.unlink()
    moved = config.parent / "moved" / blocked
    roster.write_text(roster.read_text().replace(f"folder:{corrected}", f"folder:{moved}"))
    with store_of(config) as store:
        file_id = store.get_document(dead.document_id).file_id
    assert run(capsys, "deliveries", "replay", f"F{file_id}", "--config", str(config))[0] == 0
    Daemon(load_settings(config)).run(once=True)
    assert len(list(moved.glob("*.835"))) == 1 and not list(corrected.glob("*.835"))


@pytest.fixture
def held(store, tmp_path):
    """A held delivery: a part for an NPI that is not in the roster."""
    path = tmp_path / "era.835"
    path.write_bytes(b"835")
    received = store.record_received(
        partner="pbm-a", remote_path="/out/era.835", original_name="era.835", size=3,
        mtime=None, sha256=hashlib.sha256(b"835").hexdigest(), payload_path=path).file
    payload = store.put_payload(io.BytesIO(b"part"))
    doc = store.add_document(received.id, 0, kind="835-part",
                             routing_keys={"owner": "unknown:1234567893", "npi": "1234567893"},
                             payload_sha256=payload)
    return store.enqueue(doc.id, destination="held", format="835", output_name="p.835",
                         hold="provider 1234567893 is not in the member roster")


def test_4_release_without_a_destination_is_refused_not_broken(held, store, store_url, capsys):
    code, _, err = run(capsys, "deliveries", "release", f"D{held.id}", "--store", store_url)
    assert code == 2 and "no roster is loaded" in err
    after = store.get_delivery(held.id)
    assert after.state is DeliveryState.HELD and after.destination == "held"


def test_5_destinations_are_checked_like_the_roster(held, store, store_url, capsys, tmp_path):
    for bad in ("ph-new", "folder:relative/inbox", "ftp://somewhere"):
        code, _, err = run(capsys, "deliveries", "release", f"D{held.id}", "--destination", bad,
                           "--store", store_url)
        assert code == 2 and "configuration error" in err, bad
        assert store.get_delivery(held.id).state is DeliveryState.HELD
    roster = tmp_path / "members.csv"
    roster.write_text("pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats\n"
                      "P1,SYNTHETIC PHARMACY,1234567893,,,true,folder:inbox/p1,835\n")
    with pytest.raises(ConfigProblems, match="relative path"):
        load_roster(roster)
    code, _, _ = run(capsys, "deliveries", "release", f"D{held.id}", "--to",
                       "folder:/srv/pharmacies/p1", "--store", store_url)
    assert code == 0 and store.get_delivery(held.id).destination == "folder:/srv/pharmacies/p1"


def test_6_operator_commands_honour_gateway_config(workspace, tmp_path):
    config = workspace[0]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_STORE"}
    env |= {"GATEWAY_CONFIG": str(config), "PYTHONPATH": str(REPO)}
    for argv in (["queue"], ["deliveries", "list"], ["trace", "--pbm", "demo-pbm"],
                 ["files", "list"], ["partners", "list"]):
        result = subprocess.run([sys.executable, "-m", "gateway", *argv], cwd=elsewhere,
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode in (0, 1), (argv, result.stderr)
        assert (result.stderr == "" and "demo-pbm" in result.stdout) or "folder:" in result.stdout
    assert not (elsewhere / "var").exists()


def test_7_trace_finds_by_pbm_date_check_number_and_amount_in_one_line_each(workspace, capsys):
    config, samples, _ = workspace
    pharmacy = samples.pharmacies[0]
    (delivered,) = (config.parent / "pharmacies" / member_id(pharmacy)).glob("*.835")
    (remittance,) = remittances(delivered)
    trn, amount = remittance.payment.trace_number, f"{remittance.payment.amount:.2f}"
    code, out, _ = run(capsys, "trace", "--pharmacy", pharmacy.npi, "--pbm", "demo-pbm",
                       "--since", "2000-01-01", "--until", "2999-12-31", "--trace-number", trn,
                       "--amount", amount, "--config", str(config))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3  # header, the one part, the summary
    assert trn in lines[1] and amount in lines[1] and "delivered" in lines[1]
    code, out, _ = run(capsys, "trace", "--pharmacy", pharmacy.npi, "--pbm", "another-pbm",
                       "--config", str(config))
    assert code == 1 and "nothing recorded" in out
    code, out, _ = run(capsys, "trace", "--pbm", "demo-pbm", "--until", "2000-01-01",
                       "--config", str(config))
    assert code == 1


def test_8_long_work_shows_a_progress_bar_on_a_terminal_only(workspace):
    config = workspace[0]
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100", "TERM": "xterm"}
    argv = [sys.executable, "-m", "gateway", "deliveries", "retry", "--all-dead",
            "--config", str(config)]
    piped = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and piped.stderr == ""
    with store_of(config) as store:  # dead again, for the terminal run
        claim = store.claim("test", 30)
        store.fail(claim.delivery.id, claim.token, error="still blocked", retry_in=None)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=terminal,
                                 timeout=60)
        os.close(terminal)
        shown = b""
        while chunk := _read(controller):
            shown += chunk
    finally:
        os.close(controller)
    assert process.returncode == 0 and b"1 dead deliveries queued again" in process.stdout
    assert b"checking dead deliveries" in shown


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the terminal's other end is closed
        return b""
