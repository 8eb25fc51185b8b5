"""Canonical documents to wire format: the inverse of the business views.

A parsed document is written from its own text (byte-identical). This module is for documents
*made* from business values — a reply built by the gateway, a test fixture, a re-keyed claim:
each business part becomes its segment from its own declaration (:mod:`gateway.ncpdp.part`),
repeating data gets its count field and its occurrences in order, and typed values are encoded
through the field dictionary. Reading the result back gives the same business view (fields the
views do not model are not invented).
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.ncpdp import request_parts as rq
from gateway.ncpdp import response_parts as rs
from gateway.ncpdp.model import (
    ClaimTransaction,
    RequestHeader,
    ResponseHeader,
    ResponseTransaction,
)
from gateway.ncpdp.part import Part, occurrence_pairs
from gateway.ncpdp.transmission import Segment, Transmission
from gateway.ncpdp.writer import segment, transmission

# A transaction group's segments in wire order: (segment code, attribute, count field of a
# repeating part or None).
_CLAIM_GROUP = (("07", "claim", None), ("11", "pricing", None), ("02", "pharmacy_provider", None),
                ("03", "prescriber", None), ("05", "other_payers", "4C"), ("08", "dur", None),
                ("10", "compound", None))  # fmt: skip
_RESULT_GROUP = (("21", "status", None), ("22", "claim", None), ("23", "pricing", None),
                 ("24", "dur", None))  # fmt: skip


def request(
    header: RequestHeader,
    patient: rq.Patient | None,
    insurance: rq.Insurance | None,
    transactions: Sequence[ClaimTransaction],
) -> Transmission:
    """A request transmission: Insurance and Patient before the first GS, one group per claim."""
    top = _segments((("04", insurance, None), ("01", patient, None)))
    return transmission(header, top, [_group(t, _CLAIM_GROUP) for t in transactions])


def response(
    header: ResponseHeader,
    message: str | None,
    insurance: rs.ResponseInsurance | None,
    patient: rq.Patient | None,
    transactions: Sequence[ResponseTransaction],
) -> Transmission:
    """A response transmission: Message, Insurance and Patient, then one group per result."""
    top = [segment("20", [("F4", message)])] if message is not None else []
    top += _segments((("25", insurance, None), ("29", patient, None)))
    return transmission(header, top, [_group(t, _RESULT_GROUP) for t in transactions])


def _group(
    transaction: ClaimTransaction | ResponseTransaction,
    layout: Sequence[tuple[str, str, str | None]],
) -> list[Segment]:
    return _segments([(code, getattr(transaction, name), count) for code, name, count in layout])


def _segments(
    parts: Sequence[tuple[str, Part | tuple[Part, ...] | None, str | None]],
) -> list[Segment]:
    """One segment per present part; a repeating part's occurrences share their segment."""
    out = []
    for code, part, count in parts:
        if isinstance(part, tuple):
            if part:
                out.append(segment(code, occurrence_pairs(part, count)))
        elif part is not None:
            out.append(segment(code, part.wire_pairs()))
    return out
