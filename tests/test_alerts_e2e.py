"""Must show (issue 12): alerts end to end, from the real daemon to a real SMTP server and a
webhook receiver.

The daemon runs as a process over a workspace where things go wrong the way they do in
production: a truncated file (quarantined), a pharmacy missing from the roster (its part held),
a pharmacy vendor whose SFTP host key changed (a dead letter), a second PBM whose drop folder
is not there (unreachable, and its 00:00 SLA missed), and an operator's typo in a partner
file (the SIGHUP reload refused). The operator then fixes what can be fixed: releases the held
part, pins the vendor's key and retries, creates the folder, corrects the typo. Each
condition gives exactly one mail and one webhook POST, each fix one "resolved", a restart
repeats nothing, the refused reload shows on /healthz, and no message holds a patient's name,
member id or birth date from the input files.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections import Counter

import pytest
from alert_servers import SmtpServer, WebhookServer, alerts_toml, make_certificates
from daemon_support import free_port, phi_values, start_daemon, wait_for
from sshd import keygen, public_key

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.ops.demo import PBM_ID, folder_inbound, member_id, write_samples, write_workspace
from gateway.store import open_store
from gateway.store.models import DeliveryState

OPENED = {"file-quarantined", "part-held", "dead-letter", "partner-unreachable", "sla-missed",
          "reload-refused"}
RESOLVED = {"part-held", "dead-letter", "partner-unreachable", "reload-refused"}


def healthz(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return json.load(response)


def transitions(smtp: SmtpServer) -> Counter:
    """(ALERT|RESOLVED, rule) -> how many mails said it."""
    counted: Counter = Counter()
    for mail in smtp.received:
        word, rule = mail.subject.split()[2:4]
        counted[word, rule.rstrip(":")] += 1
    return counted


def posted(hook: WebhookServer) -> Counter:
    return Counter((a["transition"], a["rule"]) for b in hook.bodies for a in b["alerts"])


@pytest.fixture
def workspace(tmp_path, sshd_server, monkeypatch):
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "test-smtp-password")
    samples = write_samples(tmp_path / "pbm" / "outbound")
    (tmp_path / "pbm" / "inbound").mkdir()
    wrong = tmp_path / "known_hosts"  # pins a key the vendor's server does not have
    wrong.write_text(f"[127.0.0.1]:{sshd_server.port} "
                     f"{public_key(keygen(tmp_path / 'other_host_key')).read_text()}")
    inbox = tmp_path / "vendor" / "inbox"
    inbox.mkdir(parents=True)
    by_sftp, unknown = samples.pharmacies[0], samples.pharmacies[-1]
    destinations = {p.npi: f"folder:{tmp_path / 'ph' / member_id(p)}" for p in samples.pharmacies}
    destinations[by_sftp.npi] = f"sftp:vendor:{inbox}"
    root = tmp_path / "ws"
    port = free_port()
    config = write_workspace(root, samples, inbound=folder_inbound(tmp_path / "pbm"),
                             outbound=f'type = "folder"\npath = "{tmp_path / "pbm" / "inbound"}"\n',
                             destinations=destinations, listen=f"127.0.0.1:{port}")
    partners = root / "partners"
    (partners / "destinations" / "vendor.toml").write_text(
        'id = "vendor"\nname = "Pharmacy software vendor"\n[outbound]\n'
        f'type = "sftp"\nhost = "127.0.0.1"\nport = {sshd_server.port}\n'
        f'user = "{sshd_server.user}"\nkey_file = "{sshd_server.client_key}"\n'
        f'known_hosts = "{wrong}"\nremote_dir = "{inbox.parent}"\n')
    roster = partners / "members.csv"
    roster.write_text("".join(line for line in roster.read_text().splitlines(keepends=True)
                              if unknown.npi not in line))
    late = tmp_path / "late-pbm" / "outbound"  # not there yet: the partner is unreachable
    (partners / "pbms" / "late-pbm.toml").write_text(
        'id = "late-pbm"\nname = "A late PBM (synthetic)"\nisa_qualifier = "ZZ"\n'
        'isa_id = "LATEPBM"\nvalidation = "structure"\n\n'
        f'[inbound]\ntype = "folder"\npath = "{late}"\n\n[files]\npatterns = ["*.835"]\n\n'
        '[schedule]\ninterval = 3600\n\n[acknowledgment]\nkind = "none"\n\n'
        '[sla]\nexpected_by = "00:00"\nbusiness_days = false\n')
    certificates = make_certificates(tmp_path)
    with SmtpServer(certificates, free_port()) as smtp, WebhookServer() as hook:
        with config.open("a") as toml:
            toml.write(alerts_toml(smtp, certificates[0], hook, unreachable_polls=1))
        yield {"config": config, "port": port, "smtp": smtp, "hook": hook, "late": late,
               "wrong": wrong, "inbox": inbox, "unknown": unknown, "tmp": tmp_path,
               "inputs": sorted((tmp_path / "pbm" / "outbound").iterdir())}


def test_each_condition_mails_once_and_each_fix_once_more(workspace, sshd_server, capsys):
    w = workspace
    smtp, hook, config = w["smtp"], w["hook"], w["config"]
    url = load_settings(config).store_url
    phi = phi_values(w["inputs"])
    assert phi  # the inputs do hold patient names, member ids and birth dates
    daemon = start_daemon(config, w["tmp"] / "daemon.log")
    store = open_store(url)
    try:
        first = OPENED - {"reload-refused"}
        wait_for(lambda: {rule for _, rule in transitions(smtp)} >= first, timeout=90,
                 what=f"a mail for each of {sorted(first)}", process=daemon.process)

        bad = config.parent / "partners" / "pbms" / "typo.toml"
        bad.write_text('id = "typo"\nname = "x"\n[inbound\n')  # TOML syntax error
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: ("ALERT", "reload-refused") in transitions(smtp), timeout=30,
                 what="the reload-refused mail", process=daemon.process)
        health = healthz(w["port"])
        assert health["status"] == "degraded"
        assert any("reload refused" in reason and "typo.toml" in reason
                   for reason in health["degraded"])
        assert main(["status", "--config", str(config)]) != 0  # the operator sees the typo
        assert "typo.toml:3" in capsys.readouterr().err

        (held,) = store.list_deliveries(state=DeliveryState.HELD)
        corrected = f"folder:{w['tmp'] / 'ph' / 'corrected'}"
        assert main(["deliveries", "release", f"D{held.id}", "--destination", corrected,
                     "--store", url]) == 0
        sshd_server.write_known_hosts(w["wrong"])  # the vendor's real key pinned ...
        (letter,) = store.list_deliveries(state=DeliveryState.DEAD)
        assert main(["deliveries", "retry", f"D{letter.id}", "--store", url]) == 0  # ... retried
        w["late"].mkdir(parents=True)  # the late PBM's folder exists now (still no file)
        bad.unlink()  # the typo corrected: the next reload succeeds and polls everyone
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: {rule for word, rule in transitions(smtp) if word == "RESOLVED"}
                 >= RESOLVED, timeout=60, what=f"RESOLVED mails for {sorted(RESOLVED)}",
                 process=daemon.process)
        assert healthz(w["port"])["status"] == "ok"
        time.sleep(3)  # three more evaluations: nothing repeats
        assert daemon.stop() == 0

        restarted = start_daemon(config, w["tmp"] / "daemon-2.log")
        try:
            wait_for(lambda: healthz_ok(w["port"]), timeout=30, what="the restarted daemon",
                     process=restarted.process)
            time.sleep(3)  # evaluations after the restart: open alerts are not sent again
            assert restarted.stop() == 0
        finally:
            restarted.kill()
    finally:
        daemon.kill()
        store.close()

    expected = Counter({("ALERT", rule): 1 for rule in OPENED})
    expected.update({("RESOLVED", rule): 1 for rule in RESOLVED})
    assert transitions(smtp) == expected
    assert posted(hook) == Counter({(("opened" if word == "ALERT" else "resolved"), rule): n
                                    for (word, rule), n in expected.items()})
    assert all(mail.tls and mail.authenticated for mail in smtp.received)
    assert all(body["text"].startswith("[gateway test-gateway]") for body in hook.bodies)
    with open_store(url) as store:  # still open: the quarantine and the missed SLA
        assert {alert.rule for alert in store.alerts.open()} == OPENED - RESOLVED
    sent = [mail.text for mail in smtp.received] + [json.dumps(b) for b in hook.bodies]
    leaks = {value for value in phi for text in sent if value in text}
    assert not leaks, f"PHI in alerts: {sorted(leaks)[:5]}"
    assert PBM_ID in " ".join(sent)  # the messages do name what is wrong


def healthz_ok(port: int) -> bool:
    try:
        return healthz(port)["status"] == "ok"
    except OSError:
        return False
