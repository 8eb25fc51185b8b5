"""``gateway synth <kind>``: write synthetic sample files (never real patient data).

Each kind is one sub-parser added by a ``_register_<kind>`` function below; adding another
(``gateway synth ncpdp``) is one more such function and one line in ``register``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.codes import EXIT_OK
from gateway.cli.synth_ncpdp import register_ncpdp
from gateway.cli.synth_recon import register_recon
from gateway.errors import ConfigError
from gateway.synth.pharmacies import write_roster
from gateway.synth.x12_835 import SHAPES, Spec, write_835, write_835_file
from gateway.synth.x12_writer import SUFFIXES, Delimiters

_NAMED_CHARS = {"newline": "\n", "lf": "\n", "\\n": "\n", "tab": "\t", "\\t": "\t"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "synth", help="write synthetic sample files (835 remittances, ...)",
        description="Write synthetic, deterministic sample files. Never real patient data.",
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    _register_835(kinds)
    register_ncpdp(kinds)
    register_recon(kinds)


def _register_835(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = kinds.add_parser(
        "835", help="a pharmacy X12 835 central-pay remittance (balanced, any delimiters)",
        description="Write a balanced pharmacy 835 (005010X221A1), streamed to disk.",
    )
    p.add_argument("--shape", choices=SHAPES, default="multi-st",
                   help="multi-st: one ST per pharmacy; single-st: PSAO payee, LX/TS3 groups")
    p.add_argument("--payees", type=int, default=5, help="pharmacies in the file (default 5)")
    p.add_argument("--claims", type=int, default=40, help="claims in the whole file")
    p.add_argument("--seed", type=int, default=1, help="same seed, same bytes (default 1)")
    p.add_argument("--reversal-rate", type=float, default=Spec.reversal_rate,
                   help="share of claims that are reversals, CLP02=22 (default %(default)s)")
    p.add_argument("--denial-rate", type=float, default=Spec.denial_rate,
                   help="share of denied claims, CLP02=4 (default %(default)s)")
    p.add_argument("--compound-rate", type=float, default=Spec.compound_rate,
                   help="share of claims with 2-3 service lines (default %(default)s)")
    p.add_argument("--dir-rate", type=float, default=Spec.dir_rate,
                   help="share of lines with a CARC 295 DIR adjustment (default %(default)s)")
    p.add_argument("--plb-rate", type=float, default=Spec.plb_rate,
                   help="share of pharmacies with PLB adjustments (default %(default)s)")
    p.add_argument("--control-number", type=int, default=1, help="ISA13/GS06 (default 1)")
    p.add_argument("--element", default="*", help="element separator (default *)")
    p.add_argument("--component", default=":", help="component separator, ISA16 (default :)")
    p.add_argument("--repetition", default="^", help="repetition separator, ISA11 (default ^)")
    p.add_argument("--terminator", "--segment", dest="segment", default="~", metavar="CHAR",
                   help="segment terminator (default ~; 'newline' for a line break)")
    p.add_argument("--suffix", choices=tuple(SUFFIXES), default="lf",
                   help="written after each terminator (default lf)")
    p.add_argument("--out", "-o", default="-", help="output file (default stdout)")
    p.add_argument("--roster", type=Path, help="also write the pharmacies as a roster CSV")
    p.set_defaults(handler=run_835)


def _char(text: str) -> str:
    return _NAMED_CHARS.get(text.lower(), text)


def run_835(args: argparse.Namespace) -> int:
    try:
        spec = Spec(
            shape=args.shape, payees=args.payees, claims=args.claims, seed=args.seed,
            reversal_rate=args.reversal_rate, denial_rate=args.denial_rate,
            compound_rate=args.compound_rate, dir_rate=args.dir_rate, plb_rate=args.plb_rate,
            interchange_control_number=args.control_number,
            delimiters=Delimiters(
                element=_char(args.element), repetition=_char(args.repetition),
                component=_char(args.component), terminator=_char(args.segment),
                suffix=SUFFIXES[args.suffix] if _char(args.segment) not in "\r\n" else "",
            ),
        )
    except ValueError as exc:
        raise ConfigError(str(exc), fix="see `gateway synth 835 --help`") from exc
    if args.out == "-":
        summary = write_835(sys.stdout, spec)
        sys.stdout.flush()
    else:
        summary = write_835_file(args.out, spec)
    if args.roster:
        write_roster(args.roster, list(summary.pharmacies))
    print(
        f"wrote {len(summary.sets)} transaction set(s), {summary.claims} claims, "
        f"{summary.segments} segments",
        file=sys.stderr,
    )
    return EXIT_OK
