"""A failed file taken up again from the start: the one implementation behind
``gateway files retry``, the console and the daemon's reload (a SIGHUP is how an operator
says "I corrected what made those files fail").

Parsing is a re-read, and routing and acknowledging are idempotent by key, so what was done
before the failure is not done twice.
"""

from __future__ import annotations

from gateway.errors import StoreError
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus, ReceivedFile


def retry_file(store: MessageStore, file_id: int, *, actor: str,
               reason: str = "") -> ReceivedFile:
    received = store.get_file(file_id)
    if received.status is not FileStatus.FAILED:
        raise StoreError(f"file F{file_id} is {received.status}, not failed",
                         fix=f"`gateway deliveries replay F{file_id}` sends a routed "
                         "file's parts again")
    return store.set_file_status(file_id, FileStatus.RECEIVED, actor=actor,
                                 reason=f"retry: {reason}" if reason else "retry")


def retry_failed_files(store: MessageStore, *, actor: str, reason: str = "") -> list[int]:
    """Retry every failed file; their ids."""
    failed = store.list_files(status=FileStatus.FAILED, limit=1 << 30)
    return [retry_file(store, f.id, actor=actor, reason=reason).id for f in failed]
