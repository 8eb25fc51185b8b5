"""``gateway split FILE --out DIR`` and ``gateway route FILE``: the splitter and router by hand.

``split`` writes one 835 per pharmacy and transaction set into DIR (held parts into
DIR/held/) plus a manifest (``<file>.split.json``: every part with its source range, amounts
and owner; the held parts with their reasons; the PSAO's own PLB adjustments) and prints a
line per part and the balance check. Without ``--members`` every payee or LX/TS3/NM1*82
provider of the file gets its own part; with it, parts go to members and the rest is held.

``route`` shows where each part would be delivered, in which formats, under which
idempotency key — or why it would be held — without writing or delivering anything.

With stderr on a terminal, both show a bar there of the bytes read (gateway.cli.progress).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.cli.codes import EXIT_OK, EXIT_USAGE
from gateway.cli.progress import reading
from gateway.config.members import load_roster
from gateway.config.psao import Psao, load_psao
from gateway.routing.plan import plan_deliveries
from gateway.routing.policy import ProviderPolicy, RosterPolicy
from gateway.x12.model import SetIdentity
from gateway.x12.split.parts import PartPolicy, PartWriter, SplitResult
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import DirectoryPartWriter, NullPartWriter
from gateway.x12.write.control_numbers import (
    ControlNumbers,
    MemoryControlNumbers,
    SqliteControlNumbers,
)
from gateway.x12.write.envelope import Party


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("file", type=Path, help="an X12 835 file")
    common.add_argument("--members", type=Path, metavar="CSV",
                        help="member roster (partners/members.csv); without it every "
                             "provider in the file gets its own part")
    common.add_argument("--psao", type=Path, metavar="TOML",
                        help="the PSAO's identity (partners/psao.toml): envelope sender and "
                             "how to recognise its own PLBs; default: the file's receiver")
    split = subparsers.add_parser("split", parents=[common],
                                  help="split an 835 into one 835 per pharmacy")
    split.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="where to write the parts (held parts go to DIR/held)")
    split.add_argument("--counter", type=Path, metavar="SQLITE",
                       help="control-number counter file (default DIR/.control-numbers.sqlite)")
    split.set_defaults(handler=run_split)
    route = subparsers.add_parser("route", parents=[common],
                                  help="show where each part of an 835 would be delivered")
    route.add_argument("--json", action="store_true", help="one JSON object per delivery")
    route.set_defaults(handler=run_route)


def run_split(args: argparse.Namespace) -> int:
    if not _check_input(args.file):
        return EXIT_USAGE
    policy, psao = _policy(args)
    args.out.mkdir(parents=True, exist_ok=True)
    numbers = SqliteControlNumbers(args.counter or args.out / ".control-numbers.sqlite")
    try:
        result = _split(args.file, policy, DirectoryPartWriter(args.out), numbers, psao)
    finally:
        numbers.close()
    manifest = args.out / f"{args.file.name}.split.json"
    manifest.write_text(json.dumps(_manifest(result), indent=2) + "\n")
    for part in result.parts:
        state = f"HELD ({part.owner.held_reason})" if part.owner.held else "ok"
        print(f"{_label(part.source.identity, part.source.control_number)}  "
              f"{part.owner.label:<14} {part.mode:<5} "
              f"claims {part.claim_count:>6}  net {part.net:>12}  {state}  {part.location}")
    for adjustment in result.psao_adjustments:
        print(f"{adjustment.control_number}  PSAO own PLB {adjustment.provider_id} "
              f"{adjustment.reason}:{adjustment.reference or ''} {adjustment.amount} "
              f"({adjustment.why})")
    _print_balance(result)
    print(f"manifest: {manifest}")
    return EXIT_OK


def run_route(args: argparse.Namespace) -> int:
    if not _check_input(args.file):
        return EXIT_USAGE
    policy, psao = _policy(args)
    result = _split(args.file, policy, NullPartWriter(), MemoryControlNumbers(), psao)
    for planned in plan_deliveries(result):
        part = planned.part
        if args.json:
            print(json.dumps({
                "transaction_set": part.source.control_number,
                "set": _set_key(part.source.identity), "owner": part.owner.key,
                "mode": part.mode, "destination": planned.destination, "format": planned.format,
                "idempotency_key": planned.idempotency_key, "held": planned.held_reason,
                "claims": part.claim_count, "net": str(part.net),
            }))
            continue
        where = f"HELD: {planned.held_reason}" if planned.held else planned.destination
        print(f"{_label(part.source.identity, part.source.control_number)}  "
              f"{part.owner.label:<14} {planned.format:<4} "
              f"-> {where}  [{planned.idempotency_key[:12]}]")
    if not args.json:
        for adjustment in result.psao_adjustments:
            print(f"{adjustment.control_number}  PSAO own PLB {adjustment.provider_id} "
                  f"{adjustment.amount} ({adjustment.why}): kept by the PSAO, not delivered")
    return EXIT_OK


def _check_input(path: Path) -> bool:
    if path.is_file():
        return True
    print(f"gateway: {path} is not a file", file=sys.stderr)
    return False


def _policy(args: argparse.Namespace) -> tuple[PartPolicy, Psao | None]:
    psao = load_psao(args.psao) if args.psao else None
    if args.members:
        return RosterPolicy(load_roster(args.members), psao), psao
    return ProviderPolicy(psao), psao


def _split(
    path: Path, policy: PartPolicy, writer: PartWriter, numbers: ControlNumbers,
    psao: Psao | None,
) -> SplitResult:
    """Two passes, both through the one bar: the file's SHA-256, then the split."""
    sender = Party(psao.isa_qualifier, psao.isa_id, psao.gs_id) if psao else None
    with reading(path, f"splitting {path.name}", passes=2) as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()  # type: ignore[arg-type]
        stream.seek(0)
        return split_835(path, policy=policy, writer=writer, numbers=numbers, sender=sender,
                         sha256=digest, source=stream)


