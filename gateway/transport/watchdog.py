"""A watchdog that ends a transfer which stopped making progress or ran past its deadline.

paramiko blocks forever on a peer that stalls with the socket open (measured: mid-get and
mid-put there is no default timeout at all). The SFTP channel's own ``settimeout`` bounds one
read, but a slow trickle can keep a transfer alive for hours. The watchdog watches two
clocks — time since the last progress and time since the start — and when either runs out it
calls ``on_expire`` (closing the SSH client), which makes the blocked call raise within
milliseconds. The caller then asks :attr:`Watchdog.expired` why it failed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

_TICK = 0.1


class Watchdog:
    """``with Watchdog(close, idle=30, total=3600) as dog: ... dog.progress() ...``"""

    def __init__(
        self, on_expire: Callable[[], None], *, idle: float | None, total: float | None
    ) -> None:
        self._on_expire = on_expire
        self._idle = idle
        self._total = total
        self._stop = threading.Event()
        self._started = self._last = time.monotonic()
        self.expired: str | None = None
        self._thread = threading.Thread(target=self._watch, name="transfer-watchdog", daemon=True)

    def progress(self) -> None:
        """Bytes moved: the idle clock starts again."""
        self._last = time.monotonic()

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(_TICK):
            now = time.monotonic()
            if self._idle is not None and now - self._last > self._idle:
                self.expired = f"no progress for {self._idle:g} s"
            elif self._total is not None and now - self._started > self._total:
                self.expired = f"not finished within {self._total:g} s"
            else:
                continue
            self._on_expire()
            return
