"""SFTP Source and Sink (paramiko) for PBM trading partners and pharmacies on SFTP.

Receiving follows the walk of one file (DESIGN.md): ``list_ready`` → ``fetch`` (to a local
temp file, fsynced and hashed; the partner's copy is untouched) → *the caller commits the file
to the message store* → ``acknowledge`` (archive or delete the partner's copy). The Source never
knows the store; the order is the caller's promise, and it is what makes a crash at any point
harmless: before the commit the file is fetched again, after it the store sees a duplicate.

Downloads request 16 MiB blocks (:mod:`gateway.transport.sftp_read`), not ``get()``: get's
prefetch thread races and drops it to ~5 MB/s about one run in ten (paramiko #2418/#2455).
Uploads go to ``NAME.part``, then ``posix_rename`` onto ``NAME``, then a stat checks the size,
so a partner never sees a partial file under the final name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import posixpath
import stat
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import paramiko

from gateway.errors import TransportError
from gateway.fsutil import safe_name
from gateway.log import get_logger
from gateway.transport.base import Delivered, Fetched, RemoteFile
from gateway.transport.names import is_plain, refusal, text_name
from gateway.transport.readiness import StabilityTracker
from gateway.transport.sftp_list import listdir_raw
from gateway.transport.sftp_read import read_blocks
from gateway.transport.ssh import MiB, SftpConnection, SftpSettings

_CHUNK = 1 * MiB


def _mb_per_s(size: int, seconds: float) -> float:
    return round(size / 1e6 / seconds, 1) if seconds > 0 else 0.0


class SftpSource:
    """Files a partner leaves in ``remote_dir`` on its SFTP server.

    Use: ``ready = source.list_ready()``; for each, ``fetched = source.fetch(remote, tmp)``,
    commit ``fetched`` to the store, then ``source.acknowledge(remote)``. Never acknowledge
    before the commit: acknowledge removes the only other copy.
    """

    def __init__(self, settings: SftpSettings, *, tracker: StabilityTracker | None = None) -> None:
        self.settings = settings
        self.connection = SftpConnection(settings)
        self._tracker = tracker or StabilityTracker(settings.readiness.settle_seconds)
        self._log = get_logger(partner=settings.partner, transport="sftp")
        self._refused: set[bytes] = set()

    def list_ready(self) -> list[RemoteFile]:
        """Regular files in ``remote_dir`` that are complete by the partner's convention."""
        s = self.settings
        with self.connection.operation(f"listing {s.remote_dir}"):
            entries = listdir_raw(self.connection.sftp(), s.remote_dir)
        listing = [
            self._entry(raw, e) for raw, e in entries
            if e.st_mode is not None and stat.S_ISREG(e.st_mode)  # no dirs, no symlinks
        ]
        names = {remote.name: remote for remote in listing if remote is not None}
        return s.readiness.select(names, self._tracker)

    def _entry(self, raw: bytes, attributes: paramiko.SFTPAttributes) -> RemoteFile | None:
        """A listed name as data: taken with its printable text, or refused (logged once)."""
        reason = refusal(raw)
        if reason is not None:
            if raw not in self._refused:
                self._refused.add(raw)
                self._log.warning("sftp.refused", remote_name=text_name(raw[:300]),
                                  reason=reason, fix="ask the partner to rename the file")
            return None
        name = text_name(raw)
        directory = self.settings.remote_dir
        return RemoteFile(
            path=posixpath.join(directory, name), name=name,
            size=attributes.st_size or 0, mtime=float(attributes.st_mtime or 0),
            raw_path=None if is_plain(raw) else directory.encode("utf-8").rstrip(b"/") + b"/" + raw,
        )

    def fetch(self, remote: RemoteFile, local_dir: Path) -> Fetched:
        """Download to a temp file in ``local_dir``, fsync it, hash it. The partner's copy is
        left in place: call :meth:`acknowledge` only once the store has committed the file.

        A failure removes the local temp file and raises a classified TransportError.
        """
        fd, temp_name = tempfile.mkstemp(prefix=".fetch-", suffix=".part", dir=local_dir)
        started = time.monotonic()
        try:
            with os.fdopen(fd, "wb") as out:
                size, digest = self._download(remote, out)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        elapsed = time.monotonic() - started
        self._log.info(
            "sftp.fetched",
            remote_name=safe_name(remote.name),
            size=size,
            sha256=digest,
            seconds=round(elapsed, 3),
            mb_per_s=_mb_per_s(size, elapsed),
        )
        return Fetched(local_path=Path(temp_name), size=size, sha256=digest)

    def _download(self, remote: RemoteFile, out: BinaryIO) -> tuple[int, str]:
        digest = hashlib.sha256()
        sftp_open = self.connection.operation(f"downloading {remote.name!r}", transfer=True)
        with sftp_open as dog, self.connection.sftp().open(_spelled(remote), "rb") as handle:
            size = handle.stat().st_size or 0
            if size != remote.size:
                raise TransportError(
                    f"{remote.name!r} changed since it was listed "
                    f"({remote.size} bytes, now {size})",
                    permanent=False,
                    where=self.settings.where,
                    fix="the partner is still writing it; it is fetched once stable",
                )
            received = 0
            for data in read_blocks(handle, size, self.settings.block_size):
                out.write(data)
                digest.update(data)
                received += len(data)
                if received % _CHUNK < len(data):
                    dog.progress()  # a heartbeat per MiB for the watchdog
            if received != size:
                raise EOFError(f"{remote.name!r} ended at byte {received} of {size}")
        return size, digest.hexdigest()

    def stat(self, remote: RemoteFile) -> RemoteFile | None:
        """The file as it is now on the server; None when it is gone."""
        with self.connection.operation(f"checking {remote.name!r}"):
            try:
                info = self.connection.sftp().stat(_spelled(remote))
            except FileNotFoundError:
                return None
        return dataclasses.replace(remote, size=info.st_size or 0,
                                   mtime=float(info.st_mtime or 0))

    def acknowledge(self, remote: RemoteFile) -> None:
        """Archive (rename into ``archive_dir`` under a name that never overwrites) or delete
        the partner's copy, and its marker file if the partner uses one.

        Call only after the message store committed the file. Acknowledging a file that is
        already gone is not an error: a crash after the rename and before the caller noted it
        must not wedge the partner.
        """
        s = self.settings
        with self.connection.operation(f"acknowledging {remote.name!r}"):
            sftp = self.connection.sftp()
            if s.after_fetch == "delete":
                archived = _remove_if_present(sftp, _spelled(remote))
            else:
                archived = _archive(
                    sftp, remote, s.archive_dir or posixpath.join(s.remote_dir, "archive")
                )
            if s.readiness.mode == "marker":
                _remove_if_present(sftp, _spelled(remote) + s.readiness.marker_suffix.encode())
        self._tracker.forget(remote)
        self._log.info(
            "sftp.acknowledged",
            remote_name=safe_name(remote.name),
            after_fetch=s.after_fetch,
            result=archived,
        )

    def close(self) -> None:
        self.connection.close()

    def __repr__(self) -> str:
        return f"SftpSource({self.settings.where!r})"


