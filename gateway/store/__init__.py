"""The message store and delivery queue (see base.py for what it promises).

``open_store(url)`` is the one way to get a store, used by the CLI and the daemon alike:

- ``sqlite:///var/gateway.db`` (relative path) or ``sqlite:////srv/gateway/gateway.db``
  (absolute), optionally ``?payloads=/srv/gateway/payloads``;
- ``postgresql://user@host:5432/dbname`` (psycopg conninfo URL).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from gateway.errors import ConfigError
from gateway.store.base import LeaseLost, MessageStore, NotFound
from gateway.store.models import (
    Claim,
    Delivery,
    DeliveryRequest,
    DeliveryState,
    Document,
    Event,
    FileStatus,
    QueueDepth,
    Receipt,
    ReceivedFile,
)
from gateway.store.retry import RetryPolicies, RetryPolicy

DEFAULT_URL = "sqlite:///var/gateway.db"
ENV_VAR = "GATEWAY_STORE"


def store_url(explicit: str | None = None) -> str:
    """The store URL: the explicit one, else $GATEWAY_STORE, else ./var/gateway.db."""
    return explicit or os.environ.get(ENV_VAR) or DEFAULT_URL


def open_store(url: str, *, migrate: bool = True, create: bool = True) -> MessageStore:
    """Open (and by default migrate) the store a URL names.

    ``create=False`` refuses to create a new SQLite database (an operator's command pointed at
    the wrong place should say so, not show an empty queue)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        from gateway.store.sqlite import SQLiteStore

        path = unquote(parts.path)[1:]  # sqlite:///rel -> "rel", sqlite:////abs -> "/abs"
        if not path or parts.netloc:
            raise ConfigError(
                f"store URL {url!r} has no database path",
                fix="write sqlite:///relative/path.db or sqlite:////absolute/path.db",
            )
        if not create and not Path(path).is_file():
            raise ConfigError(
                f"there is no store at {path}",
                fix=f"pass --config PATH (the daemon's gateway.toml), --store URL or set {ENV_VAR}",
            )
        payloads = parse_qs(parts.query).get("payloads", [None])[0]
        store: MessageStore = SQLiteStore(Path(path), payloads)
    elif parts.scheme in ("postgresql", "postgres"):
        from gateway.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        raise ConfigError(
            f"store URL {url!r} is neither sqlite:// nor postgresql://",
            fix=f"pass --store or set {ENV_VAR}, e.g. {DEFAULT_URL}",
        )
    if migrate:
        store.migrate()
    return store


__all__ = [
    "DEFAULT_URL",
    "Claim",
    "Delivery",
    "DeliveryRequest",
    "DeliveryState",
    "Document",
    "Event",
    "FileStatus",
    "LeaseLost",
    "MessageStore",
    "NotFound",
    "QueueDepth",
    "Receipt",
    "ReceivedFile",
    "RetryPolicies",
    "RetryPolicy",
    "open_store",
    "store_url",
]
