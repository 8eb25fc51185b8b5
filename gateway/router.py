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

The router answers the splitter through the :class:`gateway.x12.parts.PartPolicy` interface,
and turns a split into planned deliveries: one per (part, destination, format), each with a
deterministic idempotency key.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.config.members import Member, Roster, npi_is_valid
from gateway.config.psao import Psao
from gateway.model import ClaimPayment, Remittance
from gateway.render.mapping import load_mapping
from gateway.render.renderer import render
from gateway.store.base import MessageStore
from gateway.store.models import Delivery, DeliveryRequest
from gateway.x12.control_numbers import ControlNumbers
from gateway.x12.envelope import Party
from gateway.x12.part_writers import StorePartWriter
from gateway.x12.parts import Owner, PartPolicy, Payee, ProviderRef, SplitPart, SplitResult
from gateway.x12.reader import read_835
from gateway.x12.split import split_835


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
        destination="held",
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
        destination=f"provider:{identifier}",
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


@dataclass(frozen=True)
class PlannedDelivery:
    """One (document part, destination, format) to deliver — or to hold, with the reason."""

    idempotency_key: str
    part: SplitPart
    destination: str
    format: str
    held_reason: str | None

    @property
    def held(self) -> bool:
        return self.held_reason is not None


def idempotency_key(part: SplitPart, destination: str, fmt: str) -> str:
    """sha256 of source file hash, ST02, owner, destination and format: the same file split
    again plans the same keys, so the store's UNIQUE key makes re-planning harmless."""
    text = "|".join(
        (part.source.sha256, part.source.control_number, part.owner.key, destination, fmt)
    )
    return hashlib.sha256(text.encode()).hexdigest()


def plan_deliveries(result: SplitResult | Iterable[SplitPart]) -> list[PlannedDelivery]:
    """Fan a split out into deliveries: every format a member wants; held parts once, as 835."""
    parts = result.parts if isinstance(result, SplitResult) else list(result)
    planned = []
    for part in parts:
        formats = ("835",) if part.owner.held else part.owner.formats
        for fmt in formats:
            destination = part.owner.destination
            planned.append(PlannedDelivery(
                idempotency_key(part, destination, fmt), part, destination, fmt,
                part.owner.held_reason,
            ))
    return planned


def route_into_store(
    store: MessageStore,
    file_id: int,
    path: Path,
    policy: PartPolicy,
    numbers: ControlNumbers,
    *,
    sha256: str,
    sender: Party | None = None,
    mappings: Sequence[Path] = (),
    actor: str = "router",
) -> tuple[SplitResult, list[Delivery]]:
    """Split a received 835 and queue every delivery it needs, in the message store.

    Each part becomes a document of the file (ordinal = its place in the split, kind
    ``835-part``, routing keys = the owner's ids) whose payload is the part's 835; each
    (part, destination, format) becomes one delivery request with its idempotency key and
    pre-rendered payload (CSV/JSON/XML rendered from the part through the mapping
    ``remittance-<format>``). Held parts become held deliveries plus an ``alert`` event naming
    the reason; the PSAO's own PLBs become ``psao-adjustment`` events on the file. Running it
    again for the same file changes nothing: documents, payloads and keys are deterministic.
    """
    result = split_835(path, policy=policy, writer=StorePartWriter(store), numbers=numbers,
                       sender=sender, sha256=sha256)
    requests: list[DeliveryRequest] = []
    for ordinal, part in enumerate(result.parts):
        payload = part.location.removeprefix("payload:")
        document = store.add_document(
            file_id, ordinal, kind="835-part", routing_keys=_routing_keys(part),
            source_start=part.source.start_offset, source_end=part.source.end_offset,
            payload_sha256=payload,
        )
        stem = f"{part.owner.label}-{part.source.sha256[:12]}-{part.source.control_number}"
        for planned in plan_deliveries([part]):
            rendered = payload if planned.format == "835" else _render_part(
                store, payload, planned.format, mappings)
            requests.append(DeliveryRequest(
                document.id, planned.destination, planned.format,
                f"{stem}.{planned.format}", planned.idempotency_key, rendered,
                planned.held_reason,
            ))
    deliveries = store.enqueue_many(requests, actor=actor)
    for delivery, request in zip(deliveries, requests, strict=True):
        if request.hold and not _alerted(store, delivery.id):
            store.record_event("delivery", delivery.id, "alert", actor=actor,
                               reason=f"held: {request.hold}")
    for adjustment in result.psao_adjustments:
        store.record_event(
            "file", file_id, "psao-adjustment", actor=actor,
            reason=f"ST {adjustment.control_number} PLB01 {adjustment.provider_id} "
                   f"{adjustment.reason} {adjustment.amount} ({adjustment.why})",
        )
    return result, deliveries


def _routing_keys(part: SplitPart) -> dict[str, str]:
    owner = part.owner
    keys = {
        "owner": owner.key, "transaction_set": part.source.control_number,
        "npi": owner.npi, "ncpdp_id": owner.ncpdp_id, "tin": owner.tin,
        "pharmacy_id": owner.pharmacy_id,
    }
    return {name: value for name, value in keys.items() if value}


def _render_part(
    store: MessageStore, payload: str, fmt: str, mappings: Sequence[Path]
) -> str:
    """Render a part (kept as an 835 payload) in ``fmt``; keep and return the rendering."""
    mapping = load_mapping(f"remittance-{fmt}", mappings)
    with store.open_payload(payload) as source:
        remittances = list(read_835(source, file_name=f"payload:{payload}"))
    out = io.BytesIO()
    render(remittances, mapping, out)
    out.seek(0)
    return store.put_payload(out)


def _alerted(store: MessageStore, delivery_id: int) -> bool:
    return any(event.action == "alert" for event in store.events("delivery", delivery_id))
