"""Interchange control numbers (ISA13/GS06) kept in the message store, for every daemon alike.

The router asks for the numbers of the parts it writes (:class:`ControlNumbers`), all the
parts of a transaction set at once. Kept in the store, one sequence per destination is shared
by every daemon on the database: PostgreSQL serialises assigners on the counter row (its
``INSERT .. ON CONFLICT DO UPDATE`` locks it until the transaction ends); SQLite's ``BEGIN
IMMEDIATE`` holds the write lock from the first statement. The counter and the part's
assignment commit together, so a sequence has no gaps, and a part routed again (after a crash,
on another daemon) keeps its first number.

On PostgreSQL a set's numbers are one statement (``PostgresControlNumbers`` in postgres.py,
the function of 011_control_numbers_at_once.sql: one round trip, not five statements and a
transaction per part); SQLite, in process, runs the same steps statement by statement here,
in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from gateway.errors import StoreError
from gateway.store.connection import Connection, Transaction, returned_row

_ATTEMPTS = 3  # a lost race for one part key is settled by the next read


class Raced(Exception):
    """Another daemon assigned a part meanwhile: roll back our increments, read theirs."""


class StoreControlNumbers:
    """The :class:`gateway.x12.write.control_numbers.ControlNumbers` of a SQL store."""

    def __init__(self, connection: Connection, sql: Mapping[str, str]) -> None:
        self._db = connection
        self._sql = sql

    def assign(self, destination: str, key: str) -> int:
        return self.assign_many([(destination, key)])[0]

    def assign_many(self, parts: Sequence[tuple[str, str]]) -> list[int]:
        if not parts:
            return []
        for _ in range(_ATTEMPTS):
            try:
                return self._assign_once(parts)
            except Raced:
                continue
        keys = ", ".join(key for _, key in parts[:3])
        raise StoreError(f"control numbers of parts {keys} kept changing under this daemon",
                         where=parts[0][0], fix="route the file again; nothing was assigned")

    def _assign_once(self, parts: Sequence[tuple[str, str]]) -> list[int]:
        """Every part's number, in one transaction: all of them are assigned or none."""
        now = time.time()
        with self._db.transaction() as db:
            db.execute(self._sql["control_relaxed"], {})
            return [self._assign_one(db, {"key": key, "sequence": destination, "now": now})
                    for destination, key in parts]

    def _assign_one(self, db: Transaction, params: dict[str, object]) -> int:
        found = db.execute(self._sql["control_assigned"], params).fetchone()
        if found is not None:
            return int(found["number"])
        number = returned_row(db.execute(self._sql["control_next"], params),
                              "control_next")["number"]
        params["number"] = number
        db.execute(self._sql["control_retire"], params)  # after a wrap past 999999999
        if db.execute(self._sql["control_assign"], params).fetchone() is None:
            raise Raced  # leaving the block rolls the counters back: no gap
        return int(number)
