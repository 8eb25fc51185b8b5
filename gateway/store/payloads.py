"""Raw and rendered bytes, kept unchanged, addressed by their SHA-256 (the embedded back end).

A payload is written to a temp file inside the store's directory, fsynced, renamed onto
``ab/cd/<sha256>`` and the directory fsynced — the same discipline as a delivery — so a crash
leaves either no payload or the whole payload, never a torn one. Content addressing makes
keeping the same bytes twice free (a duplicate file, a replayed split) and lets anyone check a
payload against its name. A payload written just before a crash that never got its database row
is an orphan: harmless, and cheap to find (a name no row mentions).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import BinaryIO

from gateway.errors import StoreError
from gateway.fsutil import PRIVATE_DIRECTORY, atomic_write, fsync_directory, private_directory

_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


def copy_hashing(data: BinaryIO, out: BinaryIO) -> tuple[str, int]:
    """Copy ``data`` to ``out`` in bounded chunks; return (sha256, size) of what was copied."""
    digest = hashlib.sha256()
    size = 0
    while chunk := data.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        out.write(chunk)
    return digest.hexdigest(), size


def check_sha256(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):
        raise StoreError(f"{sha256!r} is not a SHA-256 payload key", fix="pass a 64-hex-digit key")
    return sha256


class PayloadDirectory:
    """Content-addressed files under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._incoming = self.root / "incoming"
        private_directory(self._incoming)
        os.chmod(self.root, PRIVATE_DIRECTORY)

    def path_of(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: BinaryIO) -> tuple[str, int]:
        """Keep the bytes; return (sha256, size)."""
        with atomic_write(None, directory=self._incoming, prefix=".payload-", suffix="") as pending:
            sha256, size = copy_hashing(data, pending.file)
            final = self.path_of(sha256)
            if final.exists():
                pending.final = None  # the same bytes are kept already
            else:
                self._make_directories(final.parent)
                pending.final = final
        return sha256, size

    def _make_directories(self, directory: Path) -> None:
        """Create ``ab/cd`` and make the new entries themselves durable."""
        if directory.is_dir():
            return
        private_directory(directory)  # ab/cd, 0700 whatever the umask
        fsync_directory(directory.parent)
        fsync_directory(self.root)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path_of(sha256).open("rb")
        except FileNotFoundError:
            raise StoreError(
                f"payload {sha256} is missing from {self.root}",
                fix="restore the payload directory from backup; the database names it",
            ) from None
