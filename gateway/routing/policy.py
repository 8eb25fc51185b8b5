"""The content-based router: which member pharmacy each remittance (or part of one) is for.

An 835 names its pharmacy in several places, and the router looks in each:

* the payee of a transaction set (loop 1000B): N1*PE with N103=XX (NPI) or FI (TIN), REF*D3
  (NCPDP id), REF*TJ (TIN);
* inside a central-pay set paid to the PSAO: each LX group's TS301 provider id, each claim's
  rendering provider (NM1*82, the dispensing pharmacy), and each PLB01.

Identifiers are looked up in the roster by NPI, then NCPDP id, then TIN (a TIN only when one
member has it: chains share TINs). A pharmacy that is not a member, or is inactive, is *held*
— an owner with a reason, which the store records as a held delivery with an event and an
alert — never dropped. Without a roster (``gateway split`` with no ``--members``) every
provider of the file is its own owner, so a file can be split before anyone is configured.

The router answers the splitter through the :class:`gateway.x12.split.parts.PartPolicy`
interface; :mod:`gateway.routing.plan` turns a split into planned deliveries.
"""

from __future__ import annotations

from gateway.config.destination import HELD, Destination
from gateway.config.members import Member, Roster, npi_is_valid
from gateway.config.psao import Psao
from gateway.model import ClaimPayment, Remittance
from gateway.x12.split.parts import Owner, PartPolicy, Payee, ProviderRef


def member_owner(member: Member) -> Owner:
    """The owner for a member; an inactive member's parts are held, not delivered."""
    return Owner(
        key=f"member:{member.pharmacy_id}",
        label=member.pharmacy_id,
        destination=str(member.destination),
        name=member.name,
        npi=member.npi,
        ncpdp_id=member.ncpdp_id,
        tin=member.tin,
        identifiers=frozenset(i for i in (member.npi, member.ncpdp_id, member.tin) if i),
        held_reason=None if member.active else f"member {member.pharmacy_id} is inactive",
        formats=member.formats,
        pharmacy_id=member.pharmacy_id,
    )


def unknown_owner(identifier: str, what: str, name: str | None = None) -> Owner:
    """A held owner for a provider the roster does not know."""
    return Owner(
        key=f"unknown:{identifier}",
        label=f"unknown-{identifier}",
        destination=str(HELD),
        name=name,
        npi=identifier if npi_is_valid(identifier) else None,
        identifiers=frozenset({identifier}),
        held_reason=f"{what} {identifier} is not in the member roster",
    )


def provider_owner(ref: ProviderRef, name: str | None = None) -> Owner:
    """Without a roster: the provider as the file names it is the owner."""
    identifier = ref.identifier
    is_npi = ref.qualifier == "XX" or (not ref.qualifier and npi_is_valid(identifier))
    return Owner(
        key=f"provider:{identifier}",
        label=identifier,
        destination=str(Destination.provider(identifier)),
        name=name,
        npi=identifier if is_npi else None,
        tin=identifier if ref.qualifier == "FI" else None,
        identifiers=frozenset({identifier}),
    )


class RosterPolicy:
    """Routing against the member roster (the daemon, and ``--members`` on the CLI)."""

    def __init__(self, roster: Roster, psao: Psao | None = None) -> None:
        self.roster = roster
        self.psao_ids = psao.identifiers if psao else frozenset()

    def find(self, ref: ProviderRef) -> Member | None:
        """The member a provider reference names, by the qualifier when there is one."""
        identifier = ref.identifier
        if ref.qualifier == "XX":
            return self.roster.by_npi(identifier)
        if ref.qualifier == "FI":
            return self._by_unique_tin(identifier)
        if ref.qualifier == "D3":
            return self.roster.by_ncpdp(identifier)
        return (
            self.roster.by_npi(identifier)
            or self.roster.by_ncpdp(identifier)
            or self._by_unique_tin(identifier)
        )

    def find_payee(self, payee: Payee) -> Member | None:
        return (
            (self.roster.by_npi(payee.npi) if payee.npi else None)
            or (self.roster.by_ncpdp(payee.ncpdp_id) if payee.ncpdp_id else None)
            or (self._by_unique_tin(payee.tin) if payee.tin else None)
        )

    def whole_owner(self, payee: Payee, providers: frozenset[ProviderRef]) -> Owner | None:
        member = self.find_payee(payee)
        if member is not None:
            return member_owner(member)
        if payee.identifiers & self.psao_ids or _names_others(payee, providers):
            return None  # central pay: split by the providers inside
        return unknown_owner(payee.identifier, "payee", payee.name)

    def provider_owner(self, provider: ProviderRef, name: str | None) -> Owner:
        member = self.find(provider)
        if member is not None:
            return member_owner(member)
        return unknown_owner(provider.identifier, "provider", name)

    def is_psao(self, identifier: str) -> bool:
        return identifier in self.psao_ids

    def _by_unique_tin(self, tin: str) -> Member | None:
        members = self.roster.by_tin(tin)
        return members[0] if len(members) == 1 else None


class ProviderPolicy:
    """Routing without a roster: one owner per payee or provider found in the file."""

    def __init__(self, psao: Psao | None = None) -> None:
        self.psao_ids = psao.identifiers if psao else frozenset()

    def whole_owner(self, payee: Payee, providers: frozenset[ProviderRef]) -> Owner | None:
        if payee.identifiers & self.psao_ids or _names_others(payee, providers):
            return None
        return provider_owner(ProviderRef(payee.qualifier, payee.identifier), payee.name)

    def provider_owner(self, provider: ProviderRef, name: str | None) -> Owner:
        return provider_owner(provider, name)

    def is_psao(self, identifier: str) -> bool:
        return identifier in self.psao_ids


def owners_of(remittance: Remittance, policy: PartPolicy) -> list[Owner]:
    """Who a canonical remittance (one transaction set from ``read_835``) goes to, by the same
    rules the splitter applies to the raw file: its payee's member for the whole set, or —
    central pay — each claim's provider (NM1*82, else TS301) in order of first appearance."""
    payee = Payee(
        remittance.payee.name, remittance.payee.id_qualifier or "",
        remittance.payee.identifier or "", remittance.payee.ncpdp_id, remittance.payee.tin,
    )
    refs = [_claim_ref(claim) for claim in remittance.claims]
    whole = policy.whole_owner(payee, frozenset(ref for ref in refs if ref is not None))
    if whole is not None:
        return [whole]
    owners: dict[str, Owner] = {}
    for ref in refs:
        if ref is not None:
            owner = policy.provider_owner(ref, None)
            owners.setdefault(owner.key, owner)
    return list(owners.values())


def _claim_ref(claim: ClaimPayment) -> ProviderRef | None:
    if claim.rendering_provider_npi:
        return ProviderRef("XX", claim.rendering_provider_npi)
    return ProviderRef("", claim.provider_id) if claim.provider_id else None


def _names_others(payee: Payee, providers: frozenset[ProviderRef]) -> bool:
    """Whether the set's claims name providers other than its payee (central pay)."""
    return any(ref.identifier not in payee.identifiers for ref in providers)
