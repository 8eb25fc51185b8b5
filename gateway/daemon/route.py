"""The daemon's route stage: a parsed file's documents and deliveries, into the message store.

An NCPDP file's transmissions are recorded as documents keyed by the pharmacy. An 835 goes
through :func:`route_into_store` with the daemon's roster, PSAO identity, control numbers and
mappings: the splitter cuts the file into one 835 per pharmacy and transaction set, keeps each part
(and each CSV/JSON/XML rendering a member asks for) as a payload, records the parts as
documents and queues one delivery per part and format under a deterministic idempotency key
— held, with an alert, for an unknown or inactive member. Routing the same file again
changes nothing, which is what lets the pipeline redo this step after a crash.

Control numbers of the new envelopes are kept per part in the message store (one sequence per
destination, shared by every daemon on the store), so a redone split — on this daemon or on
another — writes byte-identical parts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from gateway.config.configuration import Configuration
from gateway.config.settings import Settings
from gateway.daemon.parse import file_format, ncpdp_kind
from gateway.daemon.pipeline import Router
from gateway.errors import Location
from gateway.fsutil import private_directory
from gateway.log import get_logger
from gateway.ncpdp.reader import parse_file as read_ncpdp
from gateway.render.mapping import load_mapping
from gateway.render.renderer import render
from gateway.routing.conservation import ConservationError, QueuedPart, prove
from gateway.routing.duplicates import find_duplicates
from gateway.routing.plan import output_stem, plan_deliveries
from gateway.routing.policy import RosterPolicy
from gateway.routing.read_sets import ReadSet, read_sets
from gateway.routing.written import TallyingWriter
from gateway.store.base import MessageStore
from gateway.store.models import Delivery, DeliveryRequest, DocumentRequest, ReceivedFile
from gateway.x12.read.reader import read_835
from gateway.x12.split.parts import PartPolicy, SplitPart, SplitResult
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import StorePartWriter
from gateway.x12.write.control_numbers import ControlNumbers
from gateway.x12.write.envelope import Party

ACTOR = "router"


def route_file_stage(store: MessageStore, config: Configuration, settings: Settings,
                     numbers: ControlNumbers) -> Router:
    """The route callable the pipeline calls with each parsed 835 file."""
    private_directory(settings.data_dir)  # 0700 whatever the umask: it holds claim data
    private_directory(settings.work_dir)
    policy = RosterPolicy(config.roster, config.psao)
    psao = config.psao
    sender = Party(psao.isa_qualifier, psao.isa_id, psao.gs_id)
    site_mappings = settings.path.parent / "mappings"
    mappings = (site_mappings,) if site_mappings.is_dir() else ()
    log = get_logger(component="router")

    def route(received: ReceivedFile, path: Path, sets: Sequence[ReadSet] | None = None) -> int:
        result, deliveries = route_into_store(
            store, received.id, path, policy, numbers, sha256=received.sha256,
            sender=sender, mappings=mappings, actor=ACTOR, partner=received.partner,
            file_name=received.original_name, sets=sets)
        log.info("file split", partner=received.partner, file_id=received.id,
                 parts=len(result.parts), deliveries=len(deliveries), held=len(result.held),
                 paid=str(sum((p.payment for p in result.parts), Decimal(0))),
                 psao_adjustments=len(result.psao_adjustments))
        return len(deliveries)

    return route


def by_format(store: MessageStore, x12: Router) -> Router:
    """Route an 835 through the splitter and router (``x12``); record an NCPDP file's
    transmissions as documents keyed by the pharmacy (201-B1 service provider id), so that
    ``gateway trace`` and reconciliation find them — no routing rule sends claims on yet.

    ``path`` is the file's local copy (:mod:`gateway.daemon.local_copy`). ``sets`` given, the
    parse read the file in this process and found it an X12 835 (an NCPDP file has none): it
    goes to ``x12`` without the format being detected again."""

    def route(received: ReceivedFile, path: Path, sets: Sequence[ReadSet] | None = None) -> int:
        if sets is not None:
            return x12(received, path, sets)
        with path.open("rb") as stream:
            if file_format(stream, received) == "x12":
                return x12(received, path, sets)
            for ordinal, document in enumerate(read_ncpdp(stream, strict=True)):
                store.add_document(
                    received.id, ordinal, kind=ncpdp_kind(document),
                    routing_keys=provider_keys(document.header.service_provider_id_qualifier,
                                               document.header.service_provider_id),
                    source_start=document.source.byte_offset)
        return 0

    return route


PROVIDER_ID_KEYS = {"01": "npi", "07": "ncpdp_id"}  # 202-B2 qualifier -> the roster's key


def provider_keys(qualifier: str, provider_id: str) -> dict[str, str]:
    """The pharmacy of an NCPDP transmission as the roster names it: 201-B1 is an NPI or an
    NCPDP provider id by its 202-B2 qualifier (01 NPI, 07 NCPDP); any other qualifier is kept
    with it, so a search never takes it for the wrong kind of id."""
    key = PROVIDER_ID_KEYS.get(qualifier.strip())
    if key is not None:
        return {key: provider_id}
    return {"service_provider_id": provider_id, "service_provider_id_qualifier": qualifier}


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
    partner: str | None = None,
    file_name: str | None = None,
    sets: Sequence[ReadSet] | None = None,
) -> tuple[SplitResult, list[Delivery]]:
    """Split a received 835 and queue every delivery it needs, in the message store.

    Each part becomes a document of the file (ordinal = its place in the split, kind
    ``835-part``, routing keys = the owner's ids) whose payload is the part's 835; each
    (part, destination, format) becomes one delivery request with its idempotency key and
    pre-rendered payload (CSV/JSON/XML rendered from the part through the mapping
    ``remittance-<format>``). Held parts become held deliveries, their ``held`` event naming
    the reason (the part-held alert rule raises the alert, once per file): an unknown or
    inactive member, or a duplicate payment (gateway.routing.duplicates). The PSAO's own
    PLBs become ``psao-adjustment`` events on the file. Before anything is queued the parts
    are proved to conserve every set's claims and money (gateway.routing.conservation):
    ConservationError otherwise, with nothing queued. Running it again for the same file
    changes nothing: documents, payloads, keys and payment-key owners are deterministic.
    """
    name = file_name or path.name
    if sets is not None:  # the parse stage's, when it read the file in this process
        read = list(sets)
    else:
        with path.open("rb") as stream:
            read = read_sets(stream, file=sha256, file_name=name)
    # Parts, documents and control numbers commit without waiting for the disk: a crash
    # redoes the whole route (same bytes, same keys), and enqueue_many's synchronous commit
    # below flushes them all before anything is queued. The parts' payloads go several to a
    # transaction (kept when the batch ends, before any document names them), their documents
    # all in one.
    with store.deferred_commits():
        with store.payload_batch() as payloads:
            writer = TallyingWriter(StorePartWriter(payloads))  # the bytes, counted as written
            result = split_835(path, policy=policy, writer=writer, numbers=numbers,
                               sender=sender, sha256=sha256)
        partner = partner or store.get_file(file_id).partner
        duplicates = find_duplicates(store.payments, partner, file_id, read)
        documents = store.add_documents(file_id, [
            DocumentRequest(ordinal, "835-part", _routing_keys(part), part.source.start_offset,
                            part.source.end_offset, part.location.payload_sha256)
            for ordinal, part in enumerate(result.parts)])

        requests: list[DeliveryRequest] = []
        queued: list[QueuedPart] = []
        for part, document in zip(result.parts, documents, strict=True):
            payload = part.location.payload_sha256
            duplicate = duplicates.get(part.source.identity) if part.source.identity else None
            mine = _part_requests(store, document.id, part, payload, duplicate, mappings)
            requests += mine
            queued.append(QueuedPart(part, payload, tuple(r.idempotency_key or "" for r in mine)))
    try:
        prove(read, queued, result.psao_adjustments, writer.written, name)
    except ConservationError:
        store.payments.forget_file(file_id)  # nothing was sent: a corrected resend is new
        raise
    deliveries = store.enqueue_many(requests, actor=actor)
    _check_queued(requests, deliveries, name)
    for r in read:
        if r.identity in duplicates:
            store.record_event("file", file_id, "duplicate-payment", actor=actor,
                               reason=f"{r.describe()}: {duplicates[r.identity]}")
    for adjustment in result.psao_adjustments:
        store.record_event(
            "file", file_id, "psao-adjustment", actor=actor,
            reason=f"ST {adjustment.control_number} PLB01 {adjustment.provider_id} "
                   f"{adjustment.reason} {adjustment.amount} ({adjustment.why})",
        )
    return result, deliveries


def _part_requests(store: MessageStore, document_id: int, part: SplitPart, payload: str,
                   duplicate: str | None, mappings: Sequence[Path]) -> list[DeliveryRequest]:
    """One delivery request per (destination, format) of a part; held — with every reason
    that applies — for an unknown or inactive member or a duplicate payment."""
    stem = output_stem(part)
    requests = []
    for planned in plan_deliveries([part]):
        rendered = payload if planned.format == "835" else _render_part(
            store, payload, planned.format, mappings)
        hold = "; ".join(r for r in (duplicate, planned.held_reason) if r) or None
        requests.append(DeliveryRequest(
            document_id, planned.destination, planned.format, f"{stem}.{planned.format}",
            planned.idempotency_key, rendered, hold,
        ))
    return requests


def _check_queued(requests: Sequence[DeliveryRequest], deliveries: Sequence[Delivery],
                  file_name: str) -> None:
    """Every request became a delivery of its own document (an idempotency key already in
    the store for another document would silently send that one instead)."""
    for request, delivery in zip(requests, deliveries, strict=True):
        if delivery.document_id != request.document_id:
            raise ConservationError(
                f"the delivery key of {request.output_name} already belongs to another "
                f"document (D{delivery.id}): this part would never be sent",
                Location(file=file_name))


def _routing_keys(part: SplitPart) -> dict[str, str]:
    """Who the part is for, and what an operator finds it by: the check or EFT number
    (TRN02) and the amount paid (the part's BPR02, two decimals)."""
    owner = part.owner
    keys = {
        "owner": owner.key, "transaction_set": part.source.control_number,
        "npi": owner.npi, "ncpdp_id": owner.ncpdp_id, "tin": owner.tin,
        "pharmacy_id": owner.pharmacy_id, "trace_number": part.source.trace_number,
        "amount": f"{part.payment:.2f}",
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
