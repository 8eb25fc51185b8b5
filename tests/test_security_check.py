"""Issue 13, Security, as ``gateway check`` and the daemon's outputs show it — the items the
other security tests left without a test of their own:

- "warn on a non-loopback listen": the health server logs a warning
  (test_security_metrics_server.py); ``gateway check`` says it too, before the daemon runs;
- "secrets only as file:/env:, `check` says so": check counts the references and says none
  is written in the configuration; an inline SMTP password in ``[alerts.mail]`` is refused
  like a transport's (test_security_secrets.py covers the transport tables);
- "overlong file names handled as data": a 255-byte name (the file system's limit) in a
  drop folder is fetched, archived and acknowledged — the ack's name (``NAME.N.999``) would
  pass the limit — with nothing dead and nothing left behind;
- "acks at the PBM": over SFTP 0600 (test_security_permissions.py); to a local PBM folder
  the local default 0640, whatever the umask; "a configurable mode" over SFTP too.
"""

from __future__ import annotations

import os
import stat

import pytest
from test_daemon_cycle import run_once, workspace  # noqa: F401  (fixture)

from gateway.cli import main
from gateway.daemon.health import is_loopback
from gateway.transport.config import sink_from_config


def _set(config, table: str, text: str) -> None:
    """Put ``text`` in ``[table]`` of gateway.toml (the table added when missing)."""
    lines = config.read_text().splitlines()
    if f"[{table}]" in lines:
        at = lines.index(f"[{table}]")
        end = next((i for i in range(at + 1, len(lines)) if lines[i].startswith("[")),
                   len(lines))
        lines[at + 1:end] = [x for x in lines[at + 1:end]
                             if x.split("=")[0].strip() not in
                             {t.split("=")[0].strip() for t in text.splitlines()}]
        lines[at + 1:at + 1] = text.splitlines()
    else:
        lines += [f"[{table}]", *text.splitlines()]
    config.write_text("\n".join(lines) + "\n")


def _check(capsys, config) -> tuple[int, str]:
    code = main(["check", "--config", str(config), "--offline"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(("listen", "warned"), [
    ("0.0.0.0:9100", True), ("[::]:9100", True), ("192.0.2.7:9100", True),
    ("127.0.0.1:9100", False), ("[::1]:9100", False), ("localhost:9100", False),
])
def test_check_warns_of_metrics_listening_beyond_loopback(workspace, capsys, listen,  # noqa: F811
                                                           warned):
    _, config, _ = workspace
    _set(config, "http", f'listen = "{listen}"')
    code, out = _check(capsys, config)
    assert code == 0, out  # a warning, not a failure
    line = next(x for x in out.splitlines() if x.split()[1:2] == ["http:"])
    assert line.startswith("WARN" if warned else "ok"), line
    if warned:
        assert "beyond loopback" in line and "127.0.0.1:9100" in line  # the fix


def test_loopback_is_every_loopback_address_and_nothing_else():
    assert all(map(is_loopback, ["127.0.0.1", "127.9.9.9", "::1", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.1", "192.0.2.7"]))


def test_check_says_secrets_are_references_only(workspace, capsys, monkeypatch):  # noqa: F811
    _, config, _ = workspace
    secret = config.parent / "smtp-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    _set(config, "alerts.mail", "\n".join([
        'host = "127.0.0.1"', "port = 2525", 'tls = "none"', 'user = "gateway"',
        f'password = "file:{secret}"', 'from = "gw@example.org"', 'to = ["ops@example.org"]']))
    code, out = _check(capsys, config)
    assert code == 0, out
    assert ("ok    secrets: 1 password/passphrase reference(s), each file: or env:; "
            "none written in the configuration") in out
    assert "s3cret" not in out


def test_an_inline_smtp_password_is_refused_by_check(workspace, capsys):  # noqa: F811
    _, config, _ = workspace
    _set(config, "alerts.mail", "\n".join([
        'host = "127.0.0.1"', "port = 2525", 'tls = "none"', 'user = "gateway"',
        'password = "hunter2"', 'from = "gw@example.org"', 'to = ["ops@example.org"]']))
    line = 1 + config.read_text().splitlines().index('password = "hunter2"')
    code, out = _check(capsys, config)
    assert code == 2, out  # a configuration error
    assert f"{config.resolve()}:{line}: [alerts.mail] password" in out, out
    assert "never written in the configuration" in out
    assert "file:" in out and "env:" in out and "hunter2" not in out


def test_acks_written_to_a_local_pbm_folder_are_0640_whatever_the_umask(workspace):  # noqa: F811
    root, config, _ = workspace
    old = os.umask(0o022)
    try:
        run_once(config)
    finally:
        os.umask(old)
    acks = [p for p in (root / "pbm" / "inbound").iterdir() if p.is_file()]
    assert acks and {stat.S_IMODE(p.stat().st_mode) for p in acks} == {0o640}


def test_an_overlong_drop_name_is_fetched_archived_and_acknowledged(workspace):  # noqa: F811
    root, config, _ = workspace
    outbound = root / "pbm" / "outbound"
    first = sorted(p for p in outbound.iterdir() if p.suffix == ".835")[0]
    first.rename(outbound / ("y" * 251 + ".835"))  # 255 bytes: NAME_MAX
    run_once(config)
    assert not [p for p in outbound.iterdir() if p.is_file()]  # all taken, none stuck
    assert main(["deliveries", "list", "--state", "dead", "--config", str(config)]) == 0
    acks = [p.name for p in (root / "pbm" / "inbound").iterdir()]
    assert len(acks) == 3 and all(len(name.encode()) <= 255 for name in acks)
    assert any(name.startswith("y" * 100) for name in acks)  # the long one's, shortened


def test_the_sftp_delivery_mode_is_configurable(sshd_server, tmp_path):
    """The client sets the mode itself (the server's umask is the server's)."""
    import io

    remote = tmp_path / "pbm-inbound"
    remote.mkdir()
    sink = sink_from_config({**sshd_server.transport_config(remote), "mode": "0640"},
                            partner="pbm")
    try:
        sink.deliver("era.835.7.999", io.BytesIO(b"ISA*00~"))
    finally:
        sink.close()
    assert stat.S_IMODE((remote / "era.835.7.999").stat().st_mode) == 0o640
