"""One SSH connection with an SFTP session to a partner: pinned host key, key auth, timeouts.

Everything here exists because paramiko's defaults are unsafe for an unattended daemon:

* **Host keys are pinned** from the partner's own known_hosts file and anything else is
  refused (never ``AutoAddPolicy``, never ``~/.ssh``). The refusal names host, port and the
  offered key's ``SHA256:`` fingerprint, the way OpenSSH prints it, so an operator can compare
  it with what the partner says out of band.
* **Keys only**, from the configured file; the passphrase from a file or an environment
  variable, never from the repository or a log. No agent, no ~/.ssh key search: the daemon must
  authenticate the same way on every host.
* **Every wait is bounded**: connect, banner, auth and channel timeouts, the SFTP channel's own
  ``settimeout`` (a stalled server otherwise blocks a transfer forever), and a
  :class:`~gateway.transport.watchdog.Watchdog` over each whole operation.
* **Transient connect failures are retried** a few times quickly (tenacity); everything else is
  classified (:mod:`gateway.transport.faults`) and left to the delivery queue's backoff.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import paramiko
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from gateway.errors import TransportError
from gateway.transport import algorithms
from gateway.transport.faults import classify
from gateway.transport.readiness import Readiness
from gateway.transport.watchdog import Watchdog

# aes-gcm/ctr are fast in paramiko (AES-NI through cryptography); chacha20 is not offered.
DEFAULT_CIPHERS = ("aes128-gcm@openssh.com", "aes128-ctr", "aes256-gcm@openssh.com", "aes256-ctr")
MiB = 1 << 20


@dataclass(frozen=True)
class SftpSettings:
    """A partner's SFTP endpoint, as read from its transport config (gateway.transport.config)."""

    partner: str
    host: str
    user: str
    key_file: Path
    known_hosts: Path
    remote_dir: str
    port: int = 22
    passphrase_file: Path | None = None
    passphrase_env: str | None = None
    file_mode: int = 0o600  # delivered files (acks at the PBM too): exactly this mode
    archive_dir: str | None = None
    after_fetch: str = "archive"  # or "delete"
    readiness: Readiness = field(default_factory=Readiness)
    temp_suffix: str = ".part"
    connect_timeout: float = 15.0
    io_timeout: float = 30.0
    transfer_timeout: float = 3600.0
    connect_attempts: int = 3
    ciphers: tuple[str, ...] = DEFAULT_CIPHERS
    block_size: int = 16 * MiB
    window_size: int = 2 * MiB
    max_packet_size: int = 32 * 1024

    @property
    def archive_path(self) -> str:
        """Where acknowledged files go when ``after_fetch = "archive"``."""
        return self.archive_dir or posixpath.join(self.remote_dir, "archive")

    @property
    def where(self) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}{self.remote_dir} ({self.partner})"


class _PinnedHostKeyOnly(paramiko.MissingHostKeyPolicy):
    """RejectPolicy with a message an operator can act on (paramiko's names no fingerprint)."""

    def __init__(self, settings: SftpSettings) -> None:
        self._settings = settings

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> NoReturn:
        s = self._settings
        raise TransportError(
            f"unknown host key: {s.host} port {s.port} offered {key.get_name()} "
            f"{key.fingerprint}, which is not in {s.known_hosts}",
            permanent=True,
            where=s.where,
            fix="confirm the fingerprint with the partner out of band, then add the key "
            f"for [{s.host}]:{s.port} to that known_hosts file",
        )


def _quiet_paramiko() -> None:
    """Put :class:`_ParamikoRecords` on every paramiko logger we use (a logger's filters
    are not inherited by its children)."""
    for name in ("paramiko", "paramiko.transport", "paramiko.transport.sftp"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _ParamikoRecords) for f in logger.filters):
            logger.addFilter(_ParamikoRecords())


# A line of a traceback that paramiko logs one record per line (util.tb_strings).
_TRACEBACK_LINE = re.compile(
    r"^(|\s.*|Traceback \(most recent call last\):|During handling of the above exception.*"
    r"|The above exception was the direct cause.*|[\w.]*(Error|Exception|Exit|Interrupt)(: .*)?)$"
)


