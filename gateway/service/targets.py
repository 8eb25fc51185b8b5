"""Where a delivery may be sent: a member of the roster, or a destination written out.

``deliveries redirect D12 --to 1000013`` names a member (pharmacy id, NPI or NCPDP id) whose
roster destination is taken; ``--to folder:/srv/x/inbox`` or ``--to sftp:vendor:/in`` is
checked like a members.csv destination (:func:`gateway.config.members.check_destination`).
The member a delivery belongs to is read from its document's routing keys, so a corrected
roster destination is found for a retry or replay, and a held part's pharmacy once it joins.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.configuration import Configuration
from gateway.config.destination import check_destination
from gateway.config.members import Member, Roster
from gateway.errors import ConfigError
from gateway.store.models import Document


@dataclass(frozen=True)
class Target:
    """A resolved destination string and, when it came from the roster, the member."""

    destination: str
    member: Member | None = None

    def describe(self) -> str:
        if self.member is None:
            return self.destination
        return f"member {self.member.pharmacy_id} ({self.destination})"


def resolve_target(text: str, config: Configuration | None) -> Target:
    """``text`` as a member id or a destination; ConfigError saying how to write it."""
    text = text.strip()
    if ":" in text:
        known = None if config is None else [
            pid for pid, p in (config.pbms | config.destinations).items() if p.outbound]
        return Target(str(check_destination(text, known)))
    if config is None:
        raise ConfigError(
            f"{text!r} looks like a member, but no roster is loaded",
            fix="pass --config PATH (the daemon's gateway.toml) or give the destination "
            "itself, e.g. folder:/srv/pharmacies/X/inbox")
    member = find_member(config.roster, text)
    if member is None:
        raise ConfigError(f"no member {text!r} in the roster",
                          fix="give a pharmacy id, NPI or NCPDP id from members.csv")
    if not member.active:
        raise ConfigError(f"member {member.pharmacy_id} is inactive",
                          fix="activate it in members.csv (and reload), or name a destination")
    return Target(str(member.destination), member)


def find_member(roster: Roster, identifier: str) -> Member | None:
    """A member by pharmacy id, NPI, NCPDP id or (when only one member has it) TIN."""
    tin = roster.by_tin(identifier)
    return (roster.by_id(identifier) or roster.by_npi(identifier)
            or roster.by_ncpdp(identifier) or (tin[0] if len(tin) == 1 else None))


def member_of(document: Document, roster: Roster) -> Member | None:
    """The roster member a document is for, by its routing keys (a routed part names its
    pharmacy id; a held one only the NPI, NCPDP id or TIN the file gave)."""
    keys = document.routing_keys
    for key in ("pharmacy_id", "npi", "payee_npi", "ncpdp_id", "tin"):
        if keys.get(key):
            member = find_member(roster, keys[key])
            if member is not None:
                return member
    return None
