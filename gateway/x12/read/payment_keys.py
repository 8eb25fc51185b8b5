"""The keys that make two transaction sets the same payment, set by set, in file order.

A PBM that resends — or a file holding one interchange many times over (issue 10, item 6) —
repeats either the interchange (ISA06 sender + ISA13) or the payment (TRN02 trace number +
TRN03 payer + BPR02 amount + BPR16 date: the key a bank deposit is reassociated by). This
module only *reads* the keys (one tokenizer pass, no claim is parsed); what a repeat means —
a finding for ``validate``, a held delivery in the daemon — is the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from gateway.errors import Location
from gateway.x12.model import IdentityCounter, SetIdentity
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.syntax.tokenizer import Segment, iter_segments


@dataclass(frozen=True)
class PaymentKeys:
    """One set's identity, where it starts, and its interchange and payment keys."""

    identity: SetIdentity
    start_offset: int  # ST's byte offset
    first_segment: int  # ST's segment number
    sender_id: str  # ISA06, stripped
    trace_number: str  # TRN02
    originator: str  # TRN03
    amount: str  # BPR02, normalised to two decimals when it is a number
    payment_date: str  # BPR16 as sent (CCYYMMDD)

    @property
    def interchange_key(self) -> str:
        """ISA06 + ISA13: an interchange seen twice from one sender is a resend."""
        return f"{self.sender_id}+{self.identity.isa13}"

    @property
    def payment_key(self) -> str | None:
        """TRN02 + TRN03 + BPR02 + BPR16; None without a trace number (nothing to match)."""
        if not self.trace_number:
            return None
        return f"{self.trace_number}+{self.originator}+{self.amount}+{self.payment_date}"


def payment_keys(stream: BinaryIO, *, file: str, file_name: str | None = None) -> list[PaymentKeys]:
    """Every transaction set of ``stream`` with its keys. ``file`` goes into the identities
    (the file's SHA-256 where known). Read leniently: syntax defects are the reader's to
    report, so a set is listed as far as it could be read."""
    segments = iter_segments(stream, file_name=file_name, findings=[])
    return list(keys_of(segments, file))


def keys_of(segments: Iterable[Segment], file: str) -> Iterator[PaymentKeys]:
    """:func:`payment_keys` over segments already tokenized (the first BPR and TRN of a set
    count; a set without SE is not listed)."""
    reader = KeysReader(file)
    for segment in segments:
        reader.feed(segment)
        if reader.keys:
            yield from reader.keys
            reader.keys.clear()


class KeysReader:
    """:func:`keys_of` pushed segment by segment: whoever tokenizes the file anyway (the
    daemon's parse stage, through ``iter_835``'s tap) collects the keys without a pass of its
    own. :attr:`keys` holds each set's keys once its SE is read."""

    def __init__(self, file: str) -> None:
        self.counter = IdentityCounter(file)
        self.sender = ""
        self.open_set: _OpenSet | None = None
        self.keys: list[PaymentKeys] = []

    def feed(self, segment: Segment) -> None:
        number, offset, elements, _, _ = segment
        tag = elements[0]
        open_set = self.open_set
        if tag == "ISA":
            self.counter.open_interchange(_get(elements, 13))
            self.sender = _get(elements, 6).strip()
        elif tag == "GS":
            self.counter.open_group(_get(elements, 6))
        elif tag == "ST":
            self.open_set = _OpenSet(self.counter.open_set(_get(elements, 2)), offset, number)
        elif open_set is None:
            return
        elif tag == "BPR" and open_set.bpr is None:
            open_set.bpr = elements
        elif tag == "TRN" and open_set.trn is None:
            open_set.trn = elements
        elif tag == "SE":
            self.keys.append(open_set.keys(self.sender))
            self.open_set = None


@dataclass
class _OpenSet:
    """The set being read: where it starts, and its first BPR and TRN."""

    identity: SetIdentity
    start: int
    first_segment: int
    bpr: list[str] | None = None
    trn: list[str] | None = None

    def keys(self, sender: str) -> PaymentKeys:
        bpr, trn = self.bpr or [], self.trn or []
        return PaymentKeys(self.identity, self.start, self.first_segment, sender, _get(trn, 2),
                           _get(trn, 3), _amount(_get(bpr, 2)), _get(bpr, 16))


def repeats(keys: Iterable[PaymentKeys]) -> dict[int, str]:
    """The sets (by ST byte offset) that repeat an earlier one of the same file, with why:
    a repeated interchange (ISA06+ISA13 of an earlier, *other* interchange) or a repeated
    payment (TRN02+TRN03+BPR02+BPR16 of an earlier set). Within one file only; across files
    is the daemon's registry."""
    interchanges: dict[str, int] = {}  # interchange key -> ordinal of its first interchange
    payments: dict[str, SetIdentity] = {}
    found: dict[int, str] = {}
    for key in keys:
        identity = key.identity
        first = interchanges.setdefault(key.interchange_key, identity.interchange)
        if first != identity.interchange:
            found[key.start_offset] = (
                f"repeats interchange {first} (ISA06 {key.sender_id!r} ISA13 "
                f"{identity.isa13!r}): duplicate interchange")
            continue
        payment = key.payment_key
        if payment is None:
            continue
        earlier = payments.setdefault(payment, identity)
        if earlier != identity:
            found[key.start_offset] = (
                f"repeats the payment of set {earlier.ordinal} (TRN02 {key.trace_number!r}, "
                f"BPR02 {key.amount}, BPR16 {key.payment_date}): duplicate payment")
    return found


def repeat_findings(keys: list[PaymentKeys], file_name: str | None) -> list[Finding]:
    """:func:`repeats` as findings for ``validate``: a repeated interchange is an envelope
    error (its ISA13 must be unique per sender: TA105 025), a repeated payment a warning on
    its set — the daemon holds either for an operator instead of paying twice."""
    found = repeats(keys)
    out = []
    for key in keys:
        why = found.get(key.start_offset)
        if why is None:
            continue
        interchange = why.endswith("duplicate interchange")
        out.append(Finding(
            "duplicate-interchange" if interchange else "duplicate-payment",
            f"{key.identity.describe()} {why}. "
            + ("The sender must not reuse an ISA13; it is held, not paid twice" if interchange
               else "Held for an operator: release it only if it is a second payment"),
            Level.INTERCHANGE if interchange else Level.TRANSACTION,
            Location(file=file_name, segment_number=key.first_segment, segment_id="ST",
                     byte_offset=key.start_offset),
            fatal=interchange, transaction_set=key.identity.st02,
            group_control_number=key.identity.gs06,
            x12_code="025" if interchange else None,
        ))
    return out


def _amount(text: str) -> str:
    try:
        return f"{Decimal(text):.2f}"
    except InvalidOperation:
        return text


def _get(elements: list[str], index: int) -> str:
    return elements[index] if index < len(elements) else ""
