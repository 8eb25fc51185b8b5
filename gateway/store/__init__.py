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

from gateway.config.retry_policy import RetryPolicies, RetryPolicy
from gateway.config.settings import Settings
from gateway.errors import ConfigError
from gateway.store.base import MessageStore
from gateway.store.crypt.keys import Keyring, load_keyring
from gateway.store.errors import LeaseLost, NotFound
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

DEFAULT_URL = "sqlite:///var/gateway.db"
ENV_VAR = "GATEWAY_STORE"


def store_url(explicit: str | None = None) -> str:
    """The store URL: the explicit one, else $GATEWAY_STORE, else ./var/gateway.db."""
    return explicit or os.environ.get(ENV_VAR) or DEFAULT_URL


def open_store(url: str, *, migrate: bool = False, create: bool = True,
               check: bool = True, keyring: Keyring | None = None) -> MessageStore:
    """Open the store a URL names, at the schema this gateway needs.

    The schema changes only when asked (``migrate=True``: ``gateway migrate``, and ``init`` /
    ``demo`` for a store they create): a store at an older version is refused with the
    command that migrates it, so an upgrade of the gateway never alters a shared database
    behind the operator's back (``check=False``: not even checked, for ``gateway migrate``).
    A SQLite database this call creates is made at the current schema: it has nothing to
    protect. ``create=False`` refuses to create a new SQLite database (an
    operator's command pointed at the wrong place should say so, not show an empty queue).
    ``keyring``: the payload keys (gateway/store/crypt/); without one, new payloads are
    plaintext and a sealed one cannot be read — :func:`open_configured` passes the keys of a
    gateway.toml, and every command with a configuration opens its store that way."""
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
        migrate = migrate or not Path(path).exists()
        store: MessageStore = SQLiteStore(Path(path), payloads, keyring)
    elif parts.scheme in ("postgresql", "postgres"):
        from gateway.store.postgres import PostgresStore

        store = PostgresStore(url, keyring)
    else:
        raise ConfigError(
            f"store URL {url!r} is neither sqlite:// nor postgresql://",
            fix=f"pass --store or set {ENV_VAR}, e.g. {DEFAULT_URL}",
        )
    if migrate:
        store.migrate()
    elif check:
        _require_current(store, url)
    return store


def open_configured(settings: Settings, **options: bool) -> MessageStore:
    """The store of a gateway.toml, with its payload keys (``options`` as :func:`open_store`).
    ConfigError naming the file and the fix when a key is missing, loose or malformed."""
    return open_store(settings.store_url, keyring=load_keyring(settings), **options)


class SchemaOutdated(ConfigError):
    """The store's schema is older than this gateway's: ``gateway migrate`` brings it up."""


def _require_current(store: MessageStore, url: str) -> None:
    version, needed = store.schema_version(), store.latest_schema()
    if version < needed:
        store.close()
        raise SchemaOutdated(
            f"the store is at schema version {version}, this gateway needs {needed}",
            where=repr(store),
            fix="back up the database, then run `gateway migrate` with the same --config "
            f"(or --store {_without_password(url)}), then start again",
        )
    if version > needed:
        store.close()
        raise SchemaOutdated(
            f"the store is at schema version {version}, newer than this gateway knows "
            f"({needed})", where=repr(store),
            fix="upgrade the gateway to the version that migrated this store",
        )


def _without_password(url: str) -> str:
    """A store URL fit for a message: the password, if any, replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


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
    "SchemaOutdated",
    "open_configured",
    "open_store",
    "store_url",
]
