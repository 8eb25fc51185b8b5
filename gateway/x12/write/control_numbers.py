"""Interchange control numbers (ISA13/GS06) for what the gateway sends, per destination.

Every destination sees its own increasing sequence, as X12 trading partners expect. The number
is assigned once per *part* (identified by its idempotency key) and remembered: writing the same
part again — after a crash, or on an operator's replay — reuses its number, so the redone file
is byte-identical and the receiver's duplicate check treats it as the same interchange.

:class:`ControlNumbers` is the interface. The daemon uses the message store's
(``MessageStore.control_numbers()``, gateway/store/control_numbers.py), shared by every daemon
on the store; :class:`SqliteControlNumbers` is the small file-backed one ``gateway split``
uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

MAX_CONTROL_NUMBER = 999_999_999


class ControlNumbers(Protocol):
    def assign(self, destination: str, key: str) -> int:
        """The control number of the part ``key`` sent to ``destination`` (1..999999999)."""
        ...

    def assign_many(self, parts: Sequence[tuple[str, str]]) -> list[int]:
        """The numbers of several parts ``(destination, key)``, as :meth:`assign` one after
        the other would give them — in one call, so a store numbers a transaction set's
        thousand parts in one round trip."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS control_counter (
    destination TEXT PRIMARY KEY,
    last_number INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS control_assignment (
    part_key TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    number INTEGER NOT NULL,
    UNIQUE (destination, number)
);
"""


class SqliteControlNumbers:
    """Control numbers kept in a SQLite file; safe across processes (one transaction each)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def assign(self, destination: str, key: str) -> int:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT number FROM control_assignment WHERE part_key = ?", (key,)
            ).fetchone()
            if row is not None:
                db.execute("COMMIT")
                return int(row[0])
            row = db.execute(
                "SELECT last_number FROM control_counter WHERE destination = ?", (destination,)
            ).fetchone()
            number = (int(row[0]) if row else 0) % MAX_CONTROL_NUMBER + 1  # wraps after 1e9-1
            db.execute(
                "INSERT INTO control_counter (destination, last_number) VALUES (?, ?) "
                "ON CONFLICT (destination) DO UPDATE SET last_number = excluded.last_number",
                (destination, number),
            )
            db.execute(
                "DELETE FROM control_assignment WHERE destination = ? AND number = ?",
                (destination, number),
            )  # after a wrap the oldest assignment of that number is retired
            db.execute(
                "INSERT INTO control_assignment (part_key, destination, number) VALUES (?, ?, ?)",
                (key, destination, number),
            )
            db.execute("COMMIT")
            return number
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def assign_many(self, parts: Sequence[tuple[str, str]]) -> list[int]:
        return [self.assign(destination, key) for destination, key in parts]

    def close(self) -> None:
        self._db.close()


class MemoryControlNumbers:
    """In-process numbers for one-off runs and tests that do not need persistence."""

    def __init__(self, first: int = 1) -> None:
        """``first``: the first number each destination gets (``validate --control-number``)."""
        self._first = first
        self._last: dict[str, int] = {}
        self._assigned: dict[str, int] = {}

    def assign(self, destination: str, key: str) -> int:
        if key not in self._assigned:
            number = self._last.get(destination, self._first - 1) % MAX_CONTROL_NUMBER + 1
            self._last[destination] = number
            self._assigned[key] = number
        return self._assigned[key]

    def assign_many(self, parts: Sequence[tuple[str, str]]) -> list[int]:
        return [self.assign(destination, key) for destination, key in parts]
