"""Operator commands on the message store: ``queue``, ``deliveries`` and ``trace``.

    gateway queue                                   depth per state and destination
    gateway deliveries list [--state S] [--destination D]
    gateway deliveries retry D12 | --all-dead [--destination D]
    gateway deliveries release D12 [--destination D]   a held delivery, once the member exists
    gateway deliveries replay F7                    send every delivery of a file again
    gateway trace F7 | D12 | --pharmacy ID          file -> documents -> deliveries -> events

Ids are printed and accepted with a letter: ``F7`` is file 7, ``D12`` delivery 12. The store
comes from ``--store URL``, else $GATEWAY_STORE, else ``sqlite:///var/gateway.db``.
Exit code 1 from ``gateway queue`` means something waits for an operator (dead or held).
"""

from __future__ import annotations

import argparse
import getpass
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from gateway.cli.codes import EXIT_INVALID, EXIT_OK
from gateway.config.settings import load_settings
from gateway.errors import ConfigError
from gateway.store import (
    Delivery,
    DeliveryState,
    Document,
    Event,
    MessageStore,
    ReceivedFile,
    open_store,
    store_url,
)

_ID = re.compile(r"([FD])(\d+)", re.IGNORECASE)
_NEEDS_OPERATOR = (DeliveryState.DEAD, DeliveryState.HELD)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_mutually_exclusive_group()
    where.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///path.db or postgresql://... "
        "(default: $GATEWAY_STORE, else sqlite:///var/gateway.db)",
    )
    where.add_argument(
        "--config",
        "-c",
        type=Path,
        metavar="PATH",
        help="use the store of this gateway.toml (or its directory), as the daemon does",
    )
    acting = argparse.ArgumentParser(add_help=False, parents=[common])
    acting.add_argument("--reason", default="", help="why (recorded in the audit trail)")

    queue = subparsers.add_parser("queue", parents=[common], help="delivery queue depth")
    queue.set_defaults(handler=show_queue)

    deliveries = subparsers.add_parser("deliveries", help="list, retry, release or replay")
    actions = deliveries.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="list deliveries")
    listing.add_argument("--state", choices=[s.value for s in DeliveryState])
    listing.add_argument("--destination")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(handler=list_deliveries)
    retry = actions.add_parser("retry", parents=[acting], help="retry dead or failed deliveries")
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("delivery", nargs="?", help="a delivery id, e.g. D12")
    target.add_argument("--all-dead", action="store_true", help="every dead delivery")
    retry.add_argument("--destination", help="with --all-dead: only this destination")
    retry.set_defaults(handler=retry_deliveries)
    release = actions.add_parser("release", parents=[acting], help="release a held delivery")
    release.add_argument("delivery", help="a delivery id, e.g. D12")
    release.add_argument("--destination", help="deliver to this destination instead")
    release.set_defaults(handler=release_delivery)
    replay = actions.add_parser("replay", parents=[acting], help="send a file's deliveries again")
    replay.add_argument("file", help="a file id, e.g. F7")
    replay.set_defaults(handler=replay_file)

    trace = subparsers.add_parser("trace", parents=[common], help="where did a file go")
    what = trace.add_mutually_exclusive_group(required=True)
    what.add_argument("id", nargs="?", help="a file (F7) or delivery (D12) id")
    what.add_argument("--pharmacy", metavar="ID", help="NPI, NCPDP id, TIN or destination")
    trace.set_defaults(handler=trace_command)


def _open(args: argparse.Namespace) -> MessageStore:
    """The store named by --config (the daemon's own), --store, $GATEWAY_STORE or the default."""
    url = load_settings(args.config).store_url if args.config else store_url(args.store)
    return open_store(url, create=False)


