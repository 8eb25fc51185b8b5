"""``gateway synth ncpdp``: write a synthetic NCPDP request batch and its response batch.

The X12 engineer's ``gateway/cli/synth.py`` owns the ``synth`` command; it calls
:func:`register_ncpdp` with its sub-parsers so that both generators live under one command.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from gateway.cli.codes import EXIT_OK
from gateway.synth.ncpdp import SynthOptions, write_batches


def register_ncpdp(synth_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ncpdp`` under ``gateway synth``."""
    parser = synth_subparsers.add_parser(
        "ncpdp",
        help="synthetic NCPDP D.0 batch 1.2 files (requests + matching responses)",
        description="Write REQUESTS and RESPONSES batch files: B1 claims (paid or rejected with "
        "reject codes) and B2 reversals. Deterministic by --seed; no real data.",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--transmissions", type=int, default=10, help="B1 transmissions")
    parser.add_argument("--claims-per-transmission", type=int, default=1, choices=(1, 2, 3, 4))
    parser.add_argument("--reject-rate", type=float, default=0.2, help="share of rejected claims")
    parser.add_argument("--reversal-rate", type=float, default=0.1, help="share of paid reversed")
    parser.add_argument("--service-date", type=date.fromisoformat, default=date(2026, 1, 15))
    parser.add_argument("--batch-number", default="1")
    parser.add_argument("--requests", type=Path, required=True, help="request batch file to write")
    parser.add_argument("--responses", type=Path, required=True, help="response batch to write")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    options = SynthOptions(
        seed=args.seed,
        transmissions=args.transmissions,
        transactions_per_transmission=args.claims_per_transmission,
        reject_rate=args.reject_rate,
        reversal_rate=args.reversal_rate,
        service_date=args.service_date,
        batch_number=args.batch_number,
    )
    with args.requests.open("wb") as requests, args.responses.open("wb") as responses:
        details = write_batches(options, requests, responses)
    print(f"wrote {details} transmissions to {args.requests} and {args.responses}")
    return EXIT_OK

