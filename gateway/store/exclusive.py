"""One daemon per SQLite store: an exclusive lock on a file beside the database.

Two daemons on one SQLite database would poll the same partners in the same name and fetch
every file twice; SQLite has no shared leases across hosts to prevent that, so the second
daemon is refused. The lock is ``flock`` on ``<db>.lock``: the kernel drops it when its
holder dies, even by SIGKILL, so a crashed daemon never blocks its successor. The file names
the holder (host and pid) for the refusal message.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from gateway.errors import ConfigError


class StoreLock:
    """Held from :meth:`acquire` until :meth:`release` (or the process ends)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def acquire(self, purpose: str) -> StoreLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise ConfigError(
                f"the SQLite store is in use by {holder}; one SQLite store serves one daemon",
                where=str(self.path),
                fix="stop the other daemon first, or move the store to PostgreSQL "
                "([gateway] store = \"postgresql://...\") to run several daemons",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{purpose} pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


class NoLock:
    """What a PostgreSQL store holds: nothing, several daemons share it by design."""

    def acquire(self, purpose: str) -> NoLock:
        return self

    def release(self) -> None:
        return None
