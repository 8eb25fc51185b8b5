"""The alert engine on both store back ends, with the real SMTP (STARTTLS + AUTH) and webhook
servers of alert_servers.py: one message per transition, none repeated, a digest past the
hourly limit, a failing channel that keeps its notices, and rules that say no more than ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from alert_servers import SmtpServer, WebhookServer, alerts_toml, make_certificates
from daemon_support import free_port

from gateway.alerts import engine as engine_module
from gateway.alerts import rules
from gateway.alerts.engine import AlertEngine
from gateway.config import alerting
from gateway.config.settings import load_settings
from gateway.errors import ConfigError
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus


@pytest.fixture
def servers(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "test-smtp-password")
    certificates = make_certificates(tmp_path)
    with SmtpServer(certificates, free_port()) as smtp, WebhookServer() as hook:
        yield smtp, hook, certificates[0]


def engine_for(tmp_path: Path, servers, **extra: object) -> AlertEngine:
    smtp, hook, ca = servers
    config = tmp_path / "gateway.toml"
    config.write_text(alerts_toml(smtp, ca, hook, **extra))
    return AlertEngine(load_settings(config).alerts, holder="test")


def received_file(store: MessageStore, tmp_path: Path, n: int) -> int:
    payload = tmp_path / f"in-{n}.835"
    payload.write_bytes(f"ISA file {n}".encode())
    sha = hashlib.sha256(payload.read_bytes()).hexdigest()
    receipt = store.record_received(partner="pbm-a", remote_path=f"/out/{n}",
                                    original_name=f"DOE JOHN {n}.835", size=payload.stat().st_size,
                                    mtime=None, sha256=sha, payload_path=payload)
    return receipt.file.id


def test_one_message_per_transition_on_each_channel(store, tmp_path, servers):
    smtp, hook, _ = servers
    engine = engine_for(tmp_path, servers)
    file_id = received_file(store, tmp_path, 1)
    store.set_file_status(file_id, FileStatus.FAILED, actor="pipeline",
                          reason="parse: KeyError")
    engine.run(store)
    engine.run(store)  # still failing: nothing new
    assert [m.subject for m in smtp.received] == [
        f"[gateway test-gateway] ALERT processing-failed: file F{file_id} from pbm-a: "
        f"processing failed (parse, KeyError); retried after a reload or "
        f"`gateway files retry F{file_id}`"]
    assert smtp.received[0].tls and smtp.received[0].authenticated
    (body,) = hook.bodies
    assert body["alerts"][0]["rule"] == "processing-failed" and body["text"].startswith(
        "[gateway test-gateway] ALERT")

    store.set_file_status(file_id, FileStatus.PARSED, actor="pipeline")
    store.set_file_status(file_id, FileStatus.ROUTED, actor="pipeline")
    engine.run(store)
    engine.run(store)
    assert [m.subject.split()[2] for m in smtp.received] == ["ALERT", "RESOLVED"]
    assert [b["alerts"][0]["transition"] for b in hook.bodies] == ["opened", "resolved"]
    actions = [e.action for e in store.events("file", file_id)]
    assert actions.count("alert") == 1 and actions.count("alert-resolved") == 1
    (alert,) = store.alerts.recent()
    assert alert.state == "resolved" and store.alerts.open() == []
    # the file's original name (which here looks like a patient's) is in no message
    assert not any("DOE" in m.text for m in smtp.received)
    assert not any("DOE" in str(b) for b in hook.bodies)


def test_past_the_hourly_limit_what_is_due_goes_as_one_digest(store, tmp_path, servers):
    smtp, hook, _ = servers
    engine = engine_for(tmp_path, servers, max_per_hour=2)
    for n in range(5):
        store.set_file_status(received_file(store, tmp_path, n), FileStatus.FAILED,
                              actor="pipeline", reason="parse: KeyError")
    engine.run(store)
    (digest,) = smtp.received
    assert "5 alert changes: 5 opened, 0 resolved" in digest.subject
    assert digest.text.count("ALERT processing-failed") == 5
    assert len(hook.bodies[0]["alerts"]) == 5
    for n in range(5, 7):  # two more: one message of budget left for the hour
        store.set_file_status(received_file(store, tmp_path, n), FileStatus.FAILED,
                              actor="pipeline", reason="parse: KeyError")
    engine.run(store)
    assert "2 alert changes" in smtp.received[1].subject
    store.set_file_status(received_file(store, tmp_path, 9), FileStatus.FAILED,
                              actor="pipeline", reason="parse: KeyError")
    engine.run(store)
    assert len(smtp.received) == 2  # the limit is reached: it waits, nothing is dropped
    assert len(store.alerts.due("mail", 1e12)) == 1


def test_a_channel_that_fails_keeps_its_notices_and_sends_each_once(store, tmp_path, servers,
                                                                     monkeypatch):
    """The relay is down (nothing listens on the port): the mail waits in the store, the
    webhook is not held up; once the relay answers, the mail goes out once."""
    smtp, hook, ca = servers
    monkeypatch.setattr(engine_module, "RETRY_FIRST", 0.0)  # retry at once, not in 30 s
    config = tmp_path / "gateway.toml"
    config.write_text(alerts_toml(smtp, ca, hook).replace(f"port = {smtp.port}",
                                                          f"port = {free_port()}"))
    down = AlertEngine(load_settings(config).alerts, holder="test")
    store.set_file_status(received_file(store, tmp_path, 1), FileStatus.FAILED,
                              actor="pipeline", reason="parse: KeyError")
    down.run(store)
    assert "mail" in down.failing and len(hook.bodies) == 1 and smtp.received == []
    (waiting,) = store.alerts.due("mail", 1e12)
    assert waiting.attempts == 1

    up = engine_for(tmp_path, servers)  # the relay's address corrected
    up.run(store)
    up.run(store)
    assert len(smtp.received) == 1 and len(hook.bodies) == 1 and not up.failing


def test_rules_say_codes_not_messages(store, tmp_path):
    file_id = received_file(store, tmp_path, 1)
    store.set_file_status(file_id, FileStatus.QUARANTINED, actor="pipeline",
                          reason="truncated: segment 4 NM1*QC*1*DOE*JOHN cut off")
    (condition,) = rules.conditions(store.alerts, ["file-quarantined"]).values()
    assert condition.summary == f"file F{file_id} from pbm-a quarantined: truncated"


def test_every_configurable_rule_has_a_query_and_words():
    assert set(rules.RULES) == set(alerting.RULES)


@pytest.mark.parametrize(("section", "where", "fix"), [
    ('[alerts.mail]\nhost = "smtp.example.org"\nfrom = "g@x"\nto = ["a@x"]\nuser = "u"\n'
     'password = "hunter2"\n', ":6: [alerts.mail] password", "file:"),
    ('[alerts.mail]\nhost = "smtp.example.org"\ntls = "none"\nfrom = "g@x"\nto = ["a@x"]\n',
     ":3: [alerts.mail] tls", "starttls"),
    ('[alerts]\nrules = ["sla-mised"]\n', ":2: [alerts] rules", "sla-missed"),
    ('[alerts.webhook]\nurl = "env:NOT_SET_ANYWHERE_42"\n', ":2: [alerts.webhook] url",
     "export NOT_SET_ANYWHERE_42"),
])
def test_config_errors_name_file_line_key_and_fix(tmp_path, section, where, fix):
    config = tmp_path / "gateway.toml"
    config.write_text(section)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert f"gateway.toml{where}" in str(caught.value) and fix in str(caught.value)


def test_a_file_secret_is_relative_to_the_config_and_read_when_sent(tmp_path):
    (tmp_path / "smtp-password").write_text("first\n")
    config = tmp_path / "gateway.toml"
    config.write_text('[alerts.mail]\nhost = "smtp.example.org"\nfrom = "g@x"\nto = ["a@x"]\n'
                      'user = "u"\npassword = "file:smtp-password"\n')
    mail = load_settings(config).alerts.mail
    assert mail is not None and mail.password is not None and mail.port == 587
    assert mail.password.read() == "first"
    (tmp_path / "smtp-password").write_text("rotated\n")  # no restart needed
    assert mail.password.read() == "rotated"
