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

import dataclasses
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from gateway.errors import TransportError
from gateway.fsutil import atomic_write, safe_name
from gateway.log import get_logger
from gateway.transport.base import Delivered, Fetched, RemoteFile
from gateway.transport.dirfd import check_regular, open_below, open_directory, open_regular
from gateway.transport.faults import classify
from gateway.transport.names import is_plain, refusal, text_name
from gateway.transport.readiness import Readiness, StabilityTracker

TEMP_PREFIX = ".gateway-"
TEMP_SUFFIX = ".part"
_CHUNK = 1 << 20


LOCAL_DELIVERY_MODE = 0o640  # the pharmacy's group may read its remittances; others nothing


def write_atomically(directory: Path, name: str, data: BinaryIO, *,
                     mode: int = LOCAL_DELIVERY_MODE) -> Delivered:
    """Copy ``data`` to ``directory/name`` through a fsynced temp file and a rename; the
    file gets exactly ``mode``, whatever the umask."""
    final = directory / name
    digest = hashlib.sha256()
    size = 0
    with atomic_write(final, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, mode=mode) as pending:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            pending.file.write(chunk)
    return Delivered(location=str(final), size=size, sha256=digest.hexdigest())


class FolderSink:
    """Delivers files into a local folder (a pharmacy's drop folder, a PBM's outbound share)."""

    def __init__(self, directory: Path | str, *, mode: int = LOCAL_DELIVERY_MODE) -> None:
        self.directory = Path(directory)
        self.mode = mode

    def deliver(self, name: str, data: BinaryIO) -> Delivered:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # e.g. a part of the path is a file: retrying cannot help
            raise classify(error, where=str(self.directory),
                           doing="creating the destination folder") from error
        return write_atomically(self.directory, safe_name(name), data, mode=self.mode)

    def close(self) -> None:
        """Nothing to release: present so every Sink can be used the same way."""

    def __repr__(self) -> str:
        return f"FolderSink({str(self.directory)!r})"


