"""Where a delivery goes, as a value: the destination of a delivery row, parsed once.

The store keeps a delivery's destination as text — ``folder:/srv/x/inbox``,
``sftp:<transport-id>:/inbox``, ``partner:<id>`` (a PBM's outbound, for acknowledgments),
``provider:<id>`` (``gateway split`` without a roster: the provider as the file names it) or
``held`` (no destination yet: an unknown or inactive member, released by an operator). The
text stays the storage and JSON form; code builds and reads it only through
:class:`Destination`, so a new kind is one place and an unknown one a clear error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from gateway.errors import ConfigError


class DestinationKind(StrEnum):
    FOLDER = "folder"  # a local directory
    SFTP = "sftp"  # a remote directory through a configured SFTP transport
    PARTNER = "partner"  # a PBM's outbound (acknowledgments, reports)
    PROVIDER = "provider"  # no roster: the provider the file names (gateway split only)
    HELD = "held"  # nowhere yet


MEMBER_KINDS = (DestinationKind.FOLDER, DestinationKind.SFTP)  # what members.csv may name


@dataclass(frozen=True)
class Destination:
    """Where a delivery goes.

    ``path`` is the folder, the remote directory (``transport`` then names the SFTP partner
    configuration) or, for a partner or provider, its id; empty for ``held``.
    """

    kind: DestinationKind
    path: str = ""
    transport: str | None = None

    def __str__(self) -> str:
        if self.kind is DestinationKind.SFTP:
            return f"sftp:{self.transport}:{self.path}"
        if self.kind is DestinationKind.HELD:
            return str(self.kind)
        return f"{self.kind}:{self.path}"

    @classmethod
    def partner(cls, partner_id: str) -> Destination:
        return cls(DestinationKind.PARTNER, partner_id)

    @classmethod
    def provider(cls, identifier: str) -> Destination:
        return cls(DestinationKind.PROVIDER, identifier)

    @classmethod
    def parse(cls, text: str) -> Destination:
        """Any destination a delivery row may hold; ConfigError naming an unknown one."""
        if text == DestinationKind.HELD:
            return HELD
        kind, _, rest = text.partition(":")
        if kind in (DestinationKind.PARTNER, DestinationKind.PROVIDER) and rest:
            return cls(DestinationKind(kind), rest)
        found = parse_destination(text)
        if found is None:
            raise ConfigError(f"destination {text!r} is none of folder:, sftp:, partner:, "
                              "provider: or held",
                              fix="correct the member's destination in members.csv, then "
                              "`gateway deliveries redirect`")
        return found


HELD = Destination(DestinationKind.HELD)


def parse_destination(text: str) -> Destination | None:
    """A member's ``folder:/path`` or ``sftp:transport-id:/path``; None when neither."""
    kind, _, rest = text.partition(":")
    if kind == DestinationKind.FOLDER and rest:
        return Destination(DestinationKind.FOLDER, rest)
    if kind == DestinationKind.SFTP:
        transport, _, path = rest.partition(":")
        if transport and path:
            return Destination(DestinationKind.SFTP, path, transport)
    return None


def check_destination(text: str, sftp_transports: Iterable[str] | None = None) -> Destination:
    """A destination as members.csv, ``deliveries redirect`` and the console accept it:
    ``folder:/absolute/dir`` or ``sftp:<transport-id>:/dir`` naming a configured transport
    (when ``sftp_transports`` is given). A relative folder is refused: it would land wherever
    the daemon happens to run. ConfigError saying what is wrong and how to write it."""
    destination = parse_destination(text)
    if destination is None:
        raise ConfigError(f"{text!r} is not a known destination kind",
                          fix="write folder:/path/to/inbox or sftp:<transport-id>:/remote/dir")
    if destination.kind == "folder" and not Path(destination.path).is_absolute():
        raise ConfigError(
            f"folder {destination.path!r} is a relative path",
            fix="write the folder's absolute path, e.g. folder:/srv/pharmacies/X/inbox")
    known = set(sftp_transports) if sftp_transports is not None else None
    if destination.kind == "sftp" and known is not None and destination.transport not in known:
        raise ConfigError(f"SFTP transport {destination.transport!r} is not configured",
                          fix=f"use one of: {', '.join(sorted(known)) or '(none configured)'}")
    return destination
