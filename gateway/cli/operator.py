"""What every operator command shares: which store (and configuration) it works on, who the
operator is, ids, dates and tables (progress bars: gateway.cli.progress).

The store: ``--store URL``, else ``--config PATH`` (the daemon's gateway.toml: its store and
its roster), else ``$GATEWAY_STORE``, else ``$GATEWAY_CONFIG``, else
``sqlite:///var/gateway.db``. With a configuration the roster is loaded too, so a delivery
for a member whose destination was corrected goes to the corrected one, and ``--to MEMBER``
works.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from gateway.cli.run import CONFIG_ENV
from gateway.config.configuration import Configuration, load_configuration
from gateway.config.settings import Settings, load_settings
from gateway.errors import ConfigError
from gateway.service.operations import Operations
from gateway.service.views import Page
from gateway.store import ENV_VAR as STORE_ENV
from gateway.store import MessageStore, open_store, store_url

_ID = re.compile(r"([FD])(\d+)", re.IGNORECASE)


def store_options() -> argparse.ArgumentParser:
    """A parent parser with ``--store`` / ``--config`` for every operator command."""
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_mutually_exclusive_group()
    where.add_argument("--store", metavar="URL",
                       help=f"sqlite:///path.db or postgresql://... (default: ${STORE_ENV}, "
                       f"else ${CONFIG_ENV}'s store, else sqlite:///var/gateway.db)")
    where.add_argument("--config", "-c", type=Path, metavar="PATH",
                       help=f"the daemon's gateway.toml or its directory (default ${CONFIG_ENV}):"
                       " its store and its roster")
    return common


def acting_options() -> argparse.ArgumentParser:
    acting = argparse.ArgumentParser(add_help=False, parents=[store_options()])
    acting.add_argument("--reason", default="", help="why (recorded in the audit trail)")
    return acting


@dataclass
class Context:
    """The store an operator command works on, and the configuration when there is one."""

    store: MessageStore
    settings: Settings | None
    config: Configuration | None

    @property
    def timezone(self) -> tzinfo:
        return self.settings.timezone if self.settings else UTC


def config_path(args: argparse.Namespace) -> Path | None:
    """--config, else $GATEWAY_CONFIG (unless a store is named by --store/$GATEWAY_STORE)."""
    if getattr(args, "config", None):
        return Path(args.config)
    if args.store or os.environ.get(STORE_ENV) or not os.environ.get(CONFIG_ENV):
        return None
    return Path(os.environ[CONFIG_ENV])


@contextmanager
def opened(args: argparse.Namespace, *, roster: bool = False,
           create: bool = False) -> Iterator[Context]:
    """The store and, with ``roster``, the partners directory of the configuration, when one
    is named. A store is never created — a wrong path says so — except with ``create`` when
    a configuration names it (``gateway users add`` before the daemon's first start)."""
    path = config_path(args)
    settings = load_settings(path) if path else None
    url = settings.store_url if settings else store_url(args.store)
    config = load_configuration(settings.partners_dir) if settings and roster else None
    store = open_store(url, create=create and settings is not None)
    try:
        yield Context(store, settings, config)
    finally:
        store.close()


def actor() -> str:
    return f"operator:{getpass.getuser()}"


@contextmanager
def operations(args: argparse.Namespace) -> Iterator[Operations]:
    """The operator's actions on the store and roster ``args`` name, done as this user."""
    with opened(args, roster=True) as ctx:
        yield Operations(ctx.store, actor=actor(), config=ctx.config)


def parse_id(text: str, kind: str) -> int:
    """``F7``/``D12`` (or a bare number where the kind is given by the command) -> 7/12."""
    match = _ID.fullmatch(text.strip())
    if match and match[1].upper() == kind:
        return int(match[2])
    if text.strip().isdigit():
        return int(text)
    raise ConfigError(
        f"{text!r} is not a {'file' if kind == 'F' else 'delivery'} id",
        fix=f"write {kind}12 (as `gateway deliveries list` and `gateway trace` print it)",
    )


def moment(text: str | None, zone: tzinfo, *, end: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` (the day's start in ``zone``; with ``end`` the next day's start, so
    ``--until`` takes in the whole day) or an ISO date-time (UTC when it names no zone)."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        start = datetime.combine(day + timedelta(days=1 if end else 0), time(), zone)
        return start.astimezone(UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a date or a date-time",
                          fix="write 2026-03-02 or 2026-03-02T14:30") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def page_offset(args: argparse.Namespace) -> int:
    """The first row of ``--page`` N of ``--limit`` rows."""
    if args.page < 1 or args.limit < 1:
        raise ConfigError("--page and --limit count from 1", fix="e.g. --page 2 --limit 50")
    return int((args.page - 1) * args.limit)


def page_footer(page: Page[Any], args: argparse.Namespace) -> None:
    more = f"; next: --page {args.page + 1}" if page.has_more else ""
    print(f"rows {page.offset + 1}-{page.offset + len(page.items)}, newest first{more}")


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def table(headers: list[str], rows: Iterable[list[str]]) -> None:
    """Columns aligned under a header line."""
    rows = list(rows)
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