def _print_balance(result: SplitResult) -> None:
    """Per original transaction set: the parts' shares minus the PSAO's own PLBs = BPR02."""
    for totals in result.transaction_sets:  # by set identity: ST02s may repeat (issue 10)
        shares = sum((p.net for p in result.parts if p.source.identity == totals.identity),
                     Decimal(0))
        own = sum((a.amount for a in result.psao_adjustments if a.identity == totals.identity),
                  Decimal(0))
        verdict = "balances" if shares - own == totals.payment else "DOES NOT BALANCE"
        if not totals.balanced:
            verdict += " (the PBM's own transaction set does not balance: BPR02 != CLP04 - PLB)"
        print(f"{_label(totals.identity, totals.control_number)}  shares {shares} - PSAO PLBs "
              f"{own} = {shares - own}; "
              f"BPR02 {totals.payment}: {verdict}")


def _label(identity: SetIdentity | None, control_number: str) -> str:
    """ST02 as people know it, with where the set is when ST02 alone is ambiguous."""
    if identity is None:
        return control_number
    return f"{control_number} (interchange {identity.interchange}, set {identity.ordinal})"


def _set_key(identity: SetIdentity | None) -> str | None:
    """The manifest key of a set: its identity stem, unique in the file."""
    return identity.stem if identity is not None else None


def _manifest(result: SplitResult) -> dict[str, Any]:
    return {
        "file": result.file,
        "sha256": result.sha256,
        "parts": [
            {
                "transaction_set": p.source.control_number,
                "set": _set_key(p.source.identity),
                "interchange_control_number": p.source.identity.isa13 if p.source.identity
                else None,
                "group_control_number": p.source.identity.gs06 if p.source.identity else None,
                "source_segments": [p.source.first_segment, p.source.last_segment],
                "source_bytes": [p.source.start_offset, p.source.end_offset],
                "owner": p.owner.key, "pharmacy_id": p.owner.pharmacy_id, "npi": p.owner.npi,
                "held": p.owner.held_reason, "mode": p.mode, "claims": p.claim_count,
                "claims_paid": str(p.claims_paid), "adjustments": str(p.adjustments),
                "net": str(p.net), "payment": str(p.payment),
                "forward_balance": str(p.forward_balance) if p.forward_balance else None,
                "control_number": p.control_number, "location": p.location, "size": p.size,
            }
            for p in result.parts
        ],
        "psao_adjustments": [
            {"transaction_set": a.control_number, "set": _set_key(a.identity),
             "provider_id": a.provider_id,
             "reason": a.reason, "reference": a.reference, "amount": str(a.amount),
             "why": a.why}
            for a in result.psao_adjustments
        ],
    }
