"""``gateway files``: received files, newest first, found the way an operator asks.

    gateway files list [--partner P] [--status S] [--pharmacy ID] [--trace-number TRN02]
                       [--amount 1234.50] [--since DAY] [--until DAY] [--page N]
    gateway files show F7          events, parts and their deliveries, findings, acknowledgments
    gateway files retry F7         take a failed file up again (after correcting what failed)
    gateway files retry --all-failed
"""

from __future__ import annotations

import argparse

from gateway.cli.codes import EXIT_OK
from gateway.cli.operator import (
    acting_options,
    actor,
    moment,
    opened,
    page_footer,
    page_offset,
    parse_id,
    store_options,
    table,
    when,
)
from gateway.service import Operations, Queries, normalise_amount
from gateway.service.views import DocumentView
from gateway.store import FileStatus
from gateway.store.operator import FileQuery


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    files = subparsers.add_parser("files", help="search received files; show one")
    actions = files.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="files, newest first")
    listing.add_argument("--partner", metavar="PBM")
    listing.add_argument("--status", choices=[s.value for s in FileStatus])
    listing.add_argument("--pharmacy", metavar="ID", help="pharmacy id, NPI, NCPDP id or TIN")
    listing.add_argument("--trace-number", metavar="TRN02", help="check or EFT trace number")
    listing.add_argument("--amount", help="a pharmacy's payment (BPR02), e.g. 1234.50")
    listing.add_argument("--since", metavar="DAY", help="received on or after (YYYY-MM-DD or ISO)")
    listing.add_argument("--until", metavar="DAY", help="received up to and including this day")
    listing.add_argument("--limit", type=int, default=50, help="rows per page (default 50)")
    listing.add_argument("--page", type=int, default=1)
    listing.set_defaults(handler=list_files)
    show = actions.add_parser("show", parents=[common], help="one file in full (no claims)")
    show.add_argument("file", help="a file id, e.g. F7")
    show.set_defaults(handler=show_file)
    retry = actions.add_parser("retry", parents=[acting_options()],
                               help="take a failed file up again (the running daemon does, at "
                               "its next cycle)")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("file", nargs="?", help="a failed file's id, e.g. F7")
    which.add_argument("--all-failed", action="store_true", help="every failed file")
    retry.set_defaults(handler=retry_files)


def list_files(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        query = FileQuery(
            status=FileStatus(args.status) if args.status else None, partner=args.partner,
            pharmacy=args.pharmacy, trace_number=args.trace_number,
            amount=normalise_amount(args.amount) if args.amount else None,
            since=moment(args.since, ctx.timezone),
            until=moment(args.until, ctx.timezone, end=True))
        page = Queries(ctx.store).files(query, offset=page_offset(args), limit=args.limit)
    if not page.items:
        print("no files match")
        return EXIT_OK
    table(["ID", "RECEIVED", "PARTNER", "STATUS", "BYTES", "PARTS", "TRN02", "PAID", "NAME"],
          ([f"F{r.file.id}", when(r.file.received_at), r.file.partner, r.file.status.value,
            str(r.file.size), str(r.documents), ",".join(r.trace_numbers) or "-",
            "-" if r.amount is None else f"{r.amount:.2f}", r.file.original_name]
           for r in page.items))
    page_footer(page, args)
    return EXIT_OK


def show_file(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        detail = Queries(ctx.store).file(parse_id(args.file, "F"), claims=False)
    f = detail.file
    print(f"F{f.id}  {f.status.value}  from {f.partner}  {f.original_name}  {f.size} bytes  "
          f"received {when(f.received_at)}")
    if f.error:
        print(f"error: {f.error}")
    print("\nEVENTS")
    table(["AT", "ACTION", "ACTOR", "REASON"],
          ([when(e.at), e.action, e.actor, e.reason] for e in detail.events))
    for title, views in (("PARTS", detail.documents), ("ACKNOWLEDGMENTS", detail.acks)):
        if views:
            print(f"\n{title}")
            table(["DOC", "PHARMACY", "TRN02", "AMOUNT", "DELIVERY", "STATE", "DESTINATION"],
                  _rows(views))
    print("\nFINDINGS")
    for line in detail.findings if detail.findings is not None else [detail.note]:
        print(f"  {line}")
    if detail.findings == []:
        print("  none")
    return EXIT_OK


def retry_files(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        ops = Operations(ctx.store, actor=actor())
        if args.all_failed:
            ids = ops.retry_failed_files(args.reason)
        else:
            ids = [ops.retry_file(parse_id(args.file, "F"), args.reason).id]
    for file_id in ids:
        print(f"F{file_id}: received again; the daemon takes it up at its next cycle")
    if not ids:
        print("no failed files")
    return EXIT_OK


def _rows(views: list[DocumentView]) -> list[list[str]]:
    rows = []
    for view in views:
        head = [str(view.document.id), view.pharmacy or "-", view.trace_number or "-",
                view.amount or "-"]
        rows += [[*head, f"D{d.id}", d.state.value, d.destination] for d in view.deliveries]
        if not view.deliveries:
            rows.append([*head, "-", "-", "-"])
    return rows
