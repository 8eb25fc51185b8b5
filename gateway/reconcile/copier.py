"""The PostgreSQL ledger's COPY batches, sent from a thread of their own.

Why: a batch's COPY returns only once the server has inserted its rows and updated the
indexes — at a 100 MB central pay, about 4 s of the parse's wall time spent waiting while the
server works. The parse stage makes the batches (COPY text, formatted in the caller's thread,
so this thread holds the GIL only to hand bytes to libpq), and this thread sends them, so the
server inserts one batch while the parse reads the next claims: on two cores, the two overlap.

Order and errors stay as if the batches were sent in line: one thread sends them in the order
given; at most :data:`QUEUED` wait (bounded memory); a failed batch is raised — as the error
PostgreSQL gave — by every later :meth:`Copier.send` and :meth:`Copier.drain`, which the ledger
calls before every other statement on the connection (its own SQL must come after its rows),
and later batches are not sent. Nothing here commits a file: the ledger's completing
statement, after a drain, does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

QUEUED = 2  # batches waiting to be sent (each up to a few MB of COPY text)

Send = Callable[[str, str], None]  # (COPY statement, its text block) -> sent and committed


class Copier:
    def __init__(self, send: Send) -> None:
        self._send = send
        self._batches: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=QUEUED)
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    def send(self, statement: str, block: str) -> None:
        """Queue one batch (waiting while :data:`QUEUED` are queued); raise an earlier
        batch's failure instead."""
        self._raise_failure()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ledger-copier", daemon=True)
            self._thread.start()
        self._batches.put((statement, block))

    def drain(self) -> None:
        """Return once every queued batch is sent; raise the first failure among them."""
        if self._thread is not None:
            self._batches.join()
        self._raise_failure()

    def close(self) -> None:
        """Stop the thread after the batches queued (their failure is dropped: the caller
        that closes without draining does not keep the file's rows)."""
        if self._thread is not None:
            self._batches.put(None)
            self._thread.join()
            self._thread = None

    def _raise_failure(self) -> None:
        if self._failure is not None:  # for good: the batches after it were never sent
            raise self._failure

    def _run(self) -> None:
        while True:
            batch = self._batches.get()
            try:
                if batch is None:
                    return
                if self._failure is None:  # after a failure, the rest are not sent
                    self._send(*batch)
            except BaseException as exc:  # handed to the caller's thread
                self._failure = exc
            finally:
                self._batches.task_done()
