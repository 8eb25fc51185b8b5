"""Named leases (a partner's poll, a file's processing) kept alive by a heartbeat thread.

A lease lasts ``[gateway] lease_seconds`` (default 60) and a thread renews it every third of
that while the work runs — however long a download, a parse or a split takes. A daemon that
dies (SIGKILL, power cut) stops renewing, so another daemon on the shared store takes the
work over within one lease period, instead of waiting out a lease long enough for the
largest file (it was 900 s). Renewal failing because the store is down is retried at the
next beat; renewal finding the lease taken marks it lost, and the work stops at its next
:attr:`HeldLease.alive` check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gateway.errors import StoreUnavailable
from gateway.log import get_logger
from gateway.store.base import MessageStore


class HeldLease:
    """A lease this daemon holds; renewed in the background until the block ends."""

    def __init__(self, store: MessageStore, name: str, holder: str, seconds: float) -> None:
        self._store, self.name, self._holder, self._seconds = store, name, holder, seconds
        self._lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease:{name}", daemon=True)
        self._log = get_logger(component="lease")

    @property
    def alive(self) -> bool:
        """False once a renewal found the lease taken over (the work should stop)."""
        return not self._lost.is_set()

    def _beat(self) -> None:
        while not self._done.wait(self._seconds / 3):
            try:
                if not self._store.renew_poll_lease(self.name, self._holder, self._seconds):
                    self._lost.set()
                    self._log.warning("lease lost", lease=self.name)
                    return
            except StoreUnavailable:
                continue  # the daemon's loop reports the outage; try again at the next beat

    def _stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()


@contextmanager
def held(store: MessageStore, name: str, holder: str, seconds: float) -> Iterator[HeldLease | None]:
    """Acquire the lease ``name`` for ``holder``, keep it alive while the block runs, release
    it after; ``None`` (and nothing held) when another holder has it."""
    if not store.acquire_poll_lease(name, holder, seconds):
        yield None
        return
    lease = HeldLease(store, name, holder, seconds)
    lease._thread.start()
    try:
        yield lease
    finally:
        lease._stop()
        store.release_poll_lease(name, holder)
