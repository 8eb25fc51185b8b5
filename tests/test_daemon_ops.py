"""Operator commands (init, check, status), configuration errors and SLA alerts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from daemon_support import sample

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.daemon.metrics import parse_exposition
from gateway.ops.demo import folder_workspace, member_id, write_samples, write_workspace
from gateway.store import open_configured


def test_init_writes_a_configuration_that_checks(tmp_path, capsys):
    target = tmp_path / "etc-gateway"
    assert main(["init", str(target)]) == 0
    for name in ("gateway.toml", "partners/psao.toml", "partners/pbms/example.toml",
                 "partners/members.csv", "keys/known_hosts", "keys/README.txt"):
        assert (target / name).is_file(), name
    # the example names a key the operator still has to put in place: check says so
    assert main(["check", "--config", str(target), "--offline"]) == 1
    assert "keys/example-pbm_ed25519 is not a file" in capsys.readouterr().out
    (target / "keys" / "example-pbm_ed25519").write_text("a key would be here\n")
    assert main(["check", "--config", str(target), "--offline"]) == 0
    out = capsys.readouterr().out
    assert "ok    configuration" in out and "1 PBM(s)" in out and "ok    store" in out
    assert main(["init", str(target)]) == 2  # never overwrites an operator's files
    assert "--force" in capsys.readouterr().err


def test_a_configuration_error_is_one_line_naming_file_key_and_fix(tmp_path):
    target = tmp_path / "cfg"
    assert main(["init", str(target)]) == 0
    toml = target / "gateway.toml"
    toml.write_text(toml.read_text().replace("workers = 2", "workers = 0"))
    result = subprocess.run([sys.executable, "-m", "gateway", "run", "--config", str(toml)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "[gateway] workers" in result.stderr and "workers = 2" in result.stderr


@pytest.fixture
def sftp_workspace(sshd_server, tmp_path):
    remote = tmp_path / "pbm"
    for folder in ("outbound", "archive", "inbound"):
        (remote / folder).mkdir(parents=True)
    samples = write_samples(remote / "outbound")
    known_hosts = sshd_server.write_known_hosts(tmp_path / "known_hosts")
    login = (f'type = "sftp"\nhost = "127.0.0.1"\nport = {sshd_server.port}\n'
             f'user = "{sshd_server.user}"\nkey_file = "{sshd_server.client_key}"\n'
             f'known_hosts = "{known_hosts}"\n')
    inbound = (f'{login}remote_dir = "{remote / "outbound"}"\nafter_fetch = "archive"\n'
               f'archive_dir = "{remote / "archive"}"\n')
    outbound = f'{login}remote_dir = "{remote / "inbound"}"\n'
    destinations = {p.npi: f"folder:{tmp_path / 'ph' / member_id(p)}" for p in samples.pharmacies}
    config = write_workspace(tmp_path / "ws", samples, inbound=inbound, outbound=outbound,
                             destinations=destinations)
    return config, remote, known_hosts


def test_check_connects_without_downloading(sftp_workspace, capsys):
    config, remote, _ = sftp_workspace
    before = sorted(p.name for p in (remote / "outbound").iterdir())
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "ok    demo-pbm [inbound] (sftp" in out
    assert "host key pinned, login ok, 2 folder(s) present" in out  # its outbound, archive
    assert "ok    demo-pbm [outbound] (sftp" in out
    assert sorted(p.name for p in (remote / "outbound").iterdir()) == before
    assert not any((remote / "archive").iterdir())


def test_check_names_a_wrong_host_key_and_a_missing_folder(sftp_workspace, tmp_path, capsys):
    config, remote, known_hosts = sftp_workspace
    (remote / "inbound").rmdir()
    assert main(["check", "--config", str(config)]) == 1
    assert "does not exist" in capsys.readouterr().out
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    host = known_hosts.read_text().split()[0]
    known_hosts.write_text(f"{host} {(tmp_path / 'other_key.pub').read_text()}")
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  demo-pbm [inbound]" in out and "SHA256:" in out


def test_status_shows_partners_queue_and_problems(tmp_path, capsys):
    config, _ = folder_workspace(tmp_path / "ws")
    assert Daemon(load_settings(config)).run(once=True) == 0
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "daemon: no HTTP endpoint" in out
    store = open_configured(load_settings(config))
    delivered = len(store.list_deliveries(limit=1000))
    store.close()
    assert "demo-pbm" in out and f"QUEUE  delivered={delivered}" in out
    assert "DEAD LETTERS 0" in out
    assert "era-20260105-broken.835: truncated" in out


def test_a_missed_sla_raises_an_event_a_log_line_and_a_metric_once(tmp_path, capsys):
    config, _ = folder_workspace(tmp_path / "ws")
    for file in (tmp_path / "ws" / "pbm" / "outbound").iterdir():
        file.unlink()  # the PBM sends nothing today
    pbm = tmp_path / "ws" / "partners" / "pbms" / "demo-pbm.toml"
    pbm.write_text(pbm.read_text() + '\n[sla]\nexpected_by = "00:00"\nbusiness_days = false\n')
    daemon = Daemon(load_settings(config))
    try:
        assert daemon.cycle(force=True)
        daemon.cycle(force=True)  # a later cycle the same day: no second alert
    finally:
        daemon.close()
    metrics = parse_exposition(daemon.metrics.exposition().decode())
    assert sample(metrics, "gateway_sla_missed_total", partner="demo-pbm", kind="835") == 1
    store = open_configured(load_settings(config))
    (event,) = [e for e in store.events("partner", "demo-pbm") if e.action == "sla-missed"]
    assert "by 00:00" in event.reason
    store.close()
    assert main(["status", "--config", str(config)]) == 0
    assert "MISSED (an 835 file by 00:00 UTC on every day)" in capsys.readouterr().out


def test_queue_and_trace_find_the_daemons_store_through_its_config(tmp_path, capsys):
    config, _ = folder_workspace(tmp_path / "ws")
    assert Daemon(load_settings(config)).run(once=True) == 0
    store = open_configured(load_settings(config))
    deliveries = store.list_deliveries(limit=1000)
    store.close()
    capsys.readouterr()
    assert main(["queue", "--config", str(config)]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert sum(int(row.split()[2]) for row in rows) == len(deliveries)
    assert main(["trace", "--config", str(config), f"D{deliveries[0].id}"]) == 0
    assert deliveries[0].output_name in capsys.readouterr().out
