"""Raw and rendered bytes, kept unchanged, addressed by their SHA-256 (the embedded back end).

A payload is written to a temp file inside the store's directory, fsynced, renamed onto
``ab/cd/<sha256>`` and the directory fsynced — the same discipline as a delivery — so a crash
leaves either no payload or the whole payload, never a torn one. Content addressing makes
keeping the same bytes twice free (a duplicate file, a replayed split) and lets anyone check a
payload against its name. A payload written just before a crash that never got its database row
is an orphan: harmless, and cheap to find (a name no row mentions).

With encryption on (crypt/), the file holds the sealed payload and its envelope (the wrapped
data key) a row of ``payload_envelopes``; both must agree (the blob id). The sealed file is
written under its temp name without holding any lock, then, in one write transaction of the
database, either found kept already (a file whose header matches the envelope) or renamed
into place with its new envelope — so a crash, or two writers of the same bytes, never leave
a file under the name with another file's data key. Still keyed by the plaintext's SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from gateway.errors import StoreError
from gateway.fsutil import (
    PRIVATE_DIRECTORY,
    PRIVATE_FILE,
    atomic_write,
    fsync_directory,
    private_directory,
)

if TYPE_CHECKING:
    from gateway.store.crypt.envelopes import PayloadSealer

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

    def __init__(self, root: Path, sealer: PayloadSealer | None = None) -> None:
        self.root = Path(root)
        self.sealer = sealer
        self._lock = threading.Lock()
        self._incoming = self.root / "incoming"
        private_directory(self._incoming)
        os.chmod(self.root, PRIVATE_DIRECTORY)

    def path_of(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: BinaryIO) -> tuple[str, int]:
        """Keep the bytes (sealed when the sealer seals); return (sha256, size)."""
        if self.sealer is not None and self.sealer.sealing:
            return self._put_sealed(self.sealer, data)
        if self.sealer is not None:
            self.sealer.allow_plaintext()
        with atomic_write(None, directory=self._incoming, prefix=".payload-", suffix="") as pending:
            sha256, size = copy_hashing(data, pending.file)
            final = self.path_of(sha256)
            if final.exists():
                pending.final = None  # the same bytes are kept already
            else:
                self._make_directories(final.parent)
                pending.final = final
        return sha256, size

    def _put_sealed(self, sealer: PayloadSealer, data: BinaryIO) -> tuple[str, int]:
        from gateway.store.crypt.envelopes import blob_id_of

        temp = self._incoming / f".payload-{secrets.token_hex(6)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
        try:
            with os.fdopen(fd, "wb") as out:
                sha256, size, envelope = sealer.seal(data, out)
                out.flush()
                os.fsync(out.fileno())
            final = self.path_of(sha256)
            with self._lock, sealer.transaction() as db:
                kept = sealer.envelope(sha256, db)
                if kept is not None and blob_id_of(final) == kept.blob_id:
                    temp.unlink()  # the same bytes are kept already, sealed
                    return sha256, size
                self._make_directories(final.parent)
                os.replace(temp, final)
                fsync_directory(final.parent)
                sealer.record(db, sha256, envelope)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return sha256, size

    def _make_directories(self, directory: Path) -> None:
        """Create ``ab/cd`` and make the new entries themselves durable."""
        if directory.is_dir():
            return
        private_directory(directory)  # ab/cd, 0700 whatever the umask
        fsync_directory(directory.parent)
        fsync_directory(self.root)

    def open(self, sha256: str) -> BinaryIO:
        path = self.path_of(sha256)
        try:
            found = path.open("rb")
        except FileNotFoundError:
            raise StoreError(
                f"payload {sha256} is missing from {self.root}",
                fix="restore the payload directory from backup; the database names it",
            ) from None
        if self.sealer is None:
            return found
        return self.sealer.open(sha256, found, str(path))
