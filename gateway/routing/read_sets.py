"""What the reader read of a file, set by set: the side of the conservation proof that the
splitter and the router never touch.

Each transaction set is read with the 835 reader (``iter_835``, bounded memory) into a
:class:`ReadSet`: its identity (interchange ordinal, ISA13, GS06, ST02, ordinal) and the keys
that make a payment the same payment (ISA06 + ISA13 for the interchange, TRN02 + TRN03 +
BPR02 + BPR16 for the payment) — both from x12's one tokenizer pass (``payment_keys``), so two
copies of one interchange in a file are told apart though every control number in them is
equal — and its :class:`Tally`: claim count, ΣCLP04, ΣPLB, BPR02.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from gateway.errors import InputError, Location
from gateway.model import ClaimPayment, ProviderAdjustment, TransactionEnd, TransactionHeader
from gateway.x12.model import SetIdentity
from gateway.x12.read.payment_keys import PaymentKeys, payment_keys
from gateway.x12.read.reader import iter_835

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
    """One transaction set as the reader read it, with its identity and keys (x12's
    :func:`~gateway.x12.read.payment_keys.payment_keys`, same file order)."""

    keys: PaymentKeys  # identity, ST offset, ISA06, TRN02/TRN03, BPR02, BPR16
    payee: str  # N103 + N104 of loop 1000B
    tally: Tally

    @property
    def identity(self) -> SetIdentity:
        return self.keys.identity

    @property
    def start_offset(self) -> int:
        return self.keys.start_offset

    def describe(self) -> str:
        return f"transaction {self.identity.describe()}"


def read_sets(stream: BinaryIO, *, file: str, file_name: str | None) -> list[ReadSet]:
    """Every transaction set of the file with its tally (the file was parsed before: fatal
    findings had quarantined it, so findings are collected and not looked at again).
    ``file`` names the file in the identities (its SHA-256)."""
    keys = {k.start_offset: k for k in payment_keys(stream, file=file, file_name=file_name)}
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
            found.append(_read_set(header, tally, keys, file_name))
            header = None
    return found


def _read_set(header: TransactionHeader, tally: Tally, keys: dict[int, PaymentKeys],
              file_name: str | None) -> ReadSet:
    source = header.source
    mine = keys.get(source.start_offset)
    if mine is None:  # the reader and the scanner disagree on where the set is
        raise InputError(
            f"transaction set ST02 {header.control_number} was read at byte "
            f"{source.start_offset}, where the scanner found no ST", code="conservation",
            where=Location(file=file_name, segment_number=source.first_segment,
                           segment_id="ST", byte_offset=source.start_offset),
            fix="a gateway defect: report it with `gateway trace F<id>`")
    payee = header.payee
    return ReadSet(mine, f"{payee.id_qualifier or ''}{payee.identifier or ''}", tally)
