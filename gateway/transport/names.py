"""Partner file names as data: whatever bytes a drop folder or an SFTP server hands us.

A name is the partner's, not ours: it may not be UTF-8 (a Windows PBM writing Latin-1), it may
carry a newline (a forged log line) or a path separator (a hostile server's ``../x``), it may
be longer than any file system keeps. Each listed name is either *taken* with a printable text
form (kept in the store and the logs; the raw bytes stay on the RemoteFile for the transport)
or *refused* with a named reason, and never stops the listing of the names after it.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_BYTES = 255  # NAME_MAX of every file system we deliver to or archive on

REFUSED_SEPARATOR = "path-separator-in-name"
REFUSED_TOO_LONG = "name-too-long"


def refusal(raw: bytes) -> str | None:
    """Why a listed name cannot be taken as one file of this folder, or None when it can."""
    if b"/" in raw or b"\0" in raw:
        return REFUSED_SEPARATOR
    if len(raw) > MAX_NAME_BYTES:
        return REFUSED_TOO_LONG
    return None


def text_name(raw: bytes) -> str:
    """The name as printable text: UTF-8 as is; other bytes as ``\\xNN`` and control characters
    (newline, tab, escape...) as ``\\xNN`` too, so a name can never split or forge a log line
    and always encodes to UTF-8 for the store."""
    decoded = raw.decode("utf-8", "backslashreplace")
    return "".join(
        f"\\x{ord(c):02x}" if unicodedata.category(c) in ("Cc", "Cs") else c for c in decoded
    )


def is_plain(raw: bytes) -> bool:
    """True when the text form is the name itself (the transport may use the text path)."""
    return text_name(raw).encode("utf-8") == raw
