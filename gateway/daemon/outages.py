"""Expected outages — the store down, a partner unreachable, an alert channel failing — told
once, waited out with backoff.

An outage is not news at every attempt: a store restart used to log an error twice a second
per worker, an unreachable SFTP host a traceback per poll. Here the first failure of a
subject logs one warning with its reason, the attempts while it lasts log nothing, and the
first success logs one line saying how long it lasted and how many attempts failed. Callers
wait :meth:`Outages.failed`'s answer before trying again (exponential, capped, with jitter so
that a pool of workers does not knock on a restarting server in step).

One instance per daemon, shared by its threads: the store's outage is one outage, whichever
worker meets it first. ``/healthz`` and the alerts read :meth:`Outages.failing`.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from gateway.log import get_logger

BACKOFF_FIRST = 1.0  # seconds after the first failure
BACKOFF_CAP = 30.0  # the longest wait between two attempts


class SubjectKind(StrEnum):
    STORE = "store"  # the message store (one for the daemon)
    PARTNER = "partner"  # a partner's Source, by partner id
    WORKER = "worker"  # a delivery worker's unexpected error, by worker number


@dataclass(frozen=True, order=True)
class Subject:
    """What is failing; logged as ``store``, ``partner:<id>`` or ``worker:<n>``."""

    kind: SubjectKind
    id: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}" if self.id else str(self.kind)

    @classmethod
    def partner(cls, partner: str) -> Subject:
        return cls(SubjectKind.PARTNER, partner)

    @classmethod
    def worker(cls, n: int) -> Subject:
        return cls(SubjectKind.WORKER, str(n))


STORE = Subject(SubjectKind.STORE)


@dataclass(frozen=True)
class Outage:
    """One subject failing: since when (epoch seconds), how often, and why."""

    subject: Subject
    reason: str  # the first failure's
    since: float
    failures: int = 1
    last_reason: str = ""


class Outages:
    """The subjects failing right now in this daemon (thread-safe)."""

    def __init__(self, *, log: Any = None) -> None:
        self._log = log or get_logger(component="outages")
        self._lock = threading.Lock()
        self._open: dict[Subject, Outage] = {}

    def failed(self, subject: Subject, reason: str, **ids: object) -> Outage:
        """Record a failed attempt; the first one of an outage is logged (with ``ids``)."""
        with self._lock:
            outage = self._open.get(subject)
            if outage is None:
                outage = Outage(subject, reason, time.time(), last_reason=reason)
                self._log.warning("outage began", subject=str(subject),
                                  reason=reason, **ids)
            else:
                outage = replace(outage, failures=outage.failures + 1, last_reason=reason)
            self._open[subject] = outage
            return outage

    def succeeded(self, subject: Subject, **ids: object) -> Outage | None:
        """Record a success; the outage it ends (logged once), or None if there was none."""
        with self._lock:
            outage = self._open.pop(subject, None)
        if outage is not None:
            self._log.info("outage ended", subject=str(subject), failures=outage.failures,
                           seconds=round(time.time() - outage.since, 1),
                           last_reason=outage.last_reason, **ids)
        return outage

    def failing(self) -> dict[Subject, Outage]:
        """A snapshot of the open outages by subject."""
        with self._lock:
            return dict(self._open)


def backoff(outage: Outage) -> float:
    """Seconds to wait before the next attempt: 1, 2, 4 ... 30, each ±20 %."""
    delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** (outage.failures - 1))
    return float(delay * random.uniform(0.8, 1.2))
