"""Retention's part of the message store: prune payloads, roll rows up, expire the audit.

One class over either back end's connection (its own, like the claims ledger's) and its
``sql/<backend>/retention.sql``; the back ends differ only in where payload bytes live
(SQLite: files beside the database, removed after the commit that records them pruned;
PostgreSQL: rows, removed in that same transaction) and in how a time is passed (epoch
seconds / timestamptz). Every method takes the moment it works from: the clock is the
caller's (gateway/lifecycle/prune.py), so a test can be six years ahead.

Each step works in batches, each batch one short transaction that re-reads what is due
inside it, so a delivery replayed meanwhile is never pruned under a daemon's feet.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.store.base import MessageStore
from gateway.store.connection import Connection, Transaction, returned_row
from gateway.store.models import Delivery, Event, Row, delivery_from_row, event_from_row, utc
from gateway.store.sqlfiles import queries

BATCH = 200
# A file's ledger rows, removed by ledger.sql's own ``delete_<table>`` (the statements a
# re-ingested file's partial rows go out by): one DELETE per table, written once.
LEDGER_ROWS = ("requests", "responses", "payments", "claim_payments", "service_lines",
               "provider_adjustments")
_FILE_ROWS = ("audit_deliveries", "trail", "document_keys", "documents")


@dataclass(frozen=True)
class AuditTrail:
    """A rolled-up file's deliveries and events, as they were when rolled."""

    file_id: int
    settled_at: datetime
    rolled_at: datetime
    deliveries: list[Delivery]
    events: list[Event]


