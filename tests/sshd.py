"""A real OpenSSH sshd on 127.0.0.1 as a throwaway SFTP server for tests and benchmarks.

Why a real sshd and not paramiko's server classes: the partners run OpenSSH (or something
that behaves like it), and the faults that matter — a session process killed mid-transfer,
``posix-rename@openssh.com``, one-second mtimes — are OpenSSH's behaviour, not a mock's.

The server has its own host key, config, authorized_keys and client key under ``base``; it
runs as the current user (as root it also needs ``/run/sshd``) with ``StrictModes no`` (the
keys live under /tmp) and ``internal-sftp`` without a chroot, so remote paths are plain
absolute paths on this machine: a test can look at "the partner's side" with ``pathlib``.

Stopping is two-step because each connection is a forked child in its own session: SIGTERM
to the listener would leave established sessions running. :meth:`SshServer.kill_sessions` is
also how tests inject "the server died mid-transfer".
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

SSHD = Path(os.environ.get("GATEWAY_SSHD", "/usr/sbin/sshd"))  # absolute: sshd re-execs itself
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
INSTALL_HINT = "apt-get install openssh-server"

_CONFIG = """\
ListenAddress 127.0.0.1:{port}
HostKey {base}/ssh_host_ed25519_key
PidFile none
UsePAM no
StrictModes no
PubkeyAuthentication yes
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AuthorizedKeysFile {base}/authorized_keys
AllowUsers {user}
Subsystem sftp internal-sftp
ForceCommand internal-sftp
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
MaxStartups 100:30:200
LogLevel VERBOSE
"""


def sshd_available() -> bool:
    """True when an OpenSSH sshd and ssh-keygen are installed where we expect them."""
    return SSHD.is_file() and os.access(SSHD, os.X_OK) and Path(SSH_KEYGEN).is_file()


def keygen(path: Path, key_type: str = "ed25519", passphrase: str = "") -> Path:
    """Generate a key pair with ssh-keygen (paramiko cannot generate ed25519); returns ``path``."""
    extra = ["-b", "2048"] if key_type == "rsa" else []
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", key_type, *extra, "-N", passphrase, "-C", "test", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return path


def public_key(private_key: Path) -> Path:
    """ssh-keygen's name for the public half of ``private_key``."""
    return Path(f"{private_key}.pub")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Every descendant of ``pid``, children before grandchildren (from /proc, Linux only)."""
    found: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop(0)
        try:
            text = Path(f"/proc/{parent}/task/{parent}/children").read_text()
        except OSError:
            continue
        kids = [int(k) for k in text.split()]
        found.extend(kids)
        queue.extend(kids)
    return found


@dataclass
class SshServer:
    """A running sshd. ``base`` holds its keys and config; ``client_key`` may log in as ``user``."""

    base: Path
    port: int
    user: str
    host_key: Path
    client_key: Path
    known_hosts: Path
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"
    _authorized: list[str] = field(default_factory=list)

    # -- what a test or the daemon engineer needs --------------------------------------------

    def transport_config(self, remote_dir: str | Path, **extra: object) -> dict[str, object]:
        """A ``type = "sftp"`` transport table for this server (see gateway.transport.config)."""
        table: dict[str, object] = {
            "type": "sftp",
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "key_file": str(self.client_key),
            "known_hosts": str(self.known_hosts),
            "remote_dir": str(remote_dir),
        }
        table.update(extra)
        return table

    def known_hosts_line(self, port: int | None = None) -> str:
        """This server's host key as a known_hosts line for ``[127.0.0.1]:port``.

        ``port`` differs from :attr:`port` when a client goes through a TCP proxy.
        """
        key_type, blob = public_key(self.host_key).read_text().split()[:2]
        return f"[{self.host}]:{port or self.port} {key_type} {blob}\n"

    def write_known_hosts(self, path: Path, port: int | None = None) -> Path:
        path.write_text(self.known_hosts_line(port))
        return path

    def authorize(self, public_key_file: Path) -> None:
        """Let another client key log in (e.g. an RSA or passphrase-protected key)."""
        self._authorized.append(public_key_file.read_text().strip())
        (self.base / "authorized_keys").write_text("\n".join(self._authorized) + "\n")

    def session_pids(self) -> list[int]:
        """The per-connection processes (monitor and session children) of the listener."""
        return descendants(self.process.pid)

    def kill_sessions(self, sig: int = signal.SIGKILL) -> int:
        """Kill every connection's processes (the listener stays up); returns how many."""
        pids = self.session_pids()
        for pid in reversed(pids):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        return len(pids)

    def kill_sessions_when(
        self, condition: Callable[[], bool], *, timeout: float = 30.0
    ) -> threading.Thread:
        """In the background, kill the sessions as soon as ``condition()`` is true.

        Used to land a kill mid-transfer: the condition watches the partial file grow.
        The thread's ``killed`` attribute tells afterwards whether it fired.
        """

        def watch() -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if condition():
                    thread.killed = self.kill_sessions() > 0  # type: ignore[attr-defined]
                    return
                time.sleep(0.005)

        thread = threading.Thread(target=watch, name="sshd-killer", daemon=True)
        thread.killed = False  # type: ignore[attr-defined]
        thread.start()
        return thread

    def stop(self) -> None:
        """Kill the sessions first (SIGTERM to the listener would leave them), then the listener."""
        self.kill_sessions()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log(self) -> str:
        """sshd's own log (stderr), useful in a failing test's message."""
        path = self.base / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _wait_for_banner(server: SshServer, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            with socket.create_connection((server.host, server.port), timeout=1) as conn:
                if conn.recv(64).startswith(b"SSH-2.0-OpenSSH"):
                    return True
        except OSError:
            time.sleep(0.02)
    return False


def start_sshd(base: Path, *, attempts: int = 5, extra_config: str = "") -> SshServer:
    """Start sshd with fresh keys under ``base``; ready when its banner arrives.

    ``extra_config`` lines go before the others (sshd keeps a keyword's first value): a
    variant server, e.g. one offering only weak algorithms. Retries on a new port when
    another process grabbed the free port in between.
    """
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host_key = base / "ssh_host_ed25519_key"
    client_key = base / "client_ed25519"
    if not host_key.exists():
        keygen(host_key)
        keygen(client_key)
    user = getpass.getuser()
    last_log = ""
    for _ in range(attempts):
        port = free_port()
        config = base / "sshd_config"
        config.write_text(extra_config + _CONFIG.format(port=port, base=base, user=user))
        log = (base / "sshd.log").open("wb")
        process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        server = SshServer(
            base=base,
            port=port,
            user=user,
            host_key=host_key,
            client_key=client_key,
            known_hosts=base / "known_hosts",
            process=process,
        )
        server.authorize(public_key(client_key))
        server.write_known_hosts(server.known_hosts)
        if _wait_for_banner(server, timeout=10):
            return server
        server.stop()
        last_log = server.log()
    raise RuntimeError(f"sshd did not start after {attempts} attempts:\n{last_log}")


@contextmanager
def running_sshd(base: Path, *, extra_config: str = "") -> Iterator[SshServer]:
    """``with running_sshd(tmp) as server:`` — started, and always stopped with its sessions."""
    server = start_sshd(base, extra_config=extra_config)
    try:
        yield server
    finally:
        server.stop()
