"""Interchange control numbers (ISA13/GS06) kept in the message store, for every daemon alike.

The router asks for the number of each part it writes (:class:`ControlNumbers`). Kept in the
store, one sequence per destination is shared by every daemon on the database: PostgreSQL
serialises assigners on the counter row (its ``INSERT .. ON CONFLICT DO UPDATE`` locks it
until the transaction ends); SQLite's ``BEGIN IMMEDIATE`` holds the write lock from the first
statement. The counter and the part's assignment commit together, so a sequence has no gaps,
and a part routed again (after a crash, on another daemon) keeps its first number.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from gateway.errors import StoreError
from gateway.store.connection import Connection, returned_row

_ATTEMPTS = 3  # a lost race for one part key is settled by the next read


class _Raced(Exception):
    """Another daemon assigned this part meanwhile: roll back our increment, read theirs."""


class StoreControlNumbers:
    """The :class:`gateway.x12.write.control_numbers.ControlNumbers` of a SQL store."""

    def __init__(self, connection: Connection, sql: Mapping[str, str]) -> None:
        self._db = connection
        self._sql = sql

    def assign(self, destination: str, key: str) -> int:
        for _ in range(_ATTEMPTS):
            try:
                return self._assign_once(destination, key)
            except _Raced:
                continue
        raise StoreError(f"control number of part {key} kept changing under this daemon",
                         where=destination, fix="route the file again; nothing was assigned")

    def _assign_once(self, destination: str, key: str) -> int:
        params = {"key": key, "sequence": destination, "now": time.time()}
        with self._db.transaction() as db:
            db.execute(self._sql["control_relaxed"], params)
            found = db.execute(self._sql["control_assigned"], params).fetchone()
            if found is not None:
                return int(found["number"])
            number = returned_row(db.execute(self._sql["control_next"], params),
                                  "control_next")["number"]
            params["number"] = number
            db.execute(self._sql["control_retire"], params)  # after a wrap past 999999999
            if db.execute(self._sql["control_assign"], params).fetchone() is None:
                raise _Raced  # leaving the block rolls the counter back: no gap
            return int(number)
