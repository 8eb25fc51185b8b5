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
from gateway.x12.model import SetIdentity


def payment_key(read: ReadSet) -> str | None:
    """TRN02 + TRN03 + BPR02 + BPR16, + the payee; None without a trace number."""
    key = read.keys.payment_key
    return None if key is None else f"{key}+{read.payee}"


def find_duplicates(keys: PaymentKeys, partner: str, file_id: int,
                    sets: Sequence[ReadSet]) -> dict[SetIdentity, str]:
    """Claim every set's keys (one transaction per kind); return the duplicates' hold
    reasons by set."""
    held: dict[SetIdentity, str] = {}
    mine = [f"interchange {read.identity.interchange}" for read in sets]
    owners = keys.claim_many(partner, [("interchange", read.keys.interchange_key, owner)
                                       for read, owner in zip(sets, mine, strict=True)],
                             file_id=file_id)
    for read, owner, first in zip(sets, mine, owners, strict=True):
        if first != KeyOwner(file_id, owner):
            held[read.identity] = (
                f"duplicate interchange: ISA06 {read.keys.sender_id} ISA13 "
                f"{read.identity.isa13} was received before, in file F{first.file_id} "
                f"({first.owner_set}); release only if it is a new payment")
    paying = [(read, key) for read in sets
              if read.identity not in held and (key := payment_key(read)) is not None]
    owners = keys.claim_many(partner, [("payment", key, read.identity.stem)
                                       for read, key in paying], file_id=file_id)
    for (read, _), first in zip(paying, owners, strict=True):
        if first != KeyOwner(file_id, read.identity.stem):
            held[read.identity] = (
                f"duplicate payment: TRN02 {read.keys.trace_number} TRN03 "
                f"{read.keys.originator} BPR02 {read.keys.amount} BPR16 "
                f"{read.keys.payment_date} was received before, in file F{first.file_id} "
                f"(set {first.owner_set}); release only if it is a new payment")
    return held