def _spelled(remote: RemoteFile) -> bytes:
    """The remote path as the server spells it (paramiko sends bytes unchanged)."""
    return remote.raw_path if remote.raw_path is not None else remote.path.encode("utf-8")


def _remove_if_present(sftp: paramiko.SFTPClient, path: bytes) -> str:
    try:
        sftp.remove(path)
    except FileNotFoundError:
        return "already gone"
    return "deleted"


def _archive(sftp: paramiko.SFTPClient, remote: RemoteFile, archive_dir: str) -> str:
    """Rename into ``archive_dir``; plain SFTP rename refuses to overwrite, so a name already
    taken (the partner resent a file) moves on to a timestamped candidate. The archived
    name is the partner's own bytes (listing refused separators already)."""
    base = remote.raw_name
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ").encode()
    candidates = [base] + [base + b"." + stamp + (b".%d" % i if i else b"") for i in range(99)]
    for candidate in candidates:
        target = archive_dir.encode("utf-8").rstrip(b"/") + b"/" + candidate
        try:
            sftp.rename(_spelled(remote), target)  # bytes go as they are
            return f"archived as {text_name(candidate)}"
        except FileNotFoundError:
            sftp.stat(archive_dir)  # raises FileNotFoundError naming the real problem
            return "already gone"
        except OSError:
            if not _exists(sftp, target):
                raise
    raise TransportError(
        f"no free archive name for {remote.name!r}",
        permanent=True,
        where=archive_dir,
        fix="clean up the archive folder on the partner's server",
    )


