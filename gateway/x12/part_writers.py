"""Where split parts go: a folder (the CLI), nowhere (a dry run), or the message store.

A writer gets each part as an iterator of byte pieces, so a part is never assembled in
memory. The folder writer uses the transport's atomic write (temp name, fsync, rename), so a
crash never leaves a half-written 835 under its final name; held parts go to ``held/``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from gateway.transport.folder import write_atomically
from gateway.transport.names import safe_name
from gateway.x12.parts import Owner


class PiecesReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte pieces."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces: Iterator[bytes] = iter(pieces)
        self._current = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not self._current:
            try:
                self._current = next(self._pieces)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size


class DirectoryPartWriter:
    """Parts to ``directory``, held parts to ``directory/held``, each written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, owner: Owner, name: str, pieces: Iterable[bytes]) -> str:
        target = self.directory / "held" if owner.held else self.directory
        target.mkdir(parents=True, exist_ok=True)
        stream = io.BufferedReader(PiecesReader(pieces), buffer_size=1 << 20)
        return write_atomically(target, safe_name(name), stream).location


class NullPartWriter:
    """A dry run (``gateway route``): parts are produced, counted and hashed, not kept."""

    def write(self, owner: Owner, name: str, pieces: Iterable[bytes]) -> str:
        for _ in pieces:
            pass
        return f"(not written) {name}"