class FolderSource:
    """Files a pharmacy (or a partner's mounted share) drops into a local folder.

    Use like every Source: ``list_ready`` → ``fetch`` → the caller commits to the store →
    ``acknowledge``. The folder's own file is untouched until ``acknowledge``. The folder is
    hostile input (:mod:`gateway.transport.dirfd`, :mod:`gateway.transport.names`): links are
    never followed, hard-linked files never read, any name is data.
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
        self._fetched: dict[bytes, tuple[int, ...]] = {}  # raw name -> _identity
        self._refused: set[tuple[bytes, str]] = set()  # warned about once each

    def list_ready(self) -> list[RemoteFile]:
        """Plain files with one link, complete by the convention. A planted archive link
        fails the poll (with its reason) before anything is fetched."""
        try:
            with open_directory(self.directory) as folder:
                if self.after_fetch == "archive":
                    self._check_archive(folder)
                with os.scandir(folder) as entries:
                    listing = [self._entry(entry) for entry in entries]
        except OSError as error:
            raise classify(error, where=str(self.directory), doing="listing") from error
        names = {remote.name: remote for remote in listing if remote is not None}
        return self.readiness.select(names, self._tracker)

    def _entry(self, entry: os.DirEntry[str]) -> RemoteFile | None:
        raw = os.fsencode(entry.name)
        if not entry.is_file(follow_symlinks=False):
            return None  # folders, symlinks, devices: never offered
        info = entry.stat(follow_symlinks=False)
        reason = refusal(raw) or ("hard-linked" if info.st_nlink != 1 else None)
        if reason is not None:
            self._refuse(raw, reason)
            return None
        name = text_name(raw)
        return RemoteFile(
            path=str(self.directory / name), name=name, size=info.st_size, mtime=info.st_mtime,
            raw_path=None if is_plain(raw) else os.fsencode(self.directory) + b"/" + raw,
        )

    def _refuse(self, raw: bytes, reason: str) -> None:
        if (raw, reason) not in self._refused:
            self._refused.add((raw, reason))
            self._log.warning("folder.refused", remote_name=text_name(raw), reason=reason,
                              fix="the file stays in the folder; replace it with a plain copy")

    def fetch(self, remote: RemoteFile, local_dir: Path) -> Fetched:
        """Copy to a temp file in ``local_dir``, fsync and hash; the original stays put."""
        fd, temp_name = tempfile.mkstemp(prefix=".fetch-", suffix=TEMP_SUFFIX, dir=local_dir)
        digest = hashlib.sha256()
        size = 0
        try:
            with open_directory(self.directory) as folder:
                source = open_regular(folder, remote.raw_name, where=remote.path)
            with os.fdopen(source, "rb") as src, os.fdopen(fd, "wb") as out:
                info = os.fstat(src.fileno())
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
        self._fetched[remote.raw_name] = _identity(info)
        self._log.info(
            "folder.fetched",
            remote_name=safe_name(remote.name),
            size=size,
            sha256=digest.hexdigest(),
        )
        return Fetched(local_path=Path(temp_name), size=size, sha256=digest.hexdigest())

    def stat(self, remote: RemoteFile) -> RemoteFile | None:
        """The file as it is now; None when it is gone."""
        try:
            with open_directory(self.directory) as folder:
                info = os.stat(remote.raw_name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise classify(error, where=remote.path, doing="checking") from error
        return dataclasses.replace(remote, size=info.st_size, mtime=info.st_mtime)

    def acknowledge(self, remote: RemoteFile) -> None:
        """Archive without overwriting (``link`` refuses an existing name) or delete; a file
        already gone is not an error. Call only after the store committed the file. Only the
        file that was fetched goes: one swapped in since is left for the next poll."""
        raw = remote.raw_name
        try:
            with open_directory(self.directory) as folder:
                if self._still_fetched(folder, raw):
                    if self.after_fetch == "delete":
                        os.unlink(raw, dir_fd=folder)
                    else:
                        self._archive(folder, raw, safe_name(remote.name))
                if self.readiness.mode == "marker":
                    _unlink_if_present(folder, raw + self.readiness.marker_suffix.encode())
                os.fsync(folder)
        except OSError as error:
            raise classify(error, where=remote.path, doing="acknowledging") from error
        self._fetched.pop(raw, None)
        self._tracker.forget(remote)
        self._log.info(
            "folder.acknowledged", remote_name=safe_name(remote.name), after_fetch=self.after_fetch
        )

    def _still_fetched(self, folder: int, raw: bytes) -> bool:
        try:
            info = os.lstat(raw, dir_fd=folder)
        except FileNotFoundError:
            return False
        fetched = self._fetched.get(raw)
        if fetched is not None and fetched != _identity(info):
            self._log.warning("folder.replaced", remote_name=text_name(raw),
                              fix="a new file took the name after the fetch; it is polled anew")
            return False
        check_regular(info, where=str(self.directory / text_name(raw)))
        return True

    def _archive(self, folder: int, raw: bytes, name: str) -> None:
        with self._open_archive(folder, create=True) as archive:
            _link_under_free_name(folder, raw, archive, name, where=str(self.archive_dir))
            os.unlink(raw, dir_fd=folder)
            os.fsync(archive)

    def _check_archive(self, folder: int) -> None:
        try:
            with self._open_archive(folder, create=False):
                pass
        except FileNotFoundError:
            pass  # made on the first archive

    def _open_archive(self, folder: int, *, create: bool) -> AbstractContextManager[int]:
        """The archive folder, walked without following links from the drop folder (or, when
        configured elsewhere, from its own parent)."""
        where = str(self.archive_dir)
        if self.archive_dir.is_relative_to(self.directory):
            parts = self.archive_dir.relative_to(self.directory).parts
            return open_below(folder, parts, where=where, create=create)
        return _below_parent(self.archive_dir, where=where, create=create)

    def close(self) -> None:
        """Nothing to release: present so every Source can be used the same way."""

    def __repr__(self) -> str:
        return f"FolderSource({str(self.directory)!r})"


@contextmanager
def _below_parent(directory: Path, *, where: str, create: bool) -> Iterator[int]:
    with open_directory(directory.parent) as parent, \
            open_below(parent, (directory.name,), where=where, create=create) as fd:
        yield fd


def _identity(info: os.stat_result) -> tuple[int, ...]:
    """Which file this is: an inode number is reused at once after an unlink, its change
    time and size tell the new file from the old."""
    return (info.st_dev, info.st_ino, info.st_ctime_ns, info.st_size)


def _unlink_if_present(folder: int, raw: bytes) -> None:
    with suppress(FileNotFoundError):
        os.unlink(raw, dir_fd=folder)


def _link_under_free_name(folder: int, raw: bytes, archive: int, name: str, *,
                          where: str) -> str:
    """Hard-link the folder's ``raw`` into the archive as ``name`` or, when taken, a
    timestamped name (never the link's target: a planted symlink is linked as itself)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for candidate in [name] + [f"{name}.{stamp}" + (f".{i}" if i else "") for i in range(99)]:
        try:
            os.link(raw, candidate, src_dir_fd=folder, dst_dir_fd=archive, follow_symlinks=False)
            return candidate
        except FileExistsError:
            continue
    raise TransportError(
        f"no free archive name for {name!r}",
        permanent=True,
        where=where,
        fix="clean up the archive folder",
    )
