"""Streaming X12 835 reader: a binary stream in, canonical items or Remittances out.

:func:`iter_835` is the one parser. It yields, per 835 transaction set and in file order, a
:class:`~gateway.model.TransactionHeader`, then each :class:`~gateway.model.ProviderGroup`
(``claims=()``, before its claims), each :class:`~gateway.model.ClaimPayment`, each
:class:`~gateway.model.ProviderAdjustment` (PLB pair), and a
:class:`~gateway.model.TransactionEnd`. Only the open loop (one claim, say) is in memory, so a
single-ST central-pay file of any size is read in bounded memory; the splitter uses it.
A set is complete only at its ``TransactionEnd`` (payment balance checked there): a set cut
off before its SE, or a fatal defect in strict mode, stops the stream after items of that set
were yielded, so a consumer commits nothing of a set before its ``TransactionEnd``.

:func:`read_835` collects those items into one :class:`~gateway.model.Remittance` per ST..SE.
That is the convenient shape for a per-pharmacy set, and it holds a whole set in memory: use
it when sets are of normal size, ``iter_835`` when one set can be huge (central pay with the
PSAO as payee). Both run the same checks and report the same findings.

Two modes, as everywhere in ``gateway.x12``: without ``findings`` the first fatal defect
raises :class:`~gateway.errors.InputError` (code, segment number, id and byte offset); with a
``findings`` list every defect is recorded and reading goes on where that is safe, so the
validate command and the 999 writer see the whole file. In collect mode a transaction set
whose BPR or payer/payee is missing, or that sits in a non-835 group, yields nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import BinaryIO

from gateway.model import (
    ClaimPayment,
    Envelope,
    ProviderAdjustment,
    ProviderGroup,
    Remittance,
    SourceRef,
    TransactionEnd,
    TransactionHeader,
)
from gateway.x12.read.checks import (
    EnvelopeChecker,
    check_group_is_835,
    element,
    report_at,
)
from gateway.x12.read.transaction import Item, TransactionReader
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.syntax.reporter import Reporter
from gateway.x12.syntax.tokenizer import SEGMENT_ID, Segment, iter_segments

ENVELOPE_IDS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
DETAIL_MARKS = frozenset({"LX", "CLP", "SVC", "PLB"})  # where groups, claims, lines, PLB start
LOOP_OR_ENVELOPE_IDS = ENVELOPE_IDS | DETAIL_MARKS
KEY_IDS = frozenset({"BPR", "TRN"})  # what a tap needs of a set's header (payment keys)
TAPPED_IDS = LOOP_OR_ENVELOPE_IDS | KEY_IDS


def iter_835(
    stream: BinaryIO,
    *,
    file_name: str | None = None,
    findings: list[Finding] | None = None,
    tap: Callable[[Segment], object] | None = None,
    end: Callable[[Segment | None], object] | None = None,
) -> Iterator[Item]:
    """Yield the items of an 835 file in file order, in bounded memory (module docstring).
    ``tap`` sees, as tokenized, every envelope segment, every BPR and TRN and every segment
    outside an 835 set (what the payment keys and the acknowledgment's envelopes are read
    from: one tokenizer pass serves all); the claims' segments are not handed to it, which
    keeps the tap nearly free. ``end`` is called once the file is read to its end, with its
    last segment (None: it has none) — which the tap may not have seen: where the file ends
    closes a truncated interchange."""
    reporter = Reporter(file_name, findings)
    envelope = EnvelopeChecker(reporter)
    transaction = TransactionReader(reporter, file_name)
    group: Envelope | None = None  # the open 835 group, None when it is not an 835 group
    component = ":"
    in_set = False  # an ST..SE is open
    loop: list[Segment] | None = None  # the open loop of the open 835 set (None: not read)
    segment: Segment | None = None
    stops = LOOP_OR_ENVELOPE_IDS if tap is None else TAPPED_IDS
    for segment in iter_segments(stream, reporter=reporter):
        seg_id = segment[2][0]
        if loop is not None:  # in an 835 set: most segments just join the open loop
            if seg_id not in stops:
                loop.append(segment)
                continue
            if seg_id in DETAIL_MARKS:
                yield from transaction.mark(segment)
                loop = transaction.loop
                continue
            if seg_id in KEY_IDS and tap is not None:
                tap(segment)
                loop.append(segment)
                continue
        if tap is not None:
            tap(segment)
        if loop is None and in_set and seg_id not in ENVELOPE_IDS:
            continue  # a set that is not read (not an 835): skipped to its SE
        if seg_id == "SE":
            items = transaction.close(segment) if in_set and loop is not None else []
            envelope.close_set(segment)
            yield from items
            in_set, loop = False, None
            continue
        in_set, loop = False, None
        if seg_id == "ST":
            envelope.open_set(segment)
            in_set = True
            if group is not None and _is_835_set(reporter, segment):
                transaction.open(segment, group, component)
                loop = transaction.loop
        elif seg_id == "GS":
            envelope.open_group(segment)
            isa = envelope.isa
            group = _envelope(isa, segment) if check_group_is_835(reporter, segment) else None
        elif seg_id == "ISA":
            envelope.open_interchange(segment)
            component = element(segment, 16)[:1] or ":"
        elif seg_id == "GE":
            envelope.close_group(segment)
            group = None
        elif seg_id == "IEA":
            envelope.close_interchange(segment)
        elif seg_id == "TA1" and envelope.isa and not envelope.gs:
            pass  # an interchange acknowledgment may sit between groups
        elif SEGMENT_ID.fullmatch(seg_id):
            where = "transaction set (ST..SE)" if envelope.gs else "functional group (GS..GE)"
            envelope.outside(segment, where if envelope.isa else "interchange (ISA..IEA)")
    envelope.finish(segment)  # the last segment of the file
    if end is not None:
        end(segment)


def read_835(
    stream: BinaryIO,
    *,
    file_name: str | None = None,
    findings: list[Finding] | None = None,
) -> Iterator[Remittance]:
    """Yield the remittances of an 835 file in file order: :func:`iter_835`, collected."""
    header: TransactionHeader | None = None
    groups: list[ProviderGroup] = []
    claims: list[ClaimPayment] = []
    adjustments: list[ProviderAdjustment] = []
    for item in iter_835(stream, file_name=file_name, findings=findings):
        kind = type(item)
        if kind is ClaimPayment:
            claims.append(item)  # type: ignore[arg-type]
        elif kind is ProviderGroup:
            _close_group(groups, claims)
            groups.append(item)  # type: ignore[arg-type]
        elif kind is ProviderAdjustment:
            adjustments.append(item)  # type: ignore[arg-type]
        elif kind is TransactionHeader:
            header, groups, claims, adjustments = item, [], [], []  # type: ignore[assignment]
        elif kind is TransactionEnd and header is not None:
            _close_group(groups, claims)
            yield _remittance(header, groups, adjustments, item)  # type: ignore[arg-type]
            header, groups, claims, adjustments = None, [], [], []


def _close_group(groups: list[ProviderGroup], claims: list[ClaimPayment]) -> None:
    """Give the last group its claims; its source then runs to the end of its last claim."""
    if not groups or not claims:
        return
    group = groups[-1]
    start, end = group.source, claims[-1].source
    assert start is not None and end is not None
    source = SourceRef(
        start.file, start.first_segment, end.last_segment, start.start_offset, end.end_offset
    )
    groups[-1] = dataclasses.replace(group, claims=tuple(claims), source=source)
    claims.clear()


def _remittance(
    header: TransactionHeader,
    groups: list[ProviderGroup],
    adjustments: list[ProviderAdjustment],
    end: TransactionEnd,
) -> Remittance:
    return Remittance(
        control_number=header.control_number,
        envelope=header.envelope,
        payment=header.payment,
        payer=header.payer,
        payee=header.payee,
        production_date=header.production_date,
        receiver_id=header.receiver_id,
        groups=tuple(groups),
        provider_adjustments=tuple(adjustments),
        source=end.source,
        references=header.references,
    )


def _is_835_set(reporter: Reporter, st: Segment) -> bool:
    if element(st, 1) == "835":
        return True
    report_at(
        reporter,
        st,
        "not-835",
        f"ST01 {element(st, 1)!r}: this transaction set is not an 835 remittance",
        level=Level.TRANSACTION,
        fix="send only 835 transaction sets to the remittance feed",
    )
    return False


def _envelope(isa: Segment | None, gs: Segment) -> Envelope:
    """The interchange and group identifiers a remittance carries."""
    isa = isa or (0, 0, ["ISA"], "*", "~")
    return Envelope(
        sender_qualifier=element(isa, 5),
        sender_id=element(isa, 6).rstrip(),
        receiver_qualifier=element(isa, 7),
        receiver_id=element(isa, 8).rstrip(),
        interchange_control_number=element(isa, 13),
        usage_indicator=element(isa, 15),
        group_sender=element(gs, 2),
        group_receiver=element(gs, 3),
        group_control_number=element(gs, 6),
        version=element(gs, 8),
    )

