"""Canonical NCPDP claim documents: business names over the raw transmission.

A :class:`ClaimRequest` or :class:`ClaimResponse` is one Telecommunication transmission (up to
four transactions). It *holds* the transmission text exactly as sent, which the writer
reproduces byte for byte; the raw :class:`~gateway.ncpdp.transmission.Transmission` (segments
and fields), the checks' findings and every business field below are views computed from it
on first access — a reader that only routes claims never pays for fields it does not read.
Names follow the business; the comment after each field names the NCPDP field
(number-id) it comes from. Money is ``Decimal``, identifiers and codes are ``str``, dates are
``datetime.date``; a field that is absent, or present but malformed, is None here (the raw text
stays in the transmission, and the checks report the defect).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from gateway.errors import Location
from gateway.ncpdp import request_parts as rq
from gateway.ncpdp import response_parts as rs
from gateway.ncpdp.checks import Finding, check_transmission
from gateway.ncpdp.transmission import Transmission, parse
from gateway.ncpdp.values import parse_date


@dataclass(frozen=True)
class Source:
    """Where a transmission came from: file, batch record, byte offset of its first character."""

    file: str | None = None
    record_number: int | None = None  # batch record number, the header being record 1
    byte_offset: int = 0  # of the transmission's first byte (after G1 + reference in a batch)
    transaction_reference: str | None = None  # 880-K5 of the G1 detail record, as sent
    batch_number: str | None = None  # 806-5C of the batch header, as sent
    sender_id: str | None = None  # 880-K1
    receiver_id: str | None = None  # 880-K7


@dataclass(frozen=True)
class RequestHeader:
    bin: str  # 101-A1
    version: str  # 102-A2
    transaction_code: str  # 103-A3: B1 billing, B2 reversal, B3 rebill, E1 eligibility, ...
    pcn: str  # 104-A4 processor control number (trailing blanks removed)
    transaction_count: str  # 109-A9
    service_provider_id_qualifier: str  # 202-B2
    service_provider_id: str  # 201-B1 (trailing blanks removed): the pharmacy
    date_of_service: date | None  # 401-D1
    software_vendor_id: str  # 110-AK


@dataclass(frozen=True)
class ResponseHeader:
    version: str  # 102-A2
    transaction_code: str  # 103-A3
    transaction_count: str  # 109-A9
    header_response_status: str  # 501-F1: A accepted, R rejected
    service_provider_id_qualifier: str  # 202-B2
    service_provider_id: str  # 201-B1
    date_of_service: date | None  # 401-D1


@dataclass(frozen=True)
class ClaimTransaction:
    """One request transaction (GS group): claim, pricing and the segments that go with it."""

    claim: rq.Claim | None  # segment 07
    pricing: rq.Pricing | None  # segment 11
    pharmacy_provider: rq.PharmacyProvider | None  # segment 02
    prescriber: rq.Prescriber | None  # segment 03
    other_payers: tuple[rq.OtherPayer, ...]  # segment 05 (COB), one per 338-5C
    dur: tuple[rq.DurService, ...]  # segment 08, one per 473-7E
    compound: rq.Compound | None  # segment 10
    segment_codes: tuple[str, ...]  # every segment of the group, in order (unknown ones too)


@dataclass(frozen=True)
class ResponseTransaction:
    """One response transaction: status, echoed claim, amounts paid, DUR alerts."""

    status: rs.ResponseStatus | None  # segment 21
    claim: rs.ResponseClaim | None  # segment 22
    pricing: rs.ResponsePricing | None  # segment 23
    dur: tuple[rs.DurResponse, ...]  # segment 24, one per 567-J6
    segment_codes: tuple[str, ...]


@dataclass(frozen=True)
class _Transmitted:
    """What requests and responses share: the exact text and its lazy parse and checks.

    The text is the document (a writer reproduces the bytes from it); everything else is a
    view computed on first use, so reading a file costs only what is looked at.
    """

    text: str  # the transmission as sent, Latin-1 decoded (one character per byte)
    source: Source = field(default_factory=Source)
    envelope_findings: tuple[Finding, ...] = ()  # found by the batch reader around it

    @cached_property
    def transmission(self) -> Transmission:
        """Header, segments and groups; STX/ETX framing only outside a batch."""
        return parse(self.text, framed=self.source.record_number is None)

    @cached_property
    def findings(self) -> tuple[Finding, ...]:
        """What the checks found, located in the file (record, segment, field, byte)."""
        where = Location(self.source.file, record_number=self.source.record_number)
        found = check_transmission(self.transmission, where, self.source.byte_offset)
        return self.envelope_findings + tuple(found)


@dataclass(frozen=True)
class ClaimRequest(_Transmitted):
    """A request transmission (B1/B2/B3/E1 and every other code, parsed generically)."""

    @cached_property
    def header(self) -> RequestHeader:
        h = self.transmission.header_fields()
        return RequestHeader(
            h["bin"].strip(),
            h["version"],
            h["transaction_code"],
            h["pcn"].rstrip(),
            h["transaction_count"],
            h["service_provider_id_qualifier"],
            h["service_provider_id"].rstrip(),
            parse_date(h["date_of_service"]),
            h["software_vendor_id"].rstrip(),
        )

    @cached_property
    def patient(self) -> rq.Patient | None:
        return rq.Patient.of(self.transmission.segment("01"))

    @cached_property
    def insurance(self) -> rq.Insurance | None:
        return rq.Insurance.of(self.transmission.segment("04"))

    @cached_property
    def transactions(self) -> tuple[ClaimTransaction, ...]:
        out = []
        for group in self.transmission.groups:
            out.append(
                ClaimTransaction(
                    rq.Claim.of(group.segment("07")),
                    rq.Pricing.of(group.segment("11")),
                    rq.PharmacyProvider.of(group.segment("02")),
                    rq.Prescriber.of(group.segment("03")),
                    rq.OtherPayer.all_of(group.segment("05")),
                    rq.DurService.all_of(group.segment("08")),
                    rq.Compound.of(group.segment("10")),
                    tuple(s.code for s in group.segments),
                )
            )
        return tuple(out)


@dataclass(frozen=True)
class ClaimResponse(_Transmitted):
    """A response transmission: header status, messages, and one result per transaction."""

    @cached_property
    def header(self) -> ResponseHeader:
        h = self.transmission.header_fields()
        return ResponseHeader(
            h["version"],
            h["transaction_code"],
            h["transaction_count"],
            h["header_response_status"],
            h["service_provider_id_qualifier"],
            h["service_provider_id"].rstrip(),
            parse_date(h["date_of_service"]),
        )

    @cached_property
    def message(self) -> str | None:
        segment = self.transmission.segment("20")
        return segment.get("F4") if segment else None  # 504-F4

    @cached_property
    def insurance(self) -> rs.ResponseInsurance | None:
        return rs.ResponseInsurance.of(self.transmission.segment("25"))

    @cached_property
    def patient(self) -> rq.Patient | None:
        """Segment 29 (Response Patient: 310-CA, 311-CB, 304-C4), mostly on E1 responses."""
        return rq.Patient.of(self.transmission.segment("29"))

    @cached_property
    def transactions(self) -> tuple[ResponseTransaction, ...]:
        return tuple(
            ResponseTransaction(
                rs.ResponseStatus.of(group.segment("21")),
                rs.ResponseClaim.of(group.segment("22")),
                rs.ResponsePricing.of(group.segment("23")),
                rs.DurResponse.all_of(group.segment("24")),
                tuple(s.code for s in group.segments),
            )
            for group in self.transmission.groups
        )

    @property
    def total_amount_paid(self) -> Decimal:
        """Sum of 509-F9 over the transactions the payer did not reject."""
        return sum(
            (
                t.pricing.total_amount_paid or Decimal("0.00")
                for t in self.transactions
                if t.pricing and t.status and not t.status.rejected
            ),
            Decimal("0.00"),
        )


Document = ClaimRequest | ClaimResponse
