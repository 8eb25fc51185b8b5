"""``gateway synth recon``: a reconciliation scenario with known truth (claims, responses,
835s paying them, the truth), deterministic by seed, from a demo up to a million claims."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from gateway.cli.codes import EXIT_OK
from gateway.synth.recon import ReconSpec
from gateway.synth.recon_files import write_scenario


def register_recon(
    synth_subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = synth_subparsers.add_parser(
        "recon", help="a reconciliation scenario: NCPDP claims, 835s and the known truth",
        description="Write pharmacies' claim and response batches, three PBMs' 835s (CLP01 "
        "as Rx, Rx+fill and <Rx>FILL<n>) with every outcome planted (short pays, unpaid, "
        "reversals, duplicates, DIR, PLB fees), members.csv, reconcile.toml and truth/.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pharmacies", type=int, default=3)
    parser.add_argument("--claims", type=int, default=300, help="fills in all (default 300)")
    parser.add_argument("--weeks", type=int, default=8, help="weeks of dates of service")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 5))
    parser.add_argument("--out", type=Path, required=True, help="directory to write")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = ReconSpec(seed=args.seed, pharmacies=args.pharmacies, claims=args.claims,
                     weeks=args.weeks, start=args.start)
    files = write_scenario(spec, args.out)
    first, last = spec.period
    print(f"wrote {len(files)} claim and payment files to {args.out} "
          f"(dates {first} to {last}; as of {spec.as_of}); truth in {args.out / 'truth'}")
    return EXIT_OK
