"""``gateway partners``: pause and resume a partner's polling; see which are paused.

    gateway partners list
    gateway partners pause PBM [--reason "their SFTP is being migrated"]
    gateway partners resume PBM

The pause is kept in the message store, so every daemon on it stops polling that partner at
its next cycle (deliveries and acknowledgments go on) until someone resumes it.
"""

from __future__ import annotations

import argparse

from gateway.cli.codes import EXIT_INVALID, EXIT_OK
from gateway.cli.operator import acting_options, opened, operations, store_options, table, when


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    partners = subparsers.add_parser("partners", help="pause or resume a partner's polling")
    actions = partners.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[store_options()], help="paused partners")
    listing.set_defaults(handler=list_partners)
    for name, handler in (("pause", pause), ("resume", resume)):
        parser = actions.add_parser(name, parents=[acting_options()],
                                    help=f"{name} polling one partner")
        parser.add_argument("partner", help="the partner id (its file name in partners/pbms/)")
        parser.set_defaults(handler=handler)


def list_partners(args: argparse.Namespace) -> int:
    with opened(args, roster=True) as ctx:
        pauses = ctx.store.partner_pauses()
        ids = sorted(set(ctx.config.pbms) | set(pauses)) if ctx.config else sorted(pauses)
    if not ids:
        print("no partner is paused")
        return EXIT_OK
    table(["PARTNER", "POLLING", "SINCE", "BY", "REASON"],
          ([pid, "paused" if pid in pauses else "on",
            when(pauses[pid].paused_at) if pid in pauses else "-",
            pauses[pid].paused_by if pid in pauses else "-",
            pauses[pid].reason if pid in pauses else ""] for pid in ids))
    return EXIT_OK


def pause(args: argparse.Namespace) -> int:
    with operations(args) as ops:
        ops.pause_partner(args.partner, args.reason)
    print(f"{args.partner}: polling paused (`gateway partners resume {args.partner}`)")
    return EXIT_OK


def resume(args: argparse.Namespace) -> int:
    with operations(args) as ops:
        resumed = ops.resume_partner(args.partner, args.reason)
    print(f"{args.partner}: polling resumed" if resumed else f"{args.partner} was not paused")
    return EXIT_OK if resumed else EXIT_INVALID