class _ParamikoRecords(logging.Filter):
    """What of paramiko's own logging reaches the log.

    * DEBUG never: its packet hex dumps are file contents, its messages name remote paths.
    * No traceback lines: when its transport thread fails, paramiko logs the traceback one
      line per record, on every attempt (63 of 67 lines of a log with an unreachable host).
    * Its warnings and errors are demoted to debug: each failure they describe also reaches
      us as an exception, which faults.py classifies and the daemon logs once, with its
      reason. An operator who sets ``level = "debug"`` still sees them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG or _TRACEBACK_LINE.match(record.getMessage()):
            return False
        if record.levelno >= logging.WARNING:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def read_passphrase(settings: SftpSettings) -> str | None:
    """The key's passphrase from a file (first line) or an environment variable, if any."""
    if settings.passphrase_file is not None:
        try:
            return settings.passphrase_file.read_text().splitlines()[0]
        except (OSError, IndexError) as error:
            raise TransportError(
                f"cannot read passphrase_file {settings.passphrase_file} ({error})",
                permanent=True,
                where=settings.where,
                fix="point passphrase_file at a readable file holding the key's passphrase",
            ) from error
    if settings.passphrase_env is not None:
        value = os.environ.get(settings.passphrase_env)
        if value is None:
            raise TransportError(
                f"environment variable {settings.passphrase_env} is not set",
                permanent=True,
                where=settings.where,
                fix=f"export {settings.passphrase_env} in the daemon's environment",
            )
        return value
    return None


def load_private_key(settings: SftpSettings) -> paramiko.PKey:
    """ed25519, ecdsa or rsa, from ``key_file``; a clear, permanent error when it cannot load."""
    try:
        passphrase = read_passphrase(settings)
        password = passphrase.encode() if passphrase is not None else None
        # paramiko hands the password to cryptography, which takes bytes; types-paramiko says str.
        return paramiko.PKey.from_path(settings.key_file, password)  # type: ignore[arg-type]
    except paramiko.PasswordRequiredException as error:
        raise classify(error, where=settings.where, doing="loading key_file") from error
    except TypeError as error:  # cryptography's "password-protected, but not provided"
        if "password" not in str(error):
            raise
        raise classify(
            paramiko.PasswordRequiredException(str(error)),
            where=settings.where,
            doing="loading key_file",
        ) from error
    except (OSError, paramiko.SSHException, ValueError) as error:
        raise TransportError(
            f"cannot load private key {settings.key_file} ({error})",
            permanent=True,
            where=settings.where,
            fix="check key_file and its passphrase (ed25519, ecdsa and rsa keys are supported)",
        ) from error


