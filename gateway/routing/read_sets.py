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
from gateway.x12.read.payment_keys import KeysReader, PaymentKeys
from gateway.x12.read.reader import iter_835
from gateway.x12.read.transaction import Item

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


@dataclass(frozen=True)
class SetTally:
    """What the reader read of one set, before it is given its identity."""

    start_offset: int  # ST's byte offset
    first_segment: int  # ST's segment number
    control_number: str  # ST02
    payee: str  # N103 + N104 of loop 1000B
    tally: Tally


class SetTallies:
    """Tallies every set of an ``iter_835`` stream, item by item, and collects the sets' keys
    from the same pass's segments (``iter_835(..., tap=tallies.segment)``): the parse stage
    feeds it what it reads anyway, so routing need not read the file again."""

    def __init__(self, file: str) -> None:
        self.sets: list[SetTally] = []
        self.keys = KeysReader(file)
        self.segment = self.keys.feed
        self._header: TransactionHeader | None = None
        self._tally = Tally()

    def feed(self, item: Item) -> None:
        if isinstance(item, TransactionHeader):
            self._header, self._tally = item, Tally(payment=item.payment.amount)
        elif isinstance(item, ClaimPayment):
            self._tally.claims += 1
            self._tally.paid += item.paid
        elif isinstance(item, ProviderAdjustment):
            self._tally.plb += item.amount
        elif isinstance(item, TransactionEnd) and self._header is not None:
            header, payee = self._header, self._header.payee
            self.sets.append(SetTally(
                header.source.start_offset, header.source.first_segment, header.control_number,
                f"{payee.id_qualifier or ''}{payee.identifier or ''}", self._tally))
            self._header = None


    def read_sets(self, file_name: str | None) -> list[ReadSet]:
        """Every set read so far with its identity, keys and tally."""
        keys = {k.start_offset: k for k in self.keys.keys}
        return [_read_set(tally, keys, file_name) for tally in self.sets]


def read_sets(stream: BinaryIO, *, file: str, file_name: str | None) -> list[ReadSet]:
    """Every transaction set of the file with its identity, keys and tally, in one read
    (collecting: the file was parsed before, fatal findings had quarantined it, so they are
    not looked at again). ``file`` names the file in the identities (its SHA-256)."""
    tallies = SetTallies(file)
    for item in iter_835(stream, file_name=file_name, findings=[], tap=tallies.segment):
        tallies.feed(item)
    return tallies.read_sets(file_name)


def _read_set(tally: SetTally, keys: dict[int, PaymentKeys], file_name: str | None) -> ReadSet:
    mine = keys.get(tally.start_offset)
    if mine is None:  # the reader and the scanner disagree on where the set is
        raise InputError(
            f"transaction set ST02 {tally.control_number} was read at byte "
            f"{tally.start_offset}, where the scanner found no ST", code="conservation",
            where=Location(file=file_name, segment_number=tally.first_segment,
                           segment_id="ST", byte_offset=tally.start_offset),
            fix="a gateway defect: report it with `gateway trace F<id>`")
    return ReadSet(mine, tally.payee, tally.tally)
