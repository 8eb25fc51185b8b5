"""The claims ledger: claim facts of every routed file, in the message store's database.

One interface, two back ends on the store's own connection classes (like the store itself,
and procrastinate's connectors): ``ledger_sqlite.py`` writes batches with ``executemany``,
``ledger_postgres.py`` with ``COPY``. The tables are migration ``003_ledger.sql`` of each back
end (applied by the store's ``migrate``); the statements are ``sql/<backend>/ledger.sql``.

**Ingest is idempotent and streaming.** :meth:`Ledger.record_file` reads the file once, in
bounded memory, and writes its facts in batches of :data:`BATCH` rows, each batch its own
short transaction (a million-claim file never holds the daemon's write lock for long). The
file's ``ledger_files`` row says ``ingesting`` until the last batch is in, then
``complete``; readers only see complete files. A file recorded again is skipped when
complete, and when a crash left it ``ingesting`` its partial rows are deleted and it is read
again — a file re-routed after a crash never doubles its rows.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO, NamedTuple, TypeVar

from gateway.detect import HEAD_SIZE, detect_format
from gateway.log import get_logger
from gateway.reconcile import facts as f
from gateway.reconcile.config import ReconcileConfig
from gateway.store.models import ReceivedFile

BATCH = 5_000
ACTOR = "ledger"
TABLES: dict[type, str] = {  # fact type -> the name its statements carry in ledger.sql
    f.RequestFact: "requests",
    f.ResponseFact: "responses",
    f.PaymentFact: "payments",
    f.ClaimPaymentFact: "claim_payments",
    f.LineFact: "service_lines",
    f.PlbFact: "provider_adjustments",
}
_F = TypeVar("_F", bound=NamedTuple)


@dataclass(frozen=True)
class Scope:
    """What a reconciliation looks at: a pharmacy (None: all), a PBM (None: all), claims
    with a date of service in ``start..end``, payments made by ``as_of``."""

    pharmacy: str | None
    pbm: str | None
    start: date
    end: date
    as_of: date

    def params(self) -> dict[str, Any]:
        return {"pharmacy": self.pharmacy, "pbm": self.pbm, "start": self.start,
                "end": self.end, "as_of": self.as_of}


@dataclass(frozen=True)
class Ingested:
    """What :meth:`Ledger.record_file` did with one file."""

    file_id: int
    kind: str  # ncpdp | 835
    rows: int
    skipped: bool  # already complete: nothing read


class LedgerReads(ABC):
    """Reads inside one consistent snapshot of the ledger (see :meth:`Ledger.reading`)."""

    @abstractmethod
    def rows(self, name: str, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
        """Stream the rows of statement ``name`` (server-side on PostgreSQL)."""

    def facts(self, name: str, fact: type[_F], params: Mapping[str, Any]) -> Iterator[_F]:
        """Stream statement ``name``'s rows as ``fact`` rows (``SELECT *`` of its table)."""
        dates = date_fields(fact)
        make = fact._make
        for row in self.rows(name, params):
            if dates:
                values = list(row)
                for i in dates:
                    if values[i].__class__ is str:  # SQLite's ISO text
                        values[i] = date.fromisoformat(values[i])
                yield make(values)
            else:
                yield make(row)