class RetentionStore:
    """The retention statements over one connection to a store's database."""

    def __init__(self, connection: Connection, backend: str,
                 payload_dir: Path | None = None) -> None:
        self._db = connection
        self._sql = queries(backend, "retention", "ledger")
        self._payload_dir = payload_dir  # SQLite's payload files; None: in the database
        self.backend = backend

    def _t(self, moment: datetime) -> Any:
        return moment.timestamp() if self.backend == "sqlite" else moment

    # -- payloads ------------------------------------------------------------------------------

    def payloads_due(self, cutoff: datetime, limit: int = 1 << 62) -> list[tuple[str, int]]:
        """(sha256, size) of every payload the policy lets go at ``cutoff``."""
        rows = self._db.all(self._sql["payloads_to_prune"],
                            {"cutoff": self._t(cutoff), "limit": limit})
        return [(row["sha256"], self._size(row["sha256"])) for row in rows]

    def prune_payloads(self, cutoff: datetime, now: datetime) -> tuple[int, int]:
        """Remove the due payloads; (count, bytes)."""
        count = size = 0
        while True:
            with self._db.transaction() as db:
                due = db.execute(self._sql["payloads_to_prune"],
                                 {"cutoff": self._t(cutoff), "limit": BATCH}).fetchall()
                batch = [(row["sha256"], self._drop(db, row["sha256"])) for row in due]
                for sha256, bytes_ in batch:
                    db.execute(self._sql["record_pruned"],
                               {"sha256": sha256, "size": bytes_, "now": self._t(now)})
            for sha256, bytes_ in batch:  # after the commit: a crash leaves an orphan file
                self._unlink(sha256)
                count, size = count + 1, size + bytes_
            if len(batch) < BATCH:
                return count, size

    def pruned(self, sha256: str) -> datetime | None:
        """When a payload was pruned under the policy, or None."""
        row = self._db.one(self._sql["pruned_payload"], {"sha256": sha256})
        return utc(row["pruned_at"]) if row else None

    def _size(self, sha256: str) -> int:
        if self._payload_dir is None:
            row = self._db.one(self._sql["payload_bytes"], {"sha256": sha256})
            return int(row["size"]) if row else 0
        path = self._payload_path(sha256)
        return path.stat().st_size if path.exists() else 0

    def _drop(self, db: Transaction, sha256: str) -> int:
        """PostgreSQL: delete the bytes in this transaction; SQLite: only say how many."""
        db.execute(self._sql["drop_payload_envelope"], {"sha256": sha256})
        if self._payload_dir is not None:
            return self._size(sha256)
        db.execute(self._sql["drop_payload_chunks"], {"sha256": sha256})
        row = db.execute(self._sql["drop_payload"], {"sha256": sha256}).fetchone()
        return int(row["size"]) if row else 0

    def _unlink(self, sha256: str) -> None:
        if self._payload_dir is not None:
            self._payload_path(sha256).unlink(missing_ok=True)

    def _payload_path(self, sha256: str) -> Path:
        assert self._payload_dir is not None
        return self._payload_dir / sha256[:2] / sha256[2:4] / sha256

    def orphans(self, cutoff: datetime) -> list[tuple[str, int]]:
        """(sha256, size) of payloads older than ``cutoff`` that no row names (a crash
        between keeping the bytes and recording the row) or that were pruned (a crash
        between the commit and the unlink)."""
        if self._payload_dir is None:
            rows = self._db.all(self._sql["orphan_payloads"],
                                {"cutoff": cutoff, "limit": 1 << 62})
            return [(row["sha256"], int(row["size"])) for row in rows]
        keep = {row["sha256"] for row in self._db.all(self._sql["referenced_payloads"], {})}
        found = []
        for path in self._payload_dir.glob("??/??/*"):
            stat = path.stat()
            if path.name not in keep and stat.st_mtime < cutoff.timestamp():
                found.append((path.name, stat.st_size))
        return found

    def drop_orphans(self, orphans: list[tuple[str, int]], cutoff: datetime) -> None:
        """Remove what :meth:`orphans` found, checking again that it is still unnamed."""
        if self._payload_dir is None:
            with self._db.transaction() as db:
                still = {row["sha256"] for row in db.execute(
                    self._sql["orphan_payloads"], {"cutoff": cutoff, "limit": 1 << 62})}
                for sha256, _ in orphans:
                    if sha256 in still:
                        self._drop(db, sha256)
            return
        keep = {row["sha256"] for row in self._db.all(self._sql["referenced_payloads"], {})}
        for sha256, _ in orphans:
            if sha256 not in keep:
                self._payload_path(sha256).unlink(missing_ok=True)

    # -- roll-up -------------------------------------------------------------------------------

    def files_to_roll(self, cutoff: datetime, limit: int = 1 << 62) -> list[int]:
        rows = self._db.all(self._sql["files_to_roll"], {"cutoff": self._t(cutoff),
                                                         "limit": limit})
        return [row["file_id"] for row in rows]

    def roll_up(self, cutoff: datetime, now: datetime) -> tuple[int, int, int]:
        """Roll settled files' deliveries and events into the audit table;
        (files, deliveries, events)."""
        files = deliveries = events = 0
        while True:
            with self._db.transaction() as db:
                due = db.execute(self._sql["files_to_roll"],
                                 {"cutoff": self._t(cutoff), "limit": BATCH}).fetchall()
                disposal = self._open_disposal(db, now, "roll-up into audit_trails")
                rolled = [self._roll_file(db, row, now) for row in due]
                self._close_disposal(db, disposal, sum(n for _, n in rolled))
            files += len(rolled)
            deliveries += sum(d for d, _ in rolled)
            events += sum(n for _, n in rolled)
            if len(due) < BATCH:
                return files, deliveries, events

    def _roll_file(self, db: Transaction, row: Row, now: datetime) -> tuple[int, int]:
        key = {"file_id": row["file_id"]}
        deliveries = [_plain(r) for r in db.execute(self._sql["trail_deliveries"], key)]
        events = [_plain(r) for r in db.execute(self._sql["trail_events"], key)]
        trail = json.dumps({"deliveries": deliveries, "events": events}, separators=(",", ":"))
        db.execute(self._sql["insert_trail"], {
            **key, "settled_at": row["settled_at"], "now": self._t(now),
            "deliveries": len(deliveries), "events": len(events), "trail": trail})
        for delivery in deliveries:
            db.execute(self._sql["insert_audit_delivery"],
                       {**key, "delivery_id": delivery["id"]})
        db.execute(self._sql["delete_trail_events"], key)
        db.execute(self._sql["delete_trail_deliveries"], key)
        return len(deliveries), len(events)

    def trail(self, file_id: int) -> AuditTrail | None:
        """The audit table's record of a rolled-up file, or None (not rolled up)."""
        row = self._db.one(self._sql["get_trail"], {"file_id": file_id})
        if row is None:
            return None
        rolled = json.loads(row["trail"])
        return AuditTrail(
            file_id, utc(row["settled_at"]), utc(row["rolled_at"]),  # type: ignore[arg-type]
            [delivery_from_row(d) for d in rolled["deliveries"]],
            [event_from_row(e) for e in rolled["events"]])

    def file_of_delivery(self, delivery_id: int) -> int | None:
        row = self._db.one(self._sql["trail_of_delivery"], {"delivery_id": delivery_id})
        return int(row["file_id"]) if row else None

    # -- the end of the audit period -----------------------------------------------------------

    def files_to_expire(self, cutoff: datetime, limit: int = 1 << 62) -> list[int]:
        rows = self._db.all(self._sql["files_to_expire"], {"cutoff": self._t(cutoff),
                                                           "limit": limit})
        return [row["file_id"] for row in rows]

    def stale_events(self, cutoff: datetime) -> int:
        row = self._db.one(self._sql["stale_events"], {"cutoff": self._t(cutoff)})
        return int(row["n"]) if row else 0

    def expire(self, cutoff: datetime, now: datetime) -> tuple[int, int]:
        """Delete every record of files past the audit period, and events about no file
        past it; (files, events)."""
        files = 0
        params = {"cutoff": self._t(cutoff), "limit": BATCH}
        while True:
            with self._db.transaction() as db:
                due = [r["file_id"] for r in db.execute(self._sql["files_to_expire"], params)]
                disposal = self._open_disposal(db, now, "audit period ended")
                for file_id in due:
                    self._expire_file(db, file_id)
                self._close_disposal(db, disposal, 0)
            files += len(due)
            if len(due) < BATCH:
                break
        with self._db.transaction() as db:
            events = int(returned_row(db.execute(self._sql["stale_events"], params),
                                      "stale_events")["n"])
            disposal = self._open_disposal(db, now, "audit period ended (no file)")
            db.execute(self._sql["delete_stale_events"], params)
            self._close_disposal(db, disposal, events)
        return files, events

    def _expire_file(self, db: Transaction, file_id: int) -> None:
        key = {"file_id": file_id}
        db.execute(self._sql["delete_trail_events"], key)
        db.execute(self._sql["delete_trail_deliveries"], key)
        for name in _FILE_ROWS:
            db.execute(self._sql[f"expire_{name}"], key)
        for table in LEDGER_ROWS:
            db.execute(self._sql[f"delete_{table}"], key)
        db.execute(self._sql["expire_ledger_files"], key)
        db.execute(self._sql["expire_file"], key)

    # -- what is never pruned ------------------------------------------------------------------

    def kept_back(self, cutoff: datetime) -> tuple[dict[str, int], list[int]]:
        """Counts of dead and held deliveries and quarantined files older than ``cutoff``,
        and the first dead letters' ids: the policy keeps them for an operator."""
        params = {"cutoff": self._t(cutoff)}
        counts = {row["what"]: int(row["n"]) for row in self._db.all(self._sql["kept_back"],
                                                                       params)}
        dead = [row["id"] for row in self._db.all(self._sql["dead_letters_kept"], params)]
        return counts, dead

    # -- plumbing ------------------------------------------------------------------------------

    def _open_disposal(self, db: Transaction, now: datetime, reason: str) -> int:
        found = db.execute(self._sql["open_disposal"], {"now": self._t(now), "reason": reason})
        return int(returned_row(found, "open_disposal")["id"])

    def _close_disposal(self, db: Transaction, disposal: int, events: int) -> None:
        db.execute(self._sql["close_disposal"], {"id": disposal, "events": events})

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RetentionStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _plain(row: Row) -> dict[str, Any]:
    """A row as JSON-ready values: times as epoch seconds on either back end."""
    names = row.keys() if isinstance(row, sqlite3.Row) else list(row)  # type: ignore[call-overload]
    values = {name: row[name] for name in names}
    return {k: v.timestamp() if isinstance(v, datetime) else v for k, v in values.items()}


def open_retention(store: MessageStore) -> RetentionStore:
    """Retention over ``store``'s database, on a connection of its own."""
    from gateway.store.postgres import PostgresStore
    from gateway.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from gateway.store.sqlite_connection import SQLiteConnection

        return RetentionStore(SQLiteConnection(store.path, "FULL"), "sqlite",
                              store.payloads.root)
    if isinstance(store, PostgresStore):
        from gateway.store.postgres_connection import PostgresConnection

        return RetentionStore(PostgresConnection(store.url, synchronous_commit=True),
                              "postgres")
    raise TypeError(f"no retention for {store!r}")


__all__ = ["AuditTrail", "RetentionStore", "open_retention"]
