"""Local drop folders: the Sink side (atomic delivery into a pharmacy's folder).

Atomic means: write a temp file in the same directory (so the rename cannot cross file
systems), fsync it, ``os.replace`` it onto the final name, then fsync the directory so the
rename itself survives a power cut. A reader of the folder sees either nothing or the whole
file under its final name, never a partial one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from gateway.transport.base import Delivered
from gateway.transport.names import safe_name

TEMP_PREFIX = ".gateway-"
TEMP_SUFFIX = ".part"
_CHUNK = 1 << 20


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(directory: Path, name: str, data: BinaryIO) -> Delivered:
    """Copy ``data`` to ``directory/name`` through a fsynced temp file and a rename."""
    final = directory / name
    digest = hashlib.sha256()
    size = 0
    fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := data.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, final)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_directory(directory)
    return Delivered(location=str(final), size=size, sha256=digest.hexdigest())


class FolderSink:
    """Delivers files into a local folder (a pharmacy's drop folder, a PBM's outbound share)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def deliver(self, name: str, data: BinaryIO) -> Delivered:
        self.directory.mkdir(parents=True, exist_ok=True)
        return write_atomically(self.directory, safe_name(name), data)

    def close(self) -> None:
        """Nothing to release: present so every Sink can be used the same way."""

    def __repr__(self) -> str:
        return f"FolderSink({str(self.directory)!r})"

