"""Duplicate payments: the same money sent twice is held, never delivered twice.

A PBM resends. Byte-identical files are caught at receipt (same SHA-256: ``duplicate``); this
catches the rest (issue 10, Build 5, and defect 6 — one interchange 156 times in a file):

* a **repeated interchange**: ISA06 + ISA13 seen before from the partner, in this file (a
  second copy of the interchange) or an earlier one;
* a **repeated payment**: TRN02 + TRN03 + BPR02 + BPR16 seen before, whatever envelope
  carries it (the reassociation key a bank deposit is matched by), to the same payee (N104):
  a multi-ST central pay may carry one EFT's trace number in every pharmacy's set, and two
  pharmacies paid the same amount that day are two payments, not one sent twice.

The first set to carry a key owns it (the store's registry, migration 009, one row per key
whichever daemon claims first); every later set carrying it is a duplicate: its parts are
queued *held*, with the reason naming the first copy, so an operator sees it (the part-held
alert) and can release it (``gateway deliveries release D<id>``) if it really is a second
payment. A set in a repeated interchange is a duplicate of that interchange and claims no
payment key of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.routing.read_sets import ReadSet
from gateway.store.payment_keys import KeyOwner, PaymentKeys


def interchange_key(read: ReadSet) -> str:
    """ISA06 + ISA13."""
    return f"{read.sender_id}+{read.interchange_control_number}"


def payment_key(read: ReadSet) -> str | None:
    """TRN02 + TRN03 + BPR02 + BPR16 (+ the payee); None without a trace number (nothing to
    match on)."""
    if not read.trace_number:
        return None
    return (f"{read.trace_number}+{read.originator}+{read.tally.payment:.2f}+"
            f"{read.payment_date}+{read.payee}")


def find_duplicates(keys: PaymentKeys, partner: str, file_id: int,
                    sets: Sequence[ReadSet]) -> dict[int, str]:
    """Claim every set's keys (one transaction per kind); return the duplicates' hold
    reasons by set ordinal."""
    held: dict[int, str] = {}
    mine = [f"interchange {read.interchange}" for read in sets]
    owners = keys.claim_many(partner, [("interchange", interchange_key(read), owner)
                                       for read, owner in zip(sets, mine, strict=True)],
                             file_id=file_id)
    for read, owner, first in zip(sets, mine, owners, strict=True):
        if first != KeyOwner(file_id, owner):
            held[read.ordinal] = (
                f"duplicate interchange: ISA06 {read.sender_id} ISA13 "
                f"{read.interchange_control_number} was received before, in file "
                f"F{first.file_id} ({first.owner_set}); release only if it is a new payment")
    paying = [(read, key) for read in sets
              if read.ordinal not in held and (key := payment_key(read)) is not None]
    owners = keys.claim_many(partner, [("payment", key, read.identity) for read, key in paying],
                             file_id=file_id)
    for (read, _), first in zip(paying, owners, strict=True):
        if first != KeyOwner(file_id, read.identity):
            held[read.ordinal] = (
                f"duplicate payment: TRN02 {read.trace_number} TRN03 {read.originator} BPR02 "
                f"{read.tally.payment:.2f} BPR16 {read.payment_date} was received before, in "
                f"file F{first.file_id} (set {first.owner_set}); release only if it is a new "
                "payment")
    return held
