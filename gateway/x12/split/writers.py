"""Where split parts go: a folder (the CLI), nowhere (a dry run), or the message store.

A writer gets each part as a list of pieces: small ``bytes`` (envelopes, headers, PLBs) and
:class:`SourceRange` references to the claims in the file being split. The folder writer
copies the ranges kernel-side (``os.sendfile``, falling back to read/write), so the
bulk of a part never passes through Python. It writes atomically (``gateway.fsutil``): a temp
name in the same folder, then a rename; with ``durable`` (the default) the file and the folder
are fsynced too, so a crash never leaves half an 835 under its final name. Held parts go to
``held/``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from gateway.fsutil import atomic_write, safe_name
from gateway.x12.split.parts import (
    LocationKind,
    Owner,
    PartLocation,
    Piece,
    SourceRange,
    piece_bytes,
)


class DirectoryPartWriter:
    """Parts to ``directory``, held parts to ``directory/held``, each written atomically.

    ``durable=False`` skips the fsyncs (still a temp name, then a rename): for scratch output
    and benchmarks, where a power cut may lose the files but never leaves half of one.
    """

    def __init__(self, directory: Path, *, durable: bool = True) -> None:
        self.directory = directory
        self.durable = durable

    def write(self, owner: Owner, name: str, pieces: Iterable[Piece]) -> PartLocation:
        target = self.directory / "held" if owner.held else self.directory
        target.mkdir(parents=True, exist_ok=True)
        final = target / safe_name(name)
        # mode 0o666 under the umask: the part files are the operator's, as they always were
        with atomic_write(final, prefix=f".{final.name}.", durable=self.durable,
                          mode=0o666) as pending:
            fd = pending.file.fileno()  # written below Python's buffer, which stays empty
            for piece in pieces:
                if isinstance(piece, SourceRange):
                    _copy_range(piece, fd)
                else:
                    _write_all(fd, piece)
        return PartLocation(str(final))


class NullPartWriter:
    """A dry run (``gateway route``): parts are produced and measured, not kept."""

    def write(self, owner: Owner, name: str, pieces: Iterable[Piece]) -> PartLocation:
        for _ in pieces:
            pass
        return PartLocation(name, LocationKind.UNWRITTEN)


def _copy_range(source: SourceRange, fd: int) -> None:
    """Copy a range of the source file to ``fd`` in the kernel (``sendfile``, which works
    between any two regular files, unlike copy_file_range across file systems); plain
    read/write where the platform refuses."""
    position = source.start
    try:
        while position < source.end:
            sent = os.sendfile(fd, source.fd, position, source.end - position)
            if sent == 0:
                raise OSError(f"the file being split ended at byte {position}")
            position += sent
        return
    except OSError as exc:
        if exc.errno is None:
            raise
    for block in SourceRange(source.fd, position, source.end).blocks():
        _write_all(fd, block)


def _write_all(fd: int, data: bytes) -> None:
    """os.write may write less than asked: loop until everything is written."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class PayloadStore(Protocol):
    """The one message-store operation a store writer needs."""

    def put_payload(self, data: BinaryIO) -> str: ...


class StorePartWriter:
    """Parts kept as message-store payloads (content-addressed); location ``payload:<sha>``."""

    def __init__(self, store: PayloadStore) -> None:
        self.store = store

    def write(self, owner: Owner, name: str, pieces: Iterable[Piece]) -> PartLocation:
        stream = io.BufferedReader(_PiecesReader(piece_bytes(pieces)), buffer_size=1 << 20)
        return PartLocation(self.store.put_payload(stream), LocationKind.PAYLOAD)


class _PiecesReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte pieces."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._current = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._current:
            try:
                self._current = memoryview(next(self._pieces))
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size