class Ledger(ABC):
    """The claims ledger of one message store database."""

    def __init__(self, sql: Mapping[str, str]) -> None:
        self._sql = sql
        self.log = get_logger(component="ledger")

    # -- ingest ------------------------------------------------------------------------------

    def record_file(self, received: ReceivedFile, stream: BinaryIO, config: ReconcileConfig,
                    pharmacy_of: f.PharmacyOf) -> Ingested:
        """Take a routed file's claim facts into the ledger (idempotent: module docstring).

        ``stream`` is the file's stored bytes; ``pharmacy_of`` names the pharmacy an NPI or
        NCPDP id belongs to (the roster's pharmacy id). Raises InputError, and leaves the
        file ``ingesting``, when the file cannot be read (the pipeline never routes one)."""
        head = stream.read(HEAD_SIZE)
        stream.seek(0)
        kind = "835" if detect_format(head) == "x12" else "ncpdp"
        ingest = self.begin(received.id, kind)
        if ingest is None:
            return Ingested(received.id, kind, 0, skipped=True)
        if kind == "835":
            facts: Iterator[f.Fact] = f.x12_facts(stream, received.id, received.partner, config,
                                                  pharmacy_of, file_name=received.original_name)
        else:
            facts = f.ncpdp_facts(stream, received.id, received.partner, config, pharmacy_of)
        for fact in facts:
            ingest.add(fact)
        return ingest.complete()

    def begin(self, file_id: int, kind: str) -> Ingest | None:
        """Start taking one file's facts in (its partial rows out, state ``ingesting``);
        None when the file is already complete. The caller adds the facts as it reads them
        and completes the ingest once the file is routed."""
        if self._state(file_id) == "complete":
            return None
        self._begin(file_id, kind)
        return Ingest(self, file_id, kind)

    def _state(self, file_id: int) -> str | None:
        row = self._one("ledger_file_state", {"file_id": file_id})
        return None if row is None else str(row[0])

    def _begin(self, file_id: int, kind: str) -> None:
        """Start (or restart) a file: its partial rows out, its state ``ingesting``."""
        statements = [f"delete_{name}" for name in TABLES.values()] + ["begin_ledger_file"]
        self._execute(statements, {"file_id": file_id, "kind": kind})

    def _complete(self, file_id: int, rows: int) -> None:
        self._execute(["complete_ledger_file"], {"file_id": file_id, "rows": rows})

    # -- scheduled reports -------------------------------------------------------------------

    def reports_queued(self, start: date, end: date) -> set[tuple[str, str]]:
        """(pharmacy, format) of every report of the period already queued."""
        with self.reading() as reads:
            params = {"start": start, "end": end}
            return {(str(row[0]), str(row[1])) for row in reads.rows("reports_of_period", params)}

    def report_queued(self, pharmacy: str, start: date, end: date, fmt: str,
                      delivery_id: int) -> None:
        self._execute(["report_queued"], {"pharmacy": pharmacy, "start": start, "end": end,
                                          "format": fmt, "delivery_id": delivery_id})

    # -- the back ends' part -----------------------------------------------------------------

    @abstractmethod
    def _insert(self, name: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Write one batch of rows of table ``name`` in one transaction."""

    @abstractmethod
    def _execute(self, names: Sequence[str], params: Mapping[str, Any]) -> None:
        """Run the statements ``names`` in one transaction."""

    @abstractmethod
    def _one(self, name: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None: ...

    @abstractmethod
    def reading(self) -> AbstractContextManager[LedgerReads]:
        """A consistent snapshot to read from: the three streams a reconciliation merges
        see the same complete files."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Ingest:
    """One file's facts on their way into the ledger: written in batches of :data:`BATCH`
    rows as they come (bounded memory), the file ``ingesting`` until :meth:`complete`."""

    def __init__(self, ledger: Ledger, file_id: int, kind: str) -> None:
        self.ledger, self.file_id, self.kind = ledger, file_id, kind
        self._pending: dict[type, list[tuple[Any, ...]]] = {kind: [] for kind in TABLES}
        self.written = 0

    def add(self, fact: f.Fact) -> None:
        batch = self._pending[type(fact)]
        batch.append(fact)
        if len(batch) >= BATCH:
            self._flush(type(fact))

    def complete(self) -> Ingested:
        """The last batches in, then the file ``complete`` (readers see it from now on)."""
        for kind in TABLES:
            self._flush(kind)
        self.ledger._complete(self.file_id, self.written)
        self.ledger.log.info("file taken into the ledger", file_id=self.file_id,
                             kind=self.kind, rows=self.written)
        return Ingested(self.file_id, self.kind, self.written, skipped=False)

    def discard(self) -> None:
        """The file will not be completed (it was quarantined): its rows out again."""
        self.ledger._begin(self.file_id, self.kind)

    def _flush(self, kind: type) -> None:
        batch = self._pending[kind]
        if batch:
            self.ledger._insert(TABLES[kind], batch)
            self.written += len(batch)
            batch.clear()


@functools.cache
def date_fields(fact: Any) -> tuple[int, ...]:
    """The positions of a fact type's date fields (once per type: every batch asks)."""
    hints = fact.__annotations__
    return tuple(i for i, name in enumerate(fact._fields) if "date" in str(hints[name]))


def as_date(value: Any) -> date | None:
    """A date column: ISO text on SQLite, a date on PostgreSQL."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