def _exists(sftp: paramiko.SFTPClient, path: bytes) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


class SftpSink:
    """Delivers files into ``remote_dir`` on a partner's or pharmacy's SFTP server."""

    def __init__(self, settings: SftpSettings) -> None:
        self.settings = settings
        self.connection = SftpConnection(settings)
        self._log = get_logger(partner=settings.partner, transport="sftp")

    def deliver(self, name: str, data: BinaryIO) -> Delivered:
        """Upload to ``NAME.part``, ``posix_rename`` onto ``NAME`` (overwriting a previous
        delivery of the same name: redelivery is idempotent), then stat to check the size.

        On failure nothing appears under ``NAME``; the ``.part`` is removed when the
        connection still allows it, and otherwise overwritten by the next attempt.
        """
        s = self.settings
        final = posixpath.join(s.remote_dir, safe_name(name))
        temp = final + s.temp_suffix
        started = time.monotonic()
        with self.connection.operation(f"uploading {safe_name(name)!r}", transfer=True) as dog:
            sftp = self.connection.sftp()
            try:
                size, digest = _upload(sftp, temp, data, dog.progress, s.file_mode)
                _replace(sftp, temp, final)
            except BaseException:
                _remove_quietly(sftp, temp)
                raise
            remote_size = sftp.stat(final).st_size
            if remote_size != size:
                raise TransportError(
                    f"{final} has {remote_size} bytes on the server after upload, sent {size}",
                    permanent=False,
                    where=s.where,
                    fix="the gateway will deliver again; check the partner's disk space",
                )
        elapsed = time.monotonic() - started
        self._log.info(
            "sftp.delivered",
            remote_name=safe_name(name),
            size=size,
            sha256=digest,
            seconds=round(elapsed, 3),
            mb_per_s=_mb_per_s(size, elapsed),
        )
        return Delivered(location=f"sftp://{s.host}:{s.port}{final}", size=size, sha256=digest)

    def close(self) -> None:
        self.connection.close()

    def __repr__(self) -> str:
        return f"SftpSink({self.settings.where!r})"


def _upload(
    sftp: paramiko.SFTPClient, temp: str, data: BinaryIO, progress: Callable[[], None],
    mode: int,
) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with sftp.open(temp, "wb") as handle:
        handle.chmod(mode)  # before any byte: the server's umask made it 0644
        handle.set_pipelined(True)
        while chunk := data.read(_CHUNK):
            handle.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            progress()
    # close() above waited for every pipelined write's status: the bytes are on the server.
    return size, digest.hexdigest()


def _replace(sftp: paramiko.SFTPClient, temp: str, final: str) -> None:
    """``posix_rename`` (atomic, overwrites); servers without the OpenSSH extension get
    remove-then-rename, which may briefly show no file — but never a partial one."""
    try:
        sftp.posix_rename(temp, final)
    except OSError as error:
        if "unsupported" not in str(error).lower():
            raise
        with contextlib.suppress(FileNotFoundError):
            sftp.remove(final)
        sftp.rename(temp, final)


def _remove_quietly(sftp: paramiko.SFTPClient, path: str) -> None:
    """Best effort: after a dropped connection this fails, and the next attempt truncates it."""
    with contextlib.suppress(Exception):
        sftp.remove(path)
