"""An SFTP directory listing that keeps each name's bytes as the server sent them.

paramiko's ``listdir_attr`` decodes every name as strict UTF-8: one file a Windows PBM named
in Latin-1 raises UnicodeDecodeError for the whole listing, so every poll of that partner
fails and every later file stays at the PBM. This reads the same SSH_FXP_READDIR replies
(through paramiko's request layer, the one private call it makes) and hands out raw bytes;
:mod:`gateway.transport.names` turns them into data.
"""

from __future__ import annotations

from typing import Any, cast

import paramiko
from paramiko.sftp import CMD_CLOSE, CMD_HANDLE, CMD_NAME, CMD_OPENDIR, CMD_READDIR, SFTPError

Entry = tuple[bytes, paramiko.SFTPAttributes]


def listdir_raw(client: paramiko.SFTPClient, directory: str) -> list[Entry]:
    """``(raw name, attributes)`` of every entry but ``.`` and ``..``."""
    sftp: Any = client  # the request layer is private (and not in the stubs)
    kind, msg = sftp._request(CMD_OPENDIR, directory)
    if kind != CMD_HANDLE:
        raise SFTPError("Expected handle")
    handle = msg.get_binary()
    entries: list[Entry] = []
    try:
        while True:
            try:
                kind, msg = sftp._request(CMD_READDIR, handle)
            except EOFError:  # paramiko's way of saying SSH_FX_EOF: the listing is complete
                break
            if kind != CMD_NAME:
                raise SFTPError("Expected name response")
            for _ in range(msg.get_int()):
                raw = msg.get_string()
                longname = msg.get_string()
                attributes = cast(Any, paramiko.SFTPAttributes)._from_msg(
                    msg, raw.decode("utf-8", "replace"), longname.decode("utf-8", "replace"))
                if raw not in (b".", b".."):
                    entries.append((raw, attributes))
    finally:
        sftp._request(CMD_CLOSE, handle)
    return entries
