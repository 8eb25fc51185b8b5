"""The duplicate-payment registry: which transaction set first carried a payment key.

A PBM that sends the same payment twice — the same interchange again (ISA06 + ISA13), or the
same payment in a new envelope (TRN02 + TRN03 + BPR02 + BPR16) — must not have it delivered
twice (issue 10, Build 5). The first set to claim a key owns it, whichever daemon claims
first (one row per key, primary key); a later set finds another owner and is a duplicate.
The owner is named by its file and its identity within the file, so routing the owning file
again (a redo after a crash) finds itself the owner and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.errors import StoreError
from gateway.store.connection import Connection

KINDS = ("interchange", "payment")


@dataclass(frozen=True)
class KeyOwner:
    """The set that first carried a key: its file and its identity inside that file."""

    file_id: int
    owner_set: str


class PaymentKeys:
    """Claims and forgets payment keys in the message store (sql/<backend>/payments.sql)."""

    def __init__(self, connection: Connection, sql: Mapping[str, str]) -> None:
        self._db = connection
        self._sql = sql

    def claim(self, partner: str, kind: str, value: str, *, file_id: int,
              owner_set: str) -> KeyOwner:
        """Claim ``value`` for the set (file_id, owner_set); return the key's owner — the set
        itself when it is the first to carry it."""
        return self.claim_many(partner, [(kind, value, owner_set)], file_id=file_id)[0]

    def claim_many(self, partner: str, claims: Sequence[tuple[str, str, str]], *,
                   file_id: int) -> list[KeyOwner]:
        """Claim (kind, value, owner_set) for sets of one file in one transaction (a file of
        a thousand sets is one commit, not a thousand); the owner of each, in order."""
        owners = []
        now = time.time()
        with self._db.transaction() as db:
            for kind, value, owner_set in claims:
                if kind not in KINDS:
                    raise ValueError(f"payment key kind {kind!r} is not one of {KINDS}")
                params = {"partner": partner, "kind": kind, "value": value,
                          "file_id": file_id, "owner_set": owner_set, "now": now}
                row = db.execute(self._sql["claim_payment_key"], params).fetchone()
                if row is None:  # the upsert always returns the owner's row
                    raise StoreError("the store's statement 'claim_payment_key' returned no row",
                                     fix="check that migration 009 (payment_keys) was applied")
                owners.append(KeyOwner(int(row["file_id"]), str(row["owner_set"])))
        return owners

    def forget_file(self, file_id: int) -> None:
        """Give up every key a file claimed (it was quarantined: nothing of it was sent)."""
        self._db.write_one(self._sql["forget_payment_keys"], {"file_id": file_id})
