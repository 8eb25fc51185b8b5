"""Local drop folders: FolderSink (atomic delivery) and FolderSource (pharmacies' drop folders).

Atomic means: write a temp file in the same directory (so the rename cannot cross file
systems), fsync it, ``os.replace`` it onto the final name, then fsync the directory so the
rename itself survives a power cut. A reader of the folder sees either nothing or the whole
file under its final name, never a partial one.

The Source side mirrors the SFTP one: list files that are ready (stable or marked), fetch a
copy to a temp file (fsynced, hashed), and only after the caller's store commit acknowledge
(move into an archive subfolder without ever overwriting, or delete).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from gateway.errors import TransportError
from gateway.fsutil import atomic_write, fsync_directory, safe_name
from gateway.log import get_logger
from gateway.transport.base import Delivered, Fetched, RemoteFile
from gateway.transport.faults import classify
from gateway.transport.readiness import Readiness, StabilityTracker

TEMP_PREFIX = ".gateway-"
TEMP_SUFFIX = ".part"
_CHUNK = 1 << 20


def write_atomically(directory: Path, name: str, data: BinaryIO) -> Delivered:
    """Copy ``data`` to ``directory/name`` through a fsynced temp file and a rename."""
    final = directory / name
    digest = hashlib.sha256()
    size = 0
    with atomic_write(final, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX) as pending:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            pending.file.write(chunk)
    return Delivered(location=str(final), size=size, sha256=digest.hexdigest())


class FolderSink:
    """Delivers files into a local folder (a pharmacy's drop folder, a PBM's outbound share)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def deliver(self, name: str, data: BinaryIO) -> Delivered:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # e.g. a part of the path is a file: retrying cannot help
            raise classify(error, where=str(self.directory),
                           doing="creating the destination folder") from error
        return write_atomically(self.directory, safe_name(name), data)

    def close(self) -> None:
        """Nothing to release: present so every Sink can be used the same way."""

    def __repr__(self) -> str:
        return f"FolderSink({str(self.directory)!r})"


class FolderSource:
    """Files a pharmacy (or a partner's mounted share) drops into a local folder.

    Use like every Source: ``list_ready`` → ``fetch`` → the caller commits to the store →
    ``acknowledge``. The folder's own file is untouched until ``acknowledge``.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        partner: str = "",
        archive_dir: Path | str | None = None,
        after_fetch: str = "archive",
        readiness: Readiness | None = None,
        tracker: StabilityTracker | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.archive_dir = Path(archive_dir) if archive_dir else self.directory / "archive"
        self.after_fetch = after_fetch
        self.readiness = readiness or Readiness()
        self._tracker = tracker or StabilityTracker(self.readiness.settle_seconds)
        self._log = get_logger(partner=partner, transport="folder")

    def list_ready(self) -> list[RemoteFile]:
        """Regular files (not symlinks, not folders) that are complete by the convention."""
        try:
            with os.scandir(self.directory) as entries:
                names = {
                    entry.name: _remote_file(entry)
                    for entry in entries
                    if entry.is_file(follow_symlinks=False)
                }
        except OSError as error:
            raise classify(error, where=str(self.directory), doing="listing") from error
        return self.readiness.select(names, self._tracker)

    def fetch(self, remote: RemoteFile, local_dir: Path) -> Fetched:
        """Copy to a temp file in ``local_dir``, fsync and hash; the original stays put."""
        fd, temp_name = tempfile.mkstemp(prefix=".fetch-", suffix=TEMP_SUFFIX, dir=local_dir)
        digest = hashlib.sha256()
        size = 0
        try:
            source = os.open(remote.path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(source, "rb") as src, os.fdopen(fd, "wb") as out:
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException as error:
            Path(temp_name).unlink(missing_ok=True)
            if isinstance(error, OSError):
                raise classify(error, where=remote.path, doing="fetching") from error
            raise
        if size != remote.size:
            Path(temp_name).unlink()
            raise TransportError(
                f"{remote.name!r} changed since it was listed ({remote.size} bytes, now {size})",
                permanent=False,
                where=str(self.directory),
                fix="the file is still being written; it is fetched once stable",
            )
        self._log.info(
            "folder.fetched",
            remote_name=safe_name(remote.name),
            size=size,
            sha256=digest.hexdigest(),
        )
        return Fetched(local_path=Path(temp_name), size=size, sha256=digest.hexdigest())

    def acknowledge(self, remote: RemoteFile) -> None:
        """Archive without overwriting (``os.link`` refuses an existing name) or delete; a file
        already gone is not an error. Call only after the store committed the file."""
        path = Path(remote.path)
        try:
            if self.after_fetch == "delete":
                path.unlink(missing_ok=True)
            elif path.exists():
                self.archive_dir.mkdir(parents=True, exist_ok=True)
                _link_under_free_name(path, self.archive_dir, safe_name(remote.name))
                path.unlink()
                fsync_directory(self.archive_dir)
            if self.readiness.mode == "marker":
                Path(self.readiness.marker_for(remote.path)).unlink(missing_ok=True)
            fsync_directory(self.directory)
        except OSError as error:
            raise classify(error, where=remote.path, doing="acknowledging") from error
        self._tracker.forget(remote)
        self._log.info(
            "folder.acknowledged", remote_name=safe_name(remote.name), after_fetch=self.after_fetch
        )

    def close(self) -> None:
        """Nothing to release: present so every Source can be used the same way."""

    def __repr__(self) -> str:
        return f"FolderSource({str(self.directory)!r})"


def _remote_file(entry: os.DirEntry[str]) -> RemoteFile:
    info = entry.stat(follow_symlinks=False)
    return RemoteFile(path=entry.path, name=entry.name, size=info.st_size, mtime=info.st_mtime)


def _link_under_free_name(path: Path, directory: Path, name: str) -> Path:
    """Hard-link ``path`` into ``directory`` as ``name`` or, when taken, a timestamped name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for candidate in [name] + [f"{name}.{stamp}" + (f".{i}" if i else "") for i in range(99)]:
        target = directory / candidate
        try:
            os.link(path, target)
            return target
        except FileExistsError:
            continue
    raise TransportError(
        f"no free archive name for {name!r}",
        permanent=True,
        where=str(directory),
        fix="clean up the archive folder",
    )
