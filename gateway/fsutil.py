"""File-system helpers every layer may use: names from partners as data, durable renames.

A partner (or a bug) may send ``../../etc/passwd``, an absolute path, a name with control
characters or a Windows device name. Everything that becomes a local or remote path goes
through :func:`safe_name`; the original name is kept in the message store.
:func:`fsync_directory` makes a rename or unlink in a directory survive a power cut.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gateway.errors import InputError

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


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
