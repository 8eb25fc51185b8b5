"""File-system helpers every layer may use: names from partners as data, the atomic write.

A partner (or a bug) may send ``../../etc/passwd``, an absolute path, a name with control
characters or a Windows device name. Everything that becomes a local or remote path goes
through :func:`safe_name`; the original name is kept in the message store.
:func:`fsync_directory` makes a rename or unlink in a directory survive a power cut, and
:func:`atomic_write` is the one way a local file is written: a hidden temp name in the
target's file system, fsync, rename onto the final name, fsync the directory. A reader sees
nothing or the whole file under its final name, never a part of one.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gateway.errors import InputError

PRIVATE_DIRECTORY = 0o700  # the data dir, payload dirs: claim data is nobody else's business
PRIVATE_FILE = 0o600  # the database (and its WAL/SHM), payloads, keys

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_LENGTH = 200


def safe_name(name: str) -> str:
    """A single path component made only of ``[A-Za-z0-9._-]``, never ``.``/``..`` or hidden.

    Directory parts are dropped (only the last component of ``a/b\\c`` is kept), every other
    character becomes ``_``, and a leading dot becomes ``_`` so the result is never hidden and
    never a temp-file name of ours.
    """
    base = re.split(r"[\\/]", name)[-1]
    cleaned = _UNSAFE.sub("_", base)[:_MAX_LENGTH]
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    if not cleaned.strip("._"):
        raise InputError(
            f"file name {name!r} has no usable characters",
            code="bad-file-name",
            fix="ask the partner to use plain file names (letters, digits, dot, dash)",
        )
    return cleaned


def private_directory(directory: Path, *, existing: bool = True) -> Path:
    """Create ``directory`` (and missing parents) mode 0700 and, when ``existing``, make it
    0700 if it was there already (``mkdir``'s mode goes through the umask, and an older
    version made it 0755). ``existing=False`` for a folder that may be shared (a database
    path's parent given by the operator)."""
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for new in reversed(missing):
        with suppress(FileExistsError):
            new.mkdir(mode=PRIVATE_DIRECTORY)
    if existing or missing:
        os.chmod(directory, PRIVATE_DIRECTORY)
    return directory


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, and make it 0600 whatever the umask (SQLite creates
    its database, WAL and SHM with the database file's mode, so this comes before connect).

    An existing file is only chmod-ed, never opened: closing any descriptor of a database
    file drops the POSIX locks SQLite holds on it in this process."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     PRIVATE_FILE)
    except FileExistsError:
        os.chmod(path, PRIVATE_FILE)
        return path
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return path


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class PendingFile:
    """A file being written under its temp name. ``final`` is where it goes at the end; the
    writer may name it only once the content is known (a content hash), or set it to None to
    keep nothing (the same content is already there)."""

    file: BinaryIO
    temp: Path
    final: Path | None


@contextmanager
def atomic_write(
    final: Path | None,
    *,
    directory: Path | None = None,
    prefix: str = ".",
    suffix: str = ".part",
    durable: bool = True,
    mode: int = 0o600,
) -> Iterator[PendingFile]:
    """Write a file atomically: yield an open temp file, then rename it onto ``final``.

    The temp file is ``directory/<prefix><random><suffix>`` (``directory`` defaults to the
    final name's folder; it must be on the same file system): hidden and ``.part``, so no
    folder reader takes it for a finished file. ``mode`` is set exactly, whatever the umask:
    0o600 by default because what the gateway writes is payment data. ``durable=False`` skips the
    fsyncs (scratch output, caches): a power cut may lose the file, never leave half of it.
    On any error the temp file is removed and nothing is renamed.
    """
    folder = directory if directory is not None else _parent(final)
    temp, fd = _create_temp(folder, prefix, suffix, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            pending = PendingFile(out, temp, final)
            yield pending
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if pending.final is None:
            temp.unlink()
            return
        os.replace(temp, pending.final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_directory(pending.final.parent)


def _parent(final: Path | None) -> Path:
    if final is None:
        raise ValueError("atomic_write needs a directory when the final name comes later")
    return final.parent


def _create_temp(folder: Path, prefix: str, suffix: str, mode: int) -> tuple[Path, int]:
    """A new temp file of our own (O_EXCL: never someone else's, never reused)."""
    while True:
        temp = folder / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        except FileExistsError:
            continue
        os.fchmod(fd, mode)  # the umask may have taken bits off (or an operator's 0640 need them)
        return temp, fd
