"""``gateway check``'s connection tests: reach each partner the way the daemon will.

For an SFTP partner that means the same pinned host key, the same key login and the same
timeouts as the daemon's transfers (:class:`gateway.transport.ssh.SftpConnection`, with the
settings :mod:`gateway.transport.config` builds from the partner's table), then a ``stat`` of
every folder the gateway will use — never a download, never a write, so a check against a
production PBM changes nothing there. A local folder is checked for existence and
permissions. Each failure carries the transport's own message (host key fingerprint,
authentication refused, no such folder) and what to do.

:func:`check_offline` (``check`` and ``check --offline``) looks, without connecting, at what
the daemon reads only when a file arrives: every site mapping in ``mappings/`` and every
mapping a member's formats need, each member's destination, each SFTP table's key file and
known_hosts, each local inbound folder; no partner at all is a warning. A typo there would
otherwise show first as a failed file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config.destination import DestinationKind
from gateway.config.partners import Partner
from gateway.config.settings import Settings
from gateway.daemon.health import is_loopback
from gateway.daemon.runtime import Runtime
from gateway.errors import GatewayError
from gateway.render.mapping import load_mapping
from gateway.store.crypt.keys import load_keyring
from gateway.transport.config import sftp_settings
from gateway.transport.ssh import SftpConnection


@dataclass(frozen=True)
class Probe:
    ok: bool
    what: str
    detail: str
    warning: bool = False  # ok, but a person should look (printed WARN)


def check_offline(runtime: Runtime) -> Iterator[Probe]:
    """What the daemon will use, checked without a connection (see the module docstring)."""
    if not runtime.config.pbms:
        yield Probe(True, "partners", "no PBM configured: the daemon will poll nothing "
                    "(add partners/pbms/<id>.toml)", warning=True)
    yield from _mappings(runtime)
    yield from _destinations(runtime)
    yield from _exposure(runtime)
    for partner in (*runtime.config.pbms.values(), *runtime.config.destinations.values()):
        for side, table in (("inbound", partner.inbound), ("outbound", partner.outbound)):
            if table is not None:
                yield from _table_files(partner, side, table)


def _exposure(runtime: Runtime) -> Iterator[Probe]:
    """Secrets and listeners: what an auditor asks first (issue 13, Security).

    An inline password or passphrase never gets this far (loading the configuration refuses
    it, naming file, line and key), so the count here is of references only."""
    tables = [t for p in (*runtime.config.pbms.values(), *runtime.config.destinations.values())
              for t in (p.inbound, p.outbound) if t is not None]
    count = sum(key in t for t in tables for key in ("passphrase", "password"))
    alerts = runtime.settings.alerts
    count += alerts.mail is not None and alerts.mail.password is not None
    yield Probe(True, "secrets", f"{count} password/passphrase reference(s), each file: or "
                "env:; none written in the configuration (an inline value is refused)")
    listen = runtime.settings.listen
    if listen is None:
        return
    host, port = listen
    if is_loopback(host):
        yield Probe(True, "http", f"metrics and health on {host}:{port} (loopback only)")
    else:
        yield Probe(True, "http", f"metrics and health listen beyond loopback on {host}:{port}:"
                    " they name partners and destinations; listen = "
                    f'"127.0.0.1:{port}" behind a reverse proxy with authentication',
                    warning=True)


def encryption_probe(settings: Settings) -> Probe:
    """The ``[encryption]`` key, read and checked the way the store will (exists, 0600, 32
    bytes); no section is a failure (``gateway run`` refuses it), plaintext by choice a warning."""
    what = "payload encryption"
    enc = settings.encryption
    try:
        keyring = load_keyring(settings)
    except GatewayError as exc:
        return Probe(False, what, str(exc))
    if enc.mode == "unset":
        return Probe(False, what, f"{settings.path} has no [encryption] section: `gateway run` "
                     "refuses to keep claim files without a choice; make a key with `gateway "
                     'keys new PATH` and add [encryption] payloads = "on", key = "file:PATH", '
                     'or payloads = "off" to keep plaintext by choice (docs/security.md)')
    if keyring is None or keyring.current is None:
        return Probe(True, what, 'off by choice ([encryption] payloads = "off"): payloads '
                     "are stored in plaintext", warning=True)
    olds = [k for k in keyring.known if k != keyring.current.key_id]
    source = enc.key.reference if enc.key else "?"
    return Probe(True, what, f"on, key id {keyring.current.key_id} ({source})"
                 + (f"; previous key ids {', '.join(olds)}" if olds else ""))


def _mappings(runtime: Runtime) -> Iterator[Probe]:
    """Every site mapping, and the mapping of every format a member asks for, loads."""
    site = runtime.settings.path.parent / "mappings"
    dirs = (site,) if site.is_dir() else ()
    names = {f"remittance-{fmt}" for member in runtime.config.roster for fmt in member.formats
             if fmt != "835"}
    names |= {path.stem for path in site.glob("remittance-*.toml")} if dirs else set()
    for name in sorted(names):
        try:
            load_mapping(name, dirs)
        except GatewayError as exc:
            yield Probe(False, f"mapping {name}", str(exc))
        else:
            yield Probe(True, f"mapping {name}", "loads")


def _destinations(runtime: Runtime) -> Iterator[Probe]:
    """Each active member's destination names a Sink the daemon can build."""
    problems = []
    members = [m for m in runtime.config.roster if m.active]
    for member in members:
        try:
            runtime.sink_for(str(member.destination)).close()
        except GatewayError as exc:
            problems.append(f"{member.pharmacy_id}: {exc}")
    yield Probe(not problems, "member destinations",
                "; ".join(problems[:5]) or f"{len(members)} active member(s) resolvable")


