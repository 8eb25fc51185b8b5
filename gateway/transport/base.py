"""The one interface every transport implements (Mirth's FileSystemConnection idea).

A **Source** is where partners leave files for us: list what is ready, fetch one to a local
file, and — only after the message store has committed it — acknowledge it (archive or delete
the partner's copy). A **Sink** is where we leave files for a partner: deliver bytes under a
name atomically, so that nobody ever sees a partial file under the final name.

A partner's transport is then a line of configuration, and the store, router and daemon never
know whether a file came over SFTP or from a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class RemoteFile:
    """A file offered by a Source. ``path`` is the transport's own path; ``name`` is its base
    name as the partner wrote it (data, not a path we trust), as printable text
    (:mod:`gateway.transport.names`). When the partner's bytes are not that text (Latin-1, a
    newline), ``raw_path`` holds the path exactly as the file system or server spells it, and
    the transport uses it instead of ``path``."""

    path: str
    name: str
    size: int
    mtime: float
    raw_path: bytes | None = None

    @property
    def raw_name(self) -> bytes:
        """The base name as the transport spells it."""
        raw = self.raw_path if self.raw_path is not None else self.path.encode("utf-8")
        return raw.rsplit(b"/", 1)[-1]


@dataclass(frozen=True)
class Fetched:
    """A file fetched to local disk, fsynced, with its SHA-256."""

    local_path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Delivered:
    """A file delivered under its final name, as checked after the write."""

    location: str
    size: int
    sha256: str


class Source(Protocol):
    """Where partners leave files for the gateway.

    The order is the whole point (DESIGN.md, "the walk of one file")::

        for remote in source.list_ready():
            fetched = source.fetch(remote, inbox)   # partner's copy untouched
            store.receive(partner, remote, fetched) # the caller commits (the Source never knows)
            source.acknowledge(remote)              # only now archive/delete the partner's copy

    A crash before the commit means the file is fetched again next poll; a crash after it and
    before ``acknowledge`` means the store sees the same SHA-256 again (a duplicate, not a loss).
    """

    def list_ready(self) -> list[RemoteFile]:
        """Files that are complete (stable across polls, or marked done by the partner)."""
        ...

    def fetch(self, remote: RemoteFile, local_dir: Path) -> Fetched:
        """Copy one file to a temp file under ``local_dir``, fsync it and hash it; the
        partner's copy is left in place. On failure no temp file remains."""
        ...

    def stat(self, remote: RemoteFile) -> RemoteFile | None:
        """The file as it is now (None: gone). The receiver compares it with the listing
        before it archives: a file that grew or was touched since is still being written."""
        ...

    def acknowledge(self, remote: RemoteFile) -> None:
        """Archive (never overwriting) or delete the partner's copy, and its marker if any.

        Call only after the store has committed the fetched file. Idempotent: a file that is
        already gone is not an error."""
        ...

    def close(self) -> None: ...


class Sink(Protocol):
    """Where the gateway leaves files for a partner or a member pharmacy."""

    def deliver(self, name: str, data: BinaryIO) -> Delivered:
        """Write ``data`` under ``name`` atomically: a temp name, then a rename.

        Delivering the same name again overwrites it, which is what makes a redone delivery
        (after a crash between writing and recording) harmless rather than a duplicate.
        """
        ...

    def close(self) -> None: ...
