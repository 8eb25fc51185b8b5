"""The child process of the delivery crash test: one delivery worker, killed at random.

    python delivery_crash_child.py STORE_URL SINK_ROOT LEASE_SECONDS

Delivers into SINK_ROOT/<destination>/ through FolderSink until killed.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from gateway import log
from gateway.daemon.deliver import DeliveryWorker
from gateway.store import open_store
from gateway.transport.folder import FolderSink


def main(url: str, sink_root: str, lease_seconds: str) -> None:
    log.configure(json=True)  # to stderr: stdout is the 'ready' line only
    root = Path(sink_root)
    store = open_store(url, migrate=False)
    worker = DeliveryWorker(
        store,
        lambda destination: FolderSink(root / destination),
        lease_seconds=float(lease_seconds),
    )
    print("ready", flush=True)  # the parent kills at random moments after this
    worker.run(threading.Event(), idle_seconds=0.05)


if __name__ == "__main__":
    main(*sys.argv[1:])