def _table_files(partner: Partner, side: str, table: dict[str, Any]) -> Iterator[Probe]:
    """An SFTP table's key file and known_hosts exist; a local inbound folder exists."""
    base = Path(partner.file).parent
    what = f"{partner.id} [{side}]"
    if table.get("type") == "folder":
        if side == "inbound":
            problem = _local_problem(base, _folder(table))
            yield Probe(problem is None, f"{what} folder", problem or "present")
        return
    missing = []
    for key in ("key_file", "known_hosts"):
        path = Path(str(table.get(key, ""))).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            missing.append(f"{key} {path} is not a file")
    yield Probe(not missing, f"{what} keys", "; ".join(missing) or "key file and known_hosts "
                "present")


def probe_all(runtime: Runtime) -> Iterator[Probe]:
    """One Probe per transport table of each PBM, and per SFTP destination members use."""
    for partner in runtime.config.pbms.values():
        if partner.inbound is not None:
            yield probe(partner, "inbound", partner.inbound, _inbound_folders(partner.inbound))
        if partner.outbound is not None and partner.acknowledgment.kind != "none":
            yield probe(partner, "outbound", partner.outbound, [_folder(partner.outbound)])
    used: dict[str, set[str]] = {}
    for member in runtime.config.roster:
        destination = member.destination
        if destination.kind is DestinationKind.SFTP and member.active:
            used.setdefault(destination.transport or "", set()).add(destination.path)
    for transport_id, folders in sorted(used.items()):
        owner = runtime.config.destinations.get(transport_id) or runtime.config.pbms.get(
            transport_id)
        if owner is not None and owner.outbound is not None:
            yield probe(owner, "outbound", owner.outbound, sorted(folders))


def probe(partner: Partner, side: str, table: dict[str, Any], folders: list[str]) -> Probe:
    """Connect as the daemon would and check that each folder exists."""
    base = Path(partner.file).parent
    if table.get("type") == "folder":
        problems = [p for p in (_local_problem(base, f) for f in folders) if p]
        return Probe(not problems, f"{partner.id} [{side}] (folder)",
                     "; ".join(problems) or f"{len(folders)} folder(s) usable")
    settings = sftp_settings(table, partner=partner.id, where=f"{partner.file} [{side}]",
                             base_dir=base)
    what = f"{partner.id} [{side}] (sftp {settings.user}@{settings.host}:{settings.port})"
    connection = SftpConnection(settings)
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


def _folder(table: dict[str, Any]) -> str:
    return table.get("remote_dir") or table.get("path") or ""


def _inbound_folders(table: dict[str, Any]) -> list[str]:
    folders = [_folder(table)]
    if table.get("after_fetch", "archive") == "archive" and table.get("archive_dir"):
        folders.append(table["archive_dir"])
    return folders


def _local_problem(base: Path, folder: str) -> str | None:
    path = Path(folder).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_dir():
        return f"{path} is not a folder (create it, or correct the partner file)"
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return f"{path} is not readable and writable by this user"
    return None
