"""Streaming X12 835 reader: a binary stream in, one canonical Remittance per ST..SE out.

The reader keeps only the segments of the open transaction set: memory is bounded by the
largest transaction set, never by the file. Envelope segments go to the
:class:`~gateway.x12.checks.EnvelopeChecker`; a transaction set's segments are collected and
turned into a :class:`~gateway.model.Remittance` at its SE
(:class:`~gateway.x12.transaction.TransactionBuilder`).

Two modes, as everywhere in ``gateway.x12``: without ``findings`` the first fatal defect
raises :class:`~gateway.errors.InputError` (code, segment number, id and byte offset); with a
``findings`` list every defect is recorded and reading goes on where that is safe, so the
validate command and the 999 writer see the whole file. In collect mode a transaction set
whose BPR or payer/payee is missing, or that sits in a non-835 group, yields nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from gateway.model import Envelope, Remittance
from gateway.x12.checks import (
    EnvelopeChecker,
    check_group_is_835,
    element,
    report_at,
)
from gateway.x12.findings import Finding, Level
from gateway.x12.reporter import Reporter
from gateway.x12.tokenizer import SEGMENT_ID, Segment, iter_segments
from gateway.x12.transaction import TransactionBuilder

ENVELOPE_IDS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
DETAIL_MARKS = frozenset({"LX", "CLP", "SVC", "PLB"})  # where groups, claims, lines, PLB start


def read_835(
    stream: BinaryIO,
    *,
    file_name: str | None = None,
    findings: list[Finding] | None = None,
) -> Iterator[Remittance]:
    """Yield the remittances of an 835 file in file order (see the module docstring)."""
    reporter = Reporter(file_name, findings)
    envelope = EnvelopeChecker(reporter)
    builder = TransactionBuilder(reporter, file_name)
    group: Envelope | None = None  # the open 835 group, None when it is not an 835 group
    component = ":"
    body: list[Segment] | None = None  # segments of the open ST..SE
    marks: list[int] = []  # indexes in body of its LX, CLP, SVC and PLB segments
    reading = False  # the open ST..SE is an 835 in an 835 group: build it at SE
    last: Segment | None = None
    for segment in iter_segments(stream, reporter=reporter):
        seg_id = segment[2][0]
        if body is not None and seg_id not in ENVELOPE_IDS:
            if seg_id in DETAIL_MARKS:
                marks.append(len(body))
            body.append(segment)
            continue
        last = segment
        if seg_id == "SE":
            remittance = None
            if body is not None and reading and group is not None:
                body.append(segment)
                remittance = builder.build(body, marks, group, component)
            envelope.close_set(segment)
            if remittance is not None:
                yield remittance
            body = None
            continue
        body = None
        if seg_id == "ST":
            envelope.open_set(segment)
            body = [segment]  # a set that is not read is still collected (to know its end)
            marks = []
            reading = group is not None and _is_835_set(reporter, segment)
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
    envelope.finish(body[-1] if body else last)


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
