"""Part 6 of issue 12: the daemon's log is one JSON object per line, always, and an expected
outage is one line with its reason (and one when it ends), not a traceback per attempt.

Both tests failed on the main of 2026-12-02: an SFTP host that accepts connections but never
speaks SSH filled the log with paramiko's plain-text traceback lines (129 of 133 lines in
14 s); a store outage logged an error line per worker per second and the main loop's full
traceback every 5 s.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import time

import psycopg
import pytest
from daemon_support import free_port, sample, scrape, start_daemon, wait_for
from store_backends import PG_ADMIN
from tcp_proxy import TcpProxy

from gateway.ops.demo import folder_workspace, member_id, write_samples, write_workspace
from gateway.store import open_store


def parsed(lines: list[str]) -> list[dict]:
    """Every line as JSON; a line that is not fails the test, naming it."""
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line[:200]!r}")
    return events


def test_an_unreachable_sftp_host_is_one_json_line_with_its_reason(tmp_path):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never sends a banner
    samples = write_samples(tmp_path / "unused")
    key = tmp_path / "id_ed25519"
    from sshd import keygen
    keygen(key)
    (tmp_path / "known_hosts").write_text("")
    inbound = (f'type = "sftp"\nhost = "127.0.0.1"\nport = {silent.getsockname()[1]}\n'
               f'user = "x"\nkey_file = "{key}"\nknown_hosts = "{tmp_path / "known_hosts"}"\n'
               'remote_dir = "/out"\nconnect_timeout = 1\n')
    port = free_port()
    destinations = {p.npi: f"folder:{tmp_path / member_id(p)}" for p in samples.pharmacies}
    config = write_workspace(tmp_path / "ws", samples, inbound=inbound,
                             outbound=f'type = "folder"\npath = "{tmp_path / "acks"}"\n',
                             destinations=destinations, listen=f"127.0.0.1:{port}")
    daemon = start_daemon(config, tmp_path / "daemon.log")
    try:
        for polls in (1, 2, 3):  # a SIGHUP polls every partner at once
            wait_for(lambda n=polls: failed_polls(port) >= n, timeout=60,
                     what=f"failed poll {polls}", process=daemon.process)
            daemon.signal(signal.SIGHUP)
        assert daemon.stop() == 0
    finally:
        daemon.kill()
        silent.close()
    events = parsed(daemon.log_lines())
    began = [e for e in events if e["event"] == "outage began"]
    assert len(began) == 1, began
    assert began[0]["subject"] == "partner:demo-pbm"
    assert "SSH protocol banner" in began[0]["reason"]  # the real reason, not "no session"
    assert not [e for e in events if e["level"] in ("warning", "error")
                and e["event"] not in ("outage began", "alert opened")]
    assert "Traceback" not in "".join(daemon.log_lines())


def failed_polls(port: int) -> float:
    try:
        return sample(scrape(port), "gateway_polls_total", partner="demo-pbm", outcome="failed")
    except OSError:
        return 0.0


@pytest.fixture
def pg_database():
    from conftest import require
    from store_backends import _postgres_up
    require(_postgres_up(), f"PostgreSQL ({PG_ADMIN})", "start PostgreSQL on 127.0.0.1:5432")
    name = f"gateway_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    open_store(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", migrate=True).close()  # gateway migrate
    yield name
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_a_store_outage_is_one_line_when_it_begins_and_one_when_it_ends(tmp_path, pg_database):
    """PostgreSQL behind a proxy that goes away for 6 s and comes back on the same port."""
    config, _ = folder_workspace(tmp_path / "ws")
    proxy = TcpProxy(("127.0.0.1", 5432))
    store = f"postgresql://postgres@127.0.0.1:{proxy.port}/{pg_database}"
    config.write_text(config.read_text().replace('store = "sqlite:///data/gateway.db"',
                                                 f'store = "{store}"'))
    daemon = start_daemon(config, tmp_path / "daemon.log")
    try:
        wait_for(lambda: any('"file routed"' in line for line in daemon.log_lines()),
                 timeout=60, what="the daemon at work", process=daemon.process)
        port = proxy.port
        proxy.close()  # the database server goes away ...
        time.sleep(6)
        proxy = TcpProxy(("127.0.0.1", 5432), port=port)  # ... and comes back
        wait_for(lambda: any('"outage ended"' in line for line in daemon.log_lines()),
                 timeout=60, what="the end of the outage", process=daemon.process)
        assert daemon.stop() == 0
    finally:
        daemon.kill()
        proxy.close()
    events = parsed(daemon.log_lines())
    about_store = [e for e in events if e.get("subject") == "store"]
    assert [e["event"] for e in about_store] == ["outage began", "outage ended"], about_store
    assert "PostgreSQL" in about_store[0]["reason"]
    assert about_store[1]["failures"] >= 2  # attempts went on, silently, with backoff
    noisy = [e for e in events if e["level"] == "error" or "exception" in e]
    assert not noisy, noisy[:3]
