"""Operator commands on the delivery queue: ``queue``, ``deliveries`` and ``trace``.

    gateway queue                                   depth per state and destination
    gateway deliveries list [--state S] [--destination D] [--pharmacy P] [--partner P]
                            [--file F7] [--since DAY] [--until DAY] [--page N]
    gateway deliveries resend D12                   send it again (even a delivered one)
    gateway deliveries redirect D12 --to MEMBER|DESTINATION
    gateway deliveries retry D12 | --all-dead [--destination D]
    gateway deliveries release D12 [--to MEMBER|DESTINATION]   a held part
    gateway deliveries replay F7                    send every delivery of a file again
    gateway trace F7 | D12                          file -> documents -> deliveries -> events
    gateway trace [--pharmacy ID] [--pbm P] [--since DAY] [--until DAY]
                  [--trace-number TRN02] [--amount 1234.50]

Ids are printed and accepted with a letter: ``F7`` is file 7, ``D12`` delivery 12. The store
(and the roster) come from the options of :mod:`gateway.cli.operator`. Lists are newest first.
Exit code 1 from ``gateway queue`` means something waits for an operator (dead or held).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from gateway.cli.codes import EXIT_INVALID, EXIT_OK
from gateway.cli.operator import (
    acting_options,
    moment,
    opened,
    operations,
    page_footer,
    page_offset,
    parse_id,
    store_options,
    table,
    when,
)
from gateway.cli.progress import progress
from gateway.errors import ConfigError
from gateway.lifecycle.audit import FileTrail, file_of_delivery
from gateway.service import Queries, normalise_amount
from gateway.service.views import TraceHit, age
from gateway.store import Delivery, DeliveryState, Event, MessageStore, ReceivedFile
from gateway.store.models import Document
from gateway.store.operator import DeliveryQuery, FileQuery
from gateway.store.operator_models import DeliveryListing
from gateway.store.queue_depth import DUE, NEEDS_OPERATOR, QueueTotals


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common, acting = store_options(), acting_options()
    queue = subparsers.add_parser("queue", parents=[common], help="delivery queue depth")
    queue.set_defaults(handler=show_queue)

    deliveries = subparsers.add_parser(
        "deliveries", help="list, resend, redirect, retry, release or replay deliveries")
    actions = deliveries.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="list deliveries, newest first")
    listing.add_argument("--state", choices=[s.value for s in DeliveryState])
    listing.add_argument("--destination")
    listing.add_argument("--pharmacy", metavar="ID", help="pharmacy id, NPI, NCPDP id or TIN")
    listing.add_argument("--partner", metavar="PBM", help="the partner the file came from")
    listing.add_argument("--file", metavar="F7", help="only this file's deliveries")
    listing.add_argument("--since", metavar="DAY", help="created on or after (YYYY-MM-DD or ISO)")
    listing.add_argument("--until", metavar="DAY", help="created up to and including this day")
    listing.add_argument("--limit", type=int, default=50, help="rows per page (default 50)")
    listing.add_argument("--page", type=int, default=1, help="page number (default 1)")
    listing.set_defaults(handler=list_deliveries)

    resend = actions.add_parser("resend", parents=[acting],
                                help="send one delivery again, even a delivered one")
    resend.add_argument("delivery", help="a delivery id, e.g. D12")
    resend.set_defaults(handler=resend_delivery)
    redirect = actions.add_parser("redirect", parents=[acting],
                                  help="send one delivery to a corrected destination")
    redirect.add_argument("delivery", help="a delivery id, e.g. D12")
    redirect.add_argument("--to", required=True, metavar="MEMBER|DESTINATION",
                          help="a member (pharmacy id, NPI, NCPDP id) or folder:/abs/dir or "
                          "sftp:<transport>:/dir")
    redirect.set_defaults(handler=redirect_delivery)
    retry = actions.add_parser("retry", parents=[acting], help="retry dead or failed deliveries")
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("delivery", nargs="?", help="a delivery id, e.g. D12")
    target.add_argument("--all-dead", action="store_true", help="every dead delivery")
    retry.add_argument("--destination", help="with --all-dead: only this destination")
    retry.set_defaults(handler=retry_deliveries)
    release = actions.add_parser("release", parents=[acting], help="release a held delivery")
    release.add_argument("delivery", help="a delivery id, e.g. D12")
    release.add_argument("--to", "--destination", dest="to", metavar="MEMBER|DESTINATION",
                         help="where it goes (default: the roster member the part names)")
    release.set_defaults(handler=release_delivery)
    replay = actions.add_parser("replay", parents=[acting], help="send a file's deliveries again")
    replay.add_argument("file", help="a file id, e.g. F7")
    replay.set_defaults(handler=replay_file)

    trace = subparsers.add_parser("trace", parents=[common], help="where did a file go")
    trace.add_argument("id", nargs="?", help="a file (F7) or delivery (D12) id")
    trace.add_argument("--pharmacy", metavar="ID", help="pharmacy id, NPI, NCPDP id or TIN")
    trace.add_argument("--pbm", metavar="PARTNER", help="the partner the file came from")
    trace.add_argument("--since", metavar="DAY", help="received on or after (YYYY-MM-DD or ISO)")
    trace.add_argument("--until", metavar="DAY", help="received up to and including this day")
    trace.add_argument("--trace-number", metavar="TRN02", help="check or EFT trace number")
    trace.add_argument("--amount", help="the pharmacy's payment (BPR02), e.g. 1234.50")
    trace.set_defaults(handler=trace_command)


def show_queue(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        queue = QueueTotals.of(ctx.store.queue_depth())
    if not queue.rows:
        print("the queue is empty")
        return EXIT_OK
    table(["DESTINATION", "STATE", "COUNT", "OLDEST"],
          ([d.destination, d.state.value, str(d.count), age(d.oldest_enqueued_at)]
           for d in queue.rows))
    oldest = queue.oldest(DUE, datetime.now(UTC))
    if oldest is not None:
        print(f"{queue.count(DUE)} waiting; the oldest for "
              f"{age(oldest.oldest_enqueued_at)} ({oldest.destination})")
    waiting = queue.count(NEEDS_OPERATOR)
    if waiting:
        print(f"{waiting} deliveries wait for an operator (dead or held): "
              "see `gateway deliveries list --state dead` / `--state held`")
        return EXIT_INVALID
    return EXIT_OK


def _delivery_row(listing: DeliveryListing) -> list[str]:
    d = listing.delivery
    outcome = when(d.delivered_at) if d.state is DeliveryState.DELIVERED else when(d.due_at)
    return [f"D{d.id}", when(d.created_at), d.state.value, d.destination, d.format,
            str(d.attempts), f"F{listing.file_id}", listing.partner, outcome,
            (d.last_error or "")[:60]]


def list_deliveries(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        query = DeliveryQuery(
            state=DeliveryState(args.state) if args.state else None,
            destination=args.destination, partner=args.partner, pharmacy=args.pharmacy,
            file_id=parse_id(args.file, "F") if args.file else None,
            since=moment(args.since, ctx.timezone),
            until=moment(args.until, ctx.timezone, end=True))
        page = Queries(ctx.store).deliveries(query, offset=page_offset(args), limit=args.limit)
    if not page.items:
        print("no deliveries match")
        return EXIT_OK
    table(["ID", "CREATED", "STATE", "DESTINATION", "FORMAT", "TRIES", "FILE", "PARTNER",
           "DELIVERED/DUE", "LAST ERROR"], (_delivery_row(item) for item in page.items))
    page_footer(page, args)
    return EXIT_OK


def resend_delivery(args: argparse.Namespace) -> int:
    with operations(args) as ops:
        delivery = ops.resend(parse_id(args.delivery, "D"), args.reason)
    print(f"D{delivery.id} queued again for {delivery.destination}")
    return EXIT_OK


def redirect_delivery(args: argparse.Namespace) -> int:
    with operations(args) as ops:
        delivery = ops.redirect(parse_id(args.delivery, "D"), args.to, args.reason)
    print(f"D{delivery.id} queued for {delivery.destination}")
    return EXIT_OK


def retry_deliveries(args: argparse.Namespace) -> int:
    with operations(args) as ops:
        if args.all_dead:
            with progress("checking dead deliveries") as bar:
                count = ops.retry_all_dead(args.destination, args.reason, progress=bar)
            print(f"{count} dead deliveries queued again")
        else:
            delivery = ops.retry(parse_id(args.delivery, "D"), args.reason)
            print(f"D{delivery.id} queued again for {delivery.destination}")
    return EXIT_OK


def release_delivery(args: argparse.Namespace) -> int:
    with operations(args) as ops:
        delivery = ops.release(parse_id(args.delivery, "D"), args.to, args.reason)
    print(f"D{delivery.id} released to {delivery.destination}")
    return EXIT_OK


def replay_file(args: argparse.Namespace) -> int:
    with operations(args) as ops:
        file_id = parse_id(args.file, "F")
        with progress(f"F{file_id}: checking destinations") as bar:
            count = ops.replay_file(file_id, args.reason, progress=bar)
    print(f"F{file_id}: {count} deliveries queued again")
    return EXIT_OK


# -- trace ------------------------------------------------------------------------------------

def _events(events: list[Event], indent: str) -> None:
    for e in events:
        print(f"{indent}{when(e.at)}  {e.action:<11} {e.actor}  {e.reason}".rstrip())


def _print_file(store: MessageStore, f: ReceivedFile, trail: FileTrail) -> None:
    print(f"F{f.id}  {f.status.value}  from {f.partner}  {f.remote_path}  {f.size} bytes  "
          f"received {when(f.received_at)}  sha256 {f.sha256}")
    if f.duplicate_of:
        print(f"  duplicate of F{f.duplicate_of}")
    if f.error:
        print(f"  error: {f.error}")
    if trail.payload_pruned_at:
        print(f"  payload pruned {when(trail.payload_pruned_at)} (retention)")
    if trail.audit:
        print(f"  deliveries and events from the audit table (rolled up "
              f"{when(trail.audit.rolled_at)})")
    _events(trail.events_of(store, "file", f.id), "  ")


def _print_document(doc: Document) -> None:
    keys = " ".join(f"{k}={v}" for k, v in sorted(doc.routing_keys.items()))
    print(f"  document {doc.id} (#{doc.ordinal}, {doc.kind})  {keys}")


def _print_delivery(store: MessageStore, d: Delivery, trail: FileTrail) -> None:
    print(f"    D{d.id} -> {d.destination} as {d.format}  {d.state.value}  "
          f"attempts {d.attempts}  name {d.output_name}")
    if d.location:
        print(f"      at {d.location}  sha256 {d.output_sha256}")
    _events(trail.events_of(store, "delivery", d.id), "      ")


def trace_file(store: MessageStore, file_id: int, only_delivery: int | None = None) -> None:
    """A file, its documents, deliveries and events, live or from the audit table."""
    trail = FileTrail.of(store, file_id)
    _print_file(store, store.get_file(file_id), trail)
    for doc in store.documents_of_file(file_id):
        mine = [d for d in trail.deliveries
                if d.document_id == doc.id and only_delivery in (None, d.id)]
        if only_delivery is None or mine:
            _print_document(doc)
            for d in mine:
                _print_delivery(store, d, trail)


def trace_command(args: argparse.Namespace) -> int:
    searching = any((args.pharmacy, args.pbm, args.since, args.until, args.trace_number,
                     args.amount))
    if bool(args.id) == searching:
        raise ConfigError("give either an id (F7, D12) or search options",
                          fix="e.g. `gateway trace F7` or `gateway trace --pharmacy 1000013 "
                          "--since 2026-03-01`")
    with opened(args) as ctx:
        if searching:
            query = FileQuery(
                partner=args.pbm, pharmacy=args.pharmacy, trace_number=args.trace_number,
                amount=normalise_amount(args.amount) if args.amount else None,
                since=moment(args.since, ctx.timezone),
                until=moment(args.until, ctx.timezone, end=True))
            return _print_hits(Queries(ctx.store).trace(query))
        kind, number = _file_or_delivery(args.id)
        if kind == "F":
            trace_file(ctx.store, number)
        else:
            trace_file(ctx.store, file_of_delivery(ctx.store, number), only_delivery=number)
    return EXIT_OK


def _file_or_delivery(text: str) -> tuple[str, int]:
    kind = text.strip()[:1].upper()
    if kind not in ("F", "D"):
        raise ConfigError(f"{text!r} is neither a file nor a delivery id",
                          fix="write F7 for file 7 or D12 for delivery 12")
    return kind, parse_id(text, kind)


def _print_hits(hits: list[TraceHit]) -> int:
    """One line per matching part: which file, which payment, where each delivery is."""
    if not hits:
        print("nothing recorded matches")
        return EXIT_INVALID
    rows = []
    for hit in hits:
        doc = hit.document
        states = ", ".join(f"D{d.id} {d.format} {d.state.value} {d.destination}"
                           for d in doc.deliveries) or "-"
        rows.append([f"F{hit.file.id}", when(hit.file.received_at), hit.file.partner,
                     doc.trace_number or "-", doc.amount or "-", doc.pharmacy or "-",
                     hit.file.status.value, states])
    table(["FILE", "RECEIVED", "PBM", "TRN02", "AMOUNT", "PHARMACY", "FILE STATUS",
           "DELIVERIES"], rows)
    files = len({hit.file.id for hit in hits})
    print(f"{len(hits)} part(s) in {files} file(s); `gateway trace F<id>` shows one in full")
    return EXIT_OK
