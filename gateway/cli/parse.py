"""``gateway parse FILE``: read a remittance file and print it as canonical JSON or a summary.

The format is detected from the content (gateway.detect), never from the file name. Output is
streamed: ``json`` writes one array element per transaction set as it is read, ``jsonl`` one
remittance per line, ``summary`` one line per remittance with the numbers an operator checks
first (payee, claim count, sum of CLP04, sum of PLB, BPR02). Invalid input stops with exit
code 1 and one line on stderr naming the defect, the segment and the byte offset.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from gateway.cli.codes import EXIT_OK, EXIT_USAGE
from gateway.detect import HEAD_SIZE, detect_format, printable_prefix
from gateway.errors import InputError, Location
from gateway.jsonable import to_jsonable
from gateway.model import Remittance
from gateway.x12.reader import read_835


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse an X12 835 file into canonical JSON",
        description="Parse a remittance file (format detected from its content) and print "
        "the canonical documents. Exit 0 valid, 1 invalid input, 2 usage.",
    )
    parser.add_argument("file", type=Path, help="the file to read")
    parser.add_argument(
        "--format",
        choices=("json", "jsonl", "summary"),
        default="json",
        help="json: one array; jsonl: one remittance per line; summary: one line each",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"gateway: {path}: no such file", file=sys.stderr)
        return EXIT_USAGE
    with path.open("rb") as stream:
        head = stream.read(HEAD_SIZE)
        if detect_format(head) != "x12":
            raise InputError(
                f"not a recognised format: the file starts with {printable_prefix(head)}",
                code="unknown-format",
                where=Location(file=path.name, byte_offset=0),
                fix="the gateway reads X12 835 files (starting with ISA); check the file",
            )
        stream.seek(0)
        remittances = read_835(stream, file_name=path.name)
        WRITERS[args.format](remittances, sys.stdout)
    return EXIT_OK


def write_json(remittances: Iterable[Remittance], out: TextIO) -> None:
    """A JSON array, written element by element (never the whole list in memory)."""
    separator = "[\n"
    for remittance in remittances:
        out.write(separator)
        out.write(json.dumps(to_jsonable(remittance)))
        separator = ",\n"
    out.write("[]\n" if separator == "[\n" else "\n]\n")


def write_jsonl(remittances: Iterable[Remittance], out: TextIO) -> None:
    for remittance in remittances:
        out.write(json.dumps(to_jsonable(remittance)))
        out.write("\n")


def write_summary(remittances: Iterable[Remittance], out: TextIO) -> None:
    """One line per remittance: ST02, payee ids, claim count, sum CLP04, sum PLB, BPR02."""
    for remittance in remittances:
        payee = remittance.payee
        out.write(
            f"st={remittance.control_number} payee_npi={payee.npi or '-'} "
            f"ncpdp={payee.ncpdp_id or '-'} tin={payee.tin or '-'} "
            f"claims={len(remittance.claims)} clp04_sum={remittance.total_claim_paid} "
            f"plb_sum={remittance.total_provider_adjustments} "
            f"bpr02={remittance.payment.amount}\n"
        )


WRITERS = {"json": write_json, "jsonl": write_jsonl, "summary": write_summary}
