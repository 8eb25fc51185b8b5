"""``gateway validate FILE``: check an X12 835 and optionally write its acknowledgment.

Structural checks (envelopes, counts, balancing — the streaming 835 reader in collect mode)
always run; ``--tr3`` adds the 005010X221A1 implementation guide (gateway.x12.tr3: pyx12's
maps compiled into tables, streaming, at the reader's speed). Every finding is one line on
stdout (on stderr when the acknowledgment itself goes to stdout):

    error   se-count  cp.835, segment 40 (SE): SE01 says 40 ...

With stderr on a terminal, a bar there shows the bytes read (every pass: the reader, the
payment keys, the guide), gateway.cli.progress.

Exit 0 when nothing fatal was found, 1 when the file is invalid, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from gateway.cli.codes import EXIT_INVALID, EXIT_OK
from gateway.cli.progress import reading
from gateway.errors import ConfigError, InputError
from gateway.x12.read.payment_keys import payment_keys, repeat_findings
from gateway.x12.read.received import read_envelopes
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.tr3 import Tr3Validator
from gateway.x12.write.ack import acknowledgments
from gateway.x12.write.control_numbers import MemoryControlNumbers


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "validate", help="check an X12 835 file; optionally write its 999 or TA1",
        description="Check an X12 835 (structure, counts, balancing; --tr3 adds the "
        "005010X221A1 implementation guide) and optionally write the acknowledgment.",
    )
    p.add_argument("file", type=Path, help="the X12 file to check")
    p.add_argument("--tr3", action="store_true",
                   help="also validate against the implementation guide (loops, usage, "
                   "repeats, element types, lengths and codes)")
    p.add_argument("--code-lists", type=Path, metavar="DIR",
                   help="CARC/RARC lists to check codes against (a directory like "
                   "gateway/x12/tr3/code_lists; default $GATEWAY_CODE_LISTS or the shipped ones)")
    p.add_argument("--ack", choices=("999", "ta1"), help="write this acknowledgment")
    p.add_argument("--out", "-o", type=Path,
                   help="where to write the acknowledgment (default stdout)")
    p.add_argument("--control-number", type=int, default=1,
                   help="first ISA13/GS06 of the acknowledgment (default 1)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise ConfigError(f"{path} is not a readable file", fix="give the path of an X12 file")
    validator = Tr3Validator(code_lists=args.code_lists) if args.tr3 else None
    with reading(path, f"checking {path.name}", passes=3 if validator else 2) as stream:
        findings = structural_findings(path, stream)
        if validator is not None:
            stream.seek(0)
            findings = validator.validate(stream, file_name=str(path), structural=findings)
    ack_to_stdout = args.ack is not None and args.out is None
    report = sys.stderr if ack_to_stdout else sys.stdout
    print_findings(findings, report)
    errors = sum(f.fatal for f in findings)
    verdict = "invalid" if errors else "valid"
    repeated = sum(f.code.startswith("duplicate-") for f in findings)
    if repeated:
        verdict += f", {repeated} duplicate interchange(s)/payment(s)"
    print(f"{path}: {verdict} ({errors} error(s), {len(findings) - errors} warning(s))",
          file=report)
    if args.ack:
        write_ack(path, args, findings)
    return EXIT_INVALID if errors else EXIT_OK


def structural_findings(path: Path, source: BinaryIO | None = None) -> list[Finding]:
    """Read every claim in collect mode: the reader's checks report instead of raising.

    The streaming reader keeps memory bounded by a claim, not by a (central-pay) set.
    ``source``: the file already open at offset 0 (the CLI's, which may advance a bar).
    """
    from gateway.x12.read.reader import iter_835

    findings: list[Finding] = []
    with nullcontext(source) if source is not None else open(path, "rb") as stream:
        try:
            for _ in iter_835(stream, file_name=str(path), findings=findings):
                pass
        except InputError as exc:  # a defect the reader cannot read past, even collecting
            findings.append(Finding(exc.code, exc.what, Level.INTERCHANGE, exc.location))
        stream.seek(0)  # repeated interchanges and payments (issue 10, item 6)
        findings += repeat_findings(payment_keys(stream, file=str(path), file_name=str(path)),
                                    str(path))
    return findings


def print_findings(findings: list[Finding], out: TextIO) -> None:
    for f in findings:
        level = "error" if f.fatal else "warning"
        where = str(f.location) or "-"
        if f.transaction_set and f.level in (Level.TRANSACTION, Level.SEGMENT):
            where += f" [set {f.transaction_set}]"
        print(f"{level:<7} {f.code:<24} {where}: {f.message}", file=out)


def write_ack(path: Path, args: argparse.Namespace, findings: list[Finding]) -> None:
    """Write the file's acknowledgment to --out or stdout: one 999 for all its groups (plus a
    TA1 for each interchange whose envelope is rejected), or one TA1 per interchange."""
    with open(path, "rb") as stream:
        interchanges = read_envelopes(stream)
    if not interchanges:
        raise InputError("no interchange (ISA) could be read, so there is nothing to "
                         "acknowledge", code="no-interchange", fix="check the file is X12")
    if args.ack == "999" and not any(i.groups for i in interchanges):
        raise InputError("the file has no functional group (GS) for a 999 to answer",
                         code="no-group", fix="send a TA1 instead (--ack ta1)")
    numbers = MemoryControlNumbers(first=args.control_number)
    answers = acknowledgments(interchanges, findings, args.ack, numbers=numbers,
                              destination="validate", key=str(path), now=datetime.now())
    if args.ack == "999" and any(a.kind == "ta1" for a in answers):
        print("note: an interchange envelope is rejected: its TA1 is written before the 999",
              file=sys.stderr)
    text = "".join(answer.text for answer in answers)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="ascii")
