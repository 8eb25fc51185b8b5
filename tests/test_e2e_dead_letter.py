"""A pharmacy's SFTP server changes its host key: its delivery is refused (a permanent error,
so it goes straight to the dead letter state, visible in /metrics and `gateway status`); the
operator pins the new key and retries it; the next cycle delivers it — once."""

from __future__ import annotations

from daemon_support import free_port, sample, scrape, start_daemon, wait_for
from sshd import keygen, public_key

from gateway.cli import main
from gateway.config.settings import load_settings
from gateway.ops.demo import folder_inbound, member_id, write_samples, write_workspace
from gateway.store import open_configured
from gateway.store.models import DeliveryState


def test_dead_letter_then_operator_retry(sshd_server, tmp_path, capsys):
    samples = write_samples(tmp_path / "pbm" / "outbound")
    (tmp_path / "pbm" / "inbound").mkdir()
    wrong = tmp_path / "known_hosts"  # pins a key the server does not have
    other = keygen(tmp_path / "other_host_key")
    wrong.write_text(f"[127.0.0.1]:{sshd_server.port} {public_key(other).read_text()}")
    inbox = tmp_path / "vendor" / "inbox"
    inbox.mkdir(parents=True)
    by_sftp = samples.pharmacies[0]
    destinations = {p.npi: f"folder:{tmp_path / 'ph' / member_id(p)}" for p in samples.pharmacies}
    destinations[by_sftp.npi] = f"sftp:vendor:{inbox}"
    port = free_port()
    root = tmp_path / "ws"
    config = write_workspace(root, samples, inbound=folder_inbound(tmp_path / "pbm"),
                             outbound=f'type = "folder"\npath = "{tmp_path / "pbm" / "inbound"}"\n',
                             destinations=destinations, listen=f"127.0.0.1:{port}")
    vendor = root / "partners" / "destinations" / "vendor.toml"
    vendor.write_text(
        'id = "vendor"\nname = "Pharmacy software vendor"\n[outbound]\n'
        f'type = "sftp"\nhost = "127.0.0.1"\nport = {sshd_server.port}\n'
        f'user = "{sshd_server.user}"\nkey_file = "{sshd_server.client_key}"\n'
        f'known_hosts = "{wrong}"\nremote_dir = "{inbox.parent}"\n')

    daemon = start_daemon(config, tmp_path / "daemon.log")
    store = open_configured(load_settings(config))
    try:
        def dead() -> list:
            return store.list_deliveries(state=DeliveryState.DEAD)

        wait_for(lambda: len(dead()) == 1, timeout=60, what="a dead letter",
                 process=daemon.process)
        (letter,) = dead()
        assert letter.destination == f"sftp:vendor:{inbox}"
        assert "SHA256:" in letter.last_error  # the offered key's fingerprint, to compare
        metrics = scrape(port)
        assert sample(metrics, "gateway_deliveries", state="dead") == 1
        assert sample(metrics, "gateway_dead_letters_total", destination=letter.destination) == 1
        assert not any(inbox.iterdir())

        assert main(["status", "--config", str(config)]) == 0
        screen = capsys.readouterr().out
        assert "daemon: running, healthy" in screen
        assert "DEAD LETTERS 1" in screen and f"#{letter.id} sftp:vendor:" in screen
        (partner_line,) = [line for line in screen.splitlines() if line.startswith("demo-pbm")]
        assert partner_line.split()[1] != "-"  # the last poll, read from the daemon's /metrics

        sshd_server.write_known_hosts(wrong)  # the operator pins the right key ...
        assert main(["deliveries", "retry", f"D{letter.id}", "--store",
                     load_settings(config).store_url]) == 0  # ... and retries
        wait_for(lambda: store.get_delivery(letter.id).state is DeliveryState.DELIVERED,
                 timeout=30, what="the retried delivery", process=daemon.process)
        assert daemon.stop() == 0
    finally:
        daemon.kill()
        store.close()
    (delivered,) = [p for p in inbox.iterdir() if not p.name.startswith(".")]
    assert delivered.name == letter.output_name
