"""A received file's bytes as a local path, for the stages that read it: the parse reads it
through once, the splitter by offset.

On SQLite with plain payloads the payload file itself serves; otherwise (PostgreSQL keeps
payloads as chunks in the database, a sealed payload must be unsealed) the bytes are read
out of the store once, into a temp file in the work directory that the parse and the route
of the same file share — a 100 MB central pay is then fetched and unsealed once, not twice.
A crash leaves the temp file behind; the daemon's start-up sweep removes it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.store.base import MessageStore
from gateway.store.models import ReceivedFile


@contextmanager
def local_copy(store: MessageStore, received: ReceivedFile,
               work_dir: Path | None) -> Iterator[Path]:
    """A path to the file's stored bytes, valid inside the ``with`` block. Reading the
    payload to its end checks a sealed one's authentication tag before anyone parses it."""
    with store.open_payload(received.sha256) as stream:
        name = getattr(stream, "name", None)
        if isinstance(name, str) and os.path.isfile(name):
            yield Path(name)
            return
        with tempfile.NamedTemporaryFile(dir=work_dir, suffix=".copy") as copy:
            while block := stream.read(1 << 20):
                copy.write(block)
            copy.flush()
            yield Path(copy.name)
