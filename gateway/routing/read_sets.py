"""What the reader read of a file, set by set: the side of the conservation proof that the
splitter and the router never touch.

Each transaction set is read with the 835 reader (``iter_835``, bounded memory) into a
:class:`ReadSet`: where it is (interchange ordinal, ISA13, GS06, ST02, ordinal, ST's byte
offset), the keys that make a payment the same payment (ISA06 + ISA13 for the interchange,
TRN02 + TRN03 + BPR02 + BPR16 for the payment), and its :class:`Tally` — claim count, ΣCLP04,
ΣPLB, BPR02. Interchange ordinals come from the tokenizer's ISA segments, so two copies of one
interchange in a file are told apart even though every control number in them is equal.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from gateway.model import ClaimPayment, ProviderAdjustment, TransactionEnd, TransactionHeader
from gateway.x12.read.reader import iter_835
from gateway.x12.syntax.findings import Finding
from gateway.x12.syntax.tokenizer import iter_segments

ZERO = Decimal(0)


@dataclass
class Tally:
    """Claims and money of one transaction set (or of the parts made from it)."""

    claims: int = 0
    paid: Decimal = ZERO  # ΣCLP04
    plb: Decimal = ZERO  # ΣPLB amounts
    payment: Decimal = ZERO  # BPR02

    def add(self, other: Tally) -> None:
        self.claims += other.claims
        self.paid += other.paid
        self.plb += other.plb
        self.payment += other.payment

    def differences(self, other: Tally) -> list[str]:
        """What differs from ``other``, as "claims 6 != 3" phrases (empty: they agree)."""
        pairs = (("claims", self.claims, other.claims), ("ΣCLP04", self.paid, other.paid),
                 ("ΣPLB", self.plb, other.plb), ("BPR02", self.payment, other.payment))
        return [f"{name} {mine} != {theirs}" for name, mine, theirs in pairs if mine != theirs]

    def __str__(self) -> str:
        return (f"{self.claims} claims, ΣCLP04 {self.paid}, ΣPLB {self.plb}, "
                f"BPR02 {self.payment}")


@dataclass(frozen=True)
class ReadSet:
    """One transaction set as the reader read it."""

    ordinal: int  # place in the file, from 0
    interchange: int  # ordinal of its interchange in the file, from 0
    interchange_control_number: str  # ISA13
    group_control_number: str  # GS06
    control_number: str  # ST02
    start_offset: int  # ST's byte offset: how the splitter's parts name the set
    first_segment: int  # ST's segment number
    sender_id: str  # ISA06
    trace_number: str  # TRN02
    originator: str  # TRN03
    payment_date: str  # BPR16, ISO
    payee: str  # N103 + N104 of loop 1000B
    tally: Tally

    @property
    def identity(self) -> str:
        """(interchange ordinal, ISA13, GS06, ST02, ordinal): unique in the file."""
        return (f"{self.interchange}:{self.interchange_control_number}:"
                f"{self.group_control_number}:{self.control_number}:{self.ordinal}")

    def describe(self) -> str:
        return (f"transaction set ST02 {self.control_number} (interchange {self.interchange + 1}"
                f" ISA13 {self.interchange_control_number}, GS06 {self.group_control_number},"
                f" set {self.ordinal + 1} of the file)")


def read_sets(stream: BinaryIO, file_name: str | None) -> list[ReadSet]:
    """Every transaction set of the file with its tally (the file was parsed before: fatal
    findings had quarantined it, so findings are collected and not looked at again)."""
    interchanges = _isa_offsets(stream, file_name)
    stream.seek(0)
    found: list[ReadSet] = []
    header: TransactionHeader | None = None
    tally = Tally()
    for item in iter_835(stream, file_name=file_name, findings=[]):
        if isinstance(item, TransactionHeader):
            header, tally = item, Tally(payment=item.payment.amount)
        elif isinstance(item, ClaimPayment):
            tally.claims += 1
            tally.paid += item.paid
        elif isinstance(item, ProviderAdjustment):
            tally.plb += item.amount
        elif isinstance(item, TransactionEnd) and header is not None:
            found.append(_read_set(len(found), header, tally, interchanges))
            header = None
    return found


def _read_set(ordinal: int, header: TransactionHeader, tally: Tally,
              interchanges: list[int]) -> ReadSet:
    envelope, payment, source = header.envelope, header.payment, header.source
    interchange = max(bisect.bisect_right(interchanges, source.start_offset) - 1, 0)
    return ReadSet(
        ordinal=ordinal, interchange=interchange,
        interchange_control_number=envelope.interchange_control_number,
        group_control_number=envelope.group_control_number,
        control_number=header.control_number, start_offset=source.start_offset,
        first_segment=source.first_segment, sender_id=envelope.sender_id,
        trace_number=payment.trace_number or "", originator=payment.originator_id or "",
        payment_date=payment.date.isoformat() if payment.date else "",
        payee=f"{header.payee.id_qualifier or ''}{header.payee.identifier or ''}", tally=tally,
    )


def _isa_offsets(stream: BinaryIO, file_name: str | None) -> list[int]:
    """Byte offsets of every ISA, in file order."""
    findings: list[Finding] = []
    segments: Iterable[tuple[int, int, list[str], str, str]] = iter_segments(
        stream, file_name=file_name, findings=findings)
    return [offset for _, offset, elements, _, _ in segments if elements[:1] == ["ISA"]]