def _actor() -> str:
    return f"operator:{getpass.getuser()}"


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


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def _age(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    seconds = int((datetime.now(UTC) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _table(headers: list[str], rows: Iterable[list[str]]) -> None:
    rows = list(rows)
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def show_queue(args: argparse.Namespace) -> int:
    with _open(args) as store:
        depth = store.queue_depth()
    if not depth:
        print("the queue is empty")
        return EXIT_OK
    _table(
        ["DESTINATION", "STATE", "COUNT", "OLDEST"],
        ([d.destination, d.state.value, str(d.count), _age(d.oldest_enqueued_at)] for d in depth),
    )
    due = [d for d in depth if d.state in (DeliveryState.PENDING, DeliveryState.FAILED)]
    if due:
        oldest = min(due, key=lambda d: d.oldest_enqueued_at or datetime.now(UTC))
        print(
            f"{sum(d.count for d in due)} waiting; the oldest for "
            f"{_age(oldest.oldest_enqueued_at)} ({oldest.destination})"
        )
    waiting = sum(d.count for d in depth if d.state in _NEEDS_OPERATOR)
    if waiting:
        print(
            f"{waiting} deliveries wait for an operator (dead or held): "
            "see `gateway deliveries list --state dead` / `--state held`"
        )
        return EXIT_INVALID
    return EXIT_OK


def _delivery_row(d: Delivery) -> list[str]:
    due = d.lease_expires_at or d.due_at
    return [
        f"D{d.id}",
        d.state.value,
        d.destination,
        d.format,
        str(d.attempts),
        _when(due),
        d.output_name,
        (d.last_error or "")[:60],
    ]


def list_deliveries(args: argparse.Namespace) -> int:
    state = DeliveryState(args.state) if args.state else None
    with _open(args) as store:
        found = store.list_deliveries(state=state, destination=args.destination, limit=args.limit)
    _table(
        ["ID", "STATE", "DESTINATION", "FORMAT", "TRIES", "DUE", "NAME", "LAST ERROR"],
        (_delivery_row(d) for d in found),
    )
    return EXIT_OK


def retry_deliveries(args: argparse.Namespace) -> int:
    with _open(args) as store:
        if args.all_dead:
            count = store.retry_all_dead(
                destination=args.destination, actor=_actor(), reason=args.reason
            )
            print(f"{count} dead deliveries queued again")
        else:
            delivery = store.retry(parse_id(args.delivery, "D"), actor=_actor(), reason=args.reason)
            print(f"D{delivery.id} queued again for {delivery.destination}")
    return EXIT_OK


def release_delivery(args: argparse.Namespace) -> int:
    with _open(args) as store:
        delivery = store.release(
            parse_id(args.delivery, "D"),
            destination=args.destination,
            actor=_actor(),
            reason=args.reason,
        )
    print(f"D{delivery.id} released to {delivery.destination}")
    return EXIT_OK


def replay_file(args: argparse.Namespace) -> int:
    with _open(args) as store:
        file_id = parse_id(args.file, "F")
        count = store.replay_file(file_id, actor=_actor(), reason=args.reason)
    print(f"F{file_id}: {count} deliveries queued again")
    return EXIT_OK


def _events(events: list[Event], indent: str) -> None:
    for e in events:
        print(f"{indent}{_when(e.at)}  {e.action:<11} {e.actor}  {e.reason}".rstrip())


def _print_file(store: MessageStore, f: ReceivedFile) -> None:
    print(
        f"F{f.id}  {f.status.value}  from {f.partner}  {f.remote_path}  {f.size} bytes  "
        f"received {_when(f.received_at)}  sha256 {f.sha256}"
    )
    if f.duplicate_of:
        print(f"  duplicate of F{f.duplicate_of}")
    if f.error:
        print(f"  error: {f.error}")
    _events(store.events("file", f.id), "  ")


def _print_document(doc: Document) -> None:
    keys = " ".join(f"{k}={v}" for k, v in sorted(doc.routing_keys.items()))
    print(f"  document {doc.id} (#{doc.ordinal}, {doc.kind})  {keys}")


def _print_delivery(store: MessageStore, d: Delivery) -> None:
    print(
        f"    D{d.id} -> {d.destination} as {d.format}  {d.state.value}  "
        f"attempts {d.attempts}  name {d.output_name}"
    )
    if d.location:
        print(f"      at {d.location}  sha256 {d.output_sha256}")
    _events(store.events("delivery", d.id), "      ")


def trace_file(store: MessageStore, file_id: int, only_delivery: int | None = None) -> None:
    _print_file(store, store.get_file(file_id))
    deliveries = store.deliveries_of_file(file_id)
    for doc in store.documents_of_file(file_id):
        mine = [d for d in deliveries if d.document_id == doc.id and only_delivery in (None, d.id)]
        if only_delivery is None or mine:
            _print_document(doc)
            for d in mine:
                _print_delivery(store, d)


def trace_command(args: argparse.Namespace) -> int:
    with _open(args) as store:
        if args.pharmacy:
            return _trace_pharmacy(store, args.pharmacy)
        match = _ID.fullmatch(args.id.strip())
        if match is None:
            raise ConfigError(
                f"{args.id!r} is neither a file nor a delivery id",
                fix="write F7 for file 7 or D12 for delivery 12",
            )
        if match[1].upper() == "F":
            trace_file(store, int(match[2]))
        else:
            delivery = store.get_delivery(int(match[2]))
            file_id = store.get_document(delivery.document_id).file_id
            trace_file(store, file_id, only_delivery=delivery.id)
    return EXIT_OK


def _trace_pharmacy(store: MessageStore, pharmacy: str) -> int:
    """Every file with a document for this pharmacy (by routing key) or a delivery to it."""
    file_ids = {doc.file_id for doc in store.documents_with_key(pharmacy)}
    for d in store.list_deliveries(destination=pharmacy, limit=1000):
        file_ids.add(store.get_document(d.document_id).file_id)
    if not file_ids:
        print(f"nothing recorded for {pharmacy}")
        return EXIT_INVALID
    for file_id in sorted(file_ids, reverse=True):
        f = store.get_file(file_id)
        _print_file(store, f)
        deliveries = store.deliveries_of_file(file_id)
        for doc in store.documents_of_file(file_id):
            mine = [d for d in deliveries if d.document_id == doc.id]
            if pharmacy in doc.routing_keys.values() or any(
                d.destination == pharmacy for d in mine
            ):
                _print_document(doc)
                for d in mine:
                    _print_delivery(store, d)
    return EXIT_OK
