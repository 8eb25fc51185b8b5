"""``gateway check``'s connection tests: reach each partner the way the daemon will.

For an SFTP partner that means the same pinned host key, the same key login and the same
timeouts as the daemon's transfers (:class:`gateway.transport.ssh.SftpConnection`), then a
``stat`` of every folder the gateway will use — never a download, never a write, so a check
against a production PBM changes nothing there. A local folder is checked for existence and
permissions. Each failure carries the transport's own message (host key fingerprint,
authentication refused, no such folder) and what to do.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from gateway.config.members import parse_destination
from gateway.config.partners import FolderTransport, Partner, SftpTransport
from gateway.errors import GatewayError
from gateway.runtime import Runtime
from gateway.transport.ssh import SftpConnection


@dataclass(frozen=True)
class Probe:
    ok: bool
    what: str
    detail: str


def probe_all(runtime: Runtime) -> Iterator[Probe]:
    """One Probe per PBM and per SFTP destination used by the roster."""
    for partner in runtime.config.pbms.values():
        yield _probe_partner(runtime, partner, _pbm_folders(partner))
    used: dict[str, set[str]] = {}
    for member in runtime.config.roster:
        destination = parse_destination(str(member.destination))
        if destination is not None and destination.kind == "sftp" and member.active:
            used.setdefault(destination.transport or "", set()).add(destination.path)
    for transport_id, folders in sorted(used.items()):
        owner = runtime.config.destinations.get(transport_id) or runtime.config.pbms.get(
            transport_id)
        if owner is not None:
            yield _probe_partner(runtime, owner, sorted(folders))


def _pbm_folders(partner: Partner) -> list[str]:
    t = partner.transport
    folders = [t.inbound_dir if isinstance(t, SftpTransport) else t.path]
    if partner.archive == "archive" and t.archive_dir:
        folders.append(t.archive_dir)
    if partner.acknowledgment.kind != "none":
        folders.append(partner.acknowledgment.push_to or t.outbound_dir or "")
    return [f for f in folders if f]


def _probe_partner(runtime: Runtime, partner: Partner, folders: list[str]) -> Probe:
    t = partner.transport
    if isinstance(t, FolderTransport):
        problems = [p for p in (_local_problem(runtime, f) for f in folders) if p]
        return Probe(not problems, f"{partner.id} (folder)",
                     "; ".join(problems) or f"{len(folders)} folder(s) usable")
    settings = runtime.sftp_settings(partner.id, t, t.inbound_dir)
    connection = SftpConnection(settings)
    what = f"{partner.id} (sftp {t.user}@{t.host}:{t.port})"
    try:
        with connection.operation("checking folders"):
            sftp = connection.sftp()
            missing = []
            for folder in folders:
                try:
                    if not stat.S_ISDIR(sftp.stat(folder).st_mode or 0):
                        missing.append(f"{folder} is not a folder")
                except FileNotFoundError:
                    missing.append(f"{folder} does not exist")
    except GatewayError as exc:
        return Probe(False, what, str(exc))
    finally:
        connection.close()
    if missing:
        return Probe(False, what, "host key and login ok, but " + "; ".join(missing))
    return Probe(True, what, f"host key pinned, login ok, {len(folders)} folder(s) present")


def _local_problem(runtime: Runtime, folder: str) -> str | None:
    path = runtime.path(folder)
    if not path.is_dir():
        return f"{path} is not a folder (create it, or correct the partner file)"
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return f"{path} is not readable and writable by this user"
    return None


__all__ = ["Probe", "probe_all"]