class SftpConnection:
    """An SSH client plus SFTP session, opened on first use and dropped after any fault.

    Not thread-safe: one connection per worker. A fault closes it, so the next operation
    starts from a fresh connection rather than a half-dead one.
    """

    def __init__(self, settings: SftpSettings) -> None:
        self.settings = settings
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        _quiet_paramiko()

    def sftp(self) -> paramiko.SFTPClient:
        """The open SFTP session, connecting first (with a few quick retries) if needed.

        A connection the server closed while we were idle between polls is noticed here and
        replaced, rather than failing the next operation."""
        transport = self._client.get_transport() if self._client is not None else None
        if self._sftp is not None and (transport is None or not transport.is_active()):
            self.drop()
        if self._sftp is None:
            retrying = Retrying(
                stop=stop_after_attempt(self.settings.connect_attempts),
                wait=wait_exponential(multiplier=0.2, max=2.0),
                retry=retry_if_exception(_is_transient),
                reraise=True,
            )
            for attempt in retrying:
                with attempt:
                    self._open()
        assert self._sftp is not None
        return self._sftp

    @contextmanager
    def operation(self, doing: str, *, transfer: bool = False) -> Iterator[Watchdog]:
        """Run one operation under the watchdog; any failure becomes a classified
        TransportError and drops the connection. ``transfer`` selects the long deadline."""
        s = self.settings
        total = s.transfer_timeout if transfer else s.io_timeout * 2 + s.connect_timeout * 3
        # The channel timeout notices a silent socket after io_timeout (up to twice that);
        # the watchdog's idle clock also catches a trickle that sends a byte now and then.
        idle = 2 * s.io_timeout if transfer else None
        dog = Watchdog(self.drop, idle=idle, total=total)
        try:
            with dog:
                yield dog
        except BaseException as error:
            self.drop()
            if dog.expired:
                raise TransportError(
                    f"{doing}: {dog.expired}, connection closed",
                    permanent=False,
                    where=s.where,
                    fix="the partner's server stalled; the gateway will retry",
                ) from error
            if isinstance(error, (KeyboardInterrupt, SystemExit, AssertionError)):
                raise
            raise classify(error, where=s.where, doing=doing) from error

    def drop(self) -> None:
        """Close everything (also called from the watchdog thread to unblock a stalled call)."""
        client, self._client, self._sftp = self._client, None, None
        if client is not None:
            client.close()

    close = drop

    def _open(self) -> None:
        s = self.settings
        client = paramiko.SSHClient()
        try:
            client.load_system_host_keys(str(s.known_hosts))
        except OSError as error:
            raise TransportError(
                f"cannot read known_hosts {s.known_hosts} ({error})",
                permanent=True,
                where=s.where,
                fix="create it with the host key the partner gave you out of band",
            ) from error
        client.set_missing_host_key_policy(_PinnedHostKeyOnly(s))
        key = load_private_key(s)
        self._client = client
        with self.operation("connecting"):
            try:
                client.connect(
                    s.host,
                    port=s.port,
                    username=s.user,
                    pkey=key,
                    allow_agent=False,
                    look_for_keys=False,
                    timeout=s.connect_timeout,
                    banner_timeout=s.connect_timeout,
                    auth_timeout=s.connect_timeout,
                    channel_timeout=s.connect_timeout,
                    # paramiko calls it with (sock, disabled_algorithms=...); types-paramiko
                    # also lists gss_kex and gss_deleg_creds, which this paramiko never passes.
                    transport_factory=self._transport,  # type: ignore[arg-type]
                )
            except paramiko.SSHException as error:
                cause = _transport_failure(client, error, s.connect_timeout)
                if cause is None:
                    raise
                raise cause from error
            sftp = client.open_sftp()
            channel = sftp.get_channel()
            assert channel is not None  # open_sftp has just opened it
            channel.settimeout(s.io_timeout)
            self._sftp = sftp

    def _transport(
        self, sock: socket.socket, disabled_algorithms: Mapping[str, Iterable[str]] | None = None
    ) -> paramiko.Transport:
        """paramiko's Transport with our cipher preference and window size (see bench/), and
        only strong algorithms (:mod:`gateway.transport.algorithms`) offered or accepted."""
        s = self.settings
        disabled = algorithms.disabled_algorithms()
        for kind, names in (disabled_algorithms or {}).items():
            disabled[kind] = sorted(set(disabled.get(kind, ())) | set(names))
        transport = paramiko.Transport(
            sock,
            default_window_size=s.window_size,
            default_max_packet_size=s.max_packet_size,
            disabled_algorithms=disabled,
        )
        options = transport.get_security_options()
        preferred = [c for c in s.ciphers if c in options.ciphers]
        options.ciphers = preferred + [c for c in options.ciphers if c not in preferred]
        return transport


def _transport_failure(client: paramiko.SSHClient, error: paramiko.SSHException,
                       timeout: float) -> BaseException | None:
    """The real reason behind connect's bare "No existing session": the transport thread
    failed (no banner, a reset) and keeps its exception, sometimes a moment after connect
    gave up. Specific errors (a refused host key, authentication) are reasons already."""
    transport = client.get_transport()
    if type(error) is not paramiko.SSHException or transport is None:
        return None
    transport.join(timeout)
    return transport.get_exception()


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, TransportError) and not error.permanent
