"""The data lifecycle's commands: ``prune`` and ``export``.

    gateway prune [--dry-run]               apply [retention] (counts and bytes), sweep leftovers
    gateway export --file F7 [-o F7.zip]    raw bytes, summary, parts, deliveries, events
    gateway export --pharmacy ID --from DAY --to DAY [-o audit.zip]

``prune`` reads the policy from ``--config`` (the daemon's gateway.toml; defaults without
one) and exits 1 when it kept dead letters, held parts or quarantined files back for an
operator (it never prunes those).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.cli.codes import EXIT_INVALID, EXIT_OK
from gateway.cli.operator import moment, opened, parse_id, store_options
from gateway.config.retention import RetentionPolicy
from gateway.daemon.schedule import utc_now
from gateway.errors import ConfigError
from gateway.lifecycle.export import export_file, export_pharmacy
from gateway.lifecycle.prune import prune
from gateway.lifecycle.sweep import folder_destinations, sweep


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = store_options()
    pruning = subparsers.add_parser("prune", parents=[common],
                                    help="apply the retention policy and sweep leftovers")
    pruning.add_argument("--dry-run", action="store_true",
                         help="print what would be removed, remove nothing")
    pruning.set_defaults(handler=prune_command)
    export = subparsers.add_parser("export", parents=[common],
                                   help="a zip of one file's or one pharmacy's records")
    export.add_argument("--file", metavar="F7", help="one file, everything about it")
    export.add_argument("--pharmacy", metavar="ID", help="pharmacy id, NPI, NCPDP id or TIN")
    export.add_argument("--from", dest="since", metavar="DAY", help="received on or after")
    export.add_argument("--to", dest="until", metavar="DAY", help="received up to this day")
    export.add_argument("-o", "--out", type=Path, help="the zip to write")
    export.set_defaults(handler=export_command)


def prune_command(args: argparse.Namespace) -> int:
    now = utc_now()
    with opened(args, roster=True) as ctx:
        policy = ctx.settings.retention if ctx.settings else RetentionPolicy()
        report = prune(ctx.store, policy, now, dry_run=args.dry_run, actor="operator")
        destinations = [d.destination for d in ctx.store.queue_depth()]
        if ctx.config:
            destinations += [str(m.destination) for m in ctx.config.roster]
        work = ctx.settings.work_dir if ctx.settings else None
        swept = sweep(ctx.store, folder_destinations(destinations), work,
                      policy.at(now).sweep, dry_run=args.dry_run)
    for line in report.lines() + swept.lines():
        print(line)
    return EXIT_INVALID if any(report.kept.values()) else EXIT_OK


def export_command(args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.pharmacy):
        raise ConfigError("give either --file F7 or --pharmacy ID --from DAY --to DAY",
                          fix="e.g. `gateway export --file F7` or `gateway export --pharmacy "
                          "1234567893 --from 2026-01-01 --to 2026-03-31`")
    with opened(args) as ctx:
        if args.file:
            file_id = parse_id(args.file, "F")
            done = export_file(ctx.store, file_id, args.out or Path(f"F{file_id}.zip"))
        else:
            since = moment(args.since, ctx.timezone)
            until = moment(args.until, ctx.timezone, end=True)
            if since is None or until is None:
                raise ConfigError("--pharmacy needs --from and --to",
                                  fix="add e.g. --from 2026-01-01 --to 2026-03-31")
            out = args.out or Path(f"export-{args.pharmacy}-{args.since}-{args.until}.zip")
            done = export_pharmacy(ctx.store, args.pharmacy, since, until, out)
    print(f"{done.path}: {done.files} files, {done.payloads} payloads"
          + (f", {done.pruned} pruned under the retention policy" if done.pruned else ""))
    return EXIT_OK
