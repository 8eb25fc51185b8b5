"""``gateway parse FILE``: read an X12 835 or NCPDP file and print canonical JSON or a summary.

The format is detected from the content (gateway.detect), never from the file name. Output is
streamed: ``json`` writes one array element per transaction set as it is read, ``jsonl`` one
remittance per line, ``summary`` one line per remittance with the numbers an operator checks
first (payee, claim count, sum of CLP04, sum of PLB, BPR02; for NCPDP the transaction code,
pharmacy, claim count and statuses). Every X12 format streams from ``iter_835``, claim by
claim, so a single-ST central-pay file of any size is printed in bounded memory (the JSON is
written as it is read: :class:`gateway.jsonable.RemittanceJson`).
``visible`` shows an NCPDP file's control characters as <FS>, <GS>, <RS>, <STX>, <ETX>.
With stderr on a terminal and stdout redirected, a bar on stderr shows the bytes read
(gateway.cli.progress). Invalid input stops with exit code 1 and one line on stderr naming
the defect, the segment and the byte offset.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, TextIO

from gateway.cli.codes import EXIT_OK, EXIT_USAGE
from gateway.cli.progress import reading
from gateway.detect import HEAD_SIZE, detect_format, printable_prefix
from gateway.errors import InputError, Location
from gateway.jsonable import RemittanceJson
from gateway.ncpdp import parse_file, render_visible, to_json
from gateway.render.summary import write_ncpdp_summary, write_summary
from gateway.x12.read.payment_keys import payment_keys, repeats
from gateway.x12.read.reader import iter_835

_VISIBLE_CHUNK = 1 << 20


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "parse",
        help="parse an X12 835 or NCPDP file into canonical JSON",
        description="Parse a remittance file (format detected from its content) and print "
        "the canonical documents. Exit 0 valid, 1 invalid input, 2 usage.",
    )
    parser.add_argument("file", type=Path, help="the file to read")
    parser.add_argument(
        "--format",
        choices=("json", "jsonl", "summary", "visible"),
        default="json",
        help="json: one array; jsonl: one document per line; summary: one line each; "
        "visible: NCPDP with control characters shown",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        print(f"gateway: {path}: no such file", file=sys.stderr)
        return EXIT_USAGE
    with path.open("rb") as peek:
        head = peek.read(HEAD_SIZE)
    kind = detect_format(head)
    if kind is None:
        seen = f"starts with {printable_prefix(head)}" if head.strip() else "is empty"
        raise InputError(
            f"not a recognised format: the file {seen}",
            code="unknown-format",
            where=Location(file=path.name, byte_offset=0),
            fix="the gateway reads X12 835 files (starting with ISA) and NCPDP batch files "
            "or D.0 transmissions; check the file",
        )
    passes = 2 if kind == "x12" and args.format == "summary" else 1  # + the payment keys
    with reading(path, f"reading {path.name}", passes=passes, streams_output=True) as stream:
        if args.format == "visible":
            _write_visible(stream, sys.stdout)
            return EXIT_OK
        if kind == "x12":
            _write_x12(stream, path.name, args.format, sys.stdout)
        else:
            _write_ncpdp(stream, args.format, sys.stdout)
    return EXIT_OK


def _write_x12(stream: BinaryIO, file_name: str, output: str, out: TextIO) -> None:
    """Every format streams claim by claim (a single-ST central pay is one huge set)."""
    if output == "summary":
        keys = payment_keys(stream, file=file_name, file_name=file_name)
        stream.seek(0)
        write_summary(iter_835(stream, file_name=file_name), out, repeats(keys))
    else:
        RemittanceJson(out, **X12_LAYOUTS[output]).write(iter_835(stream, file_name=file_name))


def _write_ncpdp(stream: BinaryIO, output: str, out: TextIO) -> None:
    documents = parse_file(stream)
    if output == "summary":
        write_ncpdp_summary(documents, out)
    else:
        WRITERS[output]((to_json(document) for document in documents), out)


def _write_visible(stream: BinaryIO, out: TextIO) -> None:
    """Control characters made visible, chunk by chunk (one byte is one character)."""
    while chunk := stream.read(_VISIBLE_CHUNK):
        out.write(render_visible(chunk))
    out.write("\n")


def write_json(items: Iterable[object], out: TextIO) -> None:
    """A JSON array, written element by element (never the whole list in memory)."""
    separator = "[\n"
    for item in items:
        out.write(separator)
        out.write(json.dumps(item))
        separator = ",\n"
    out.write("[]\n" if separator == "[\n" else "\n]\n")


def write_jsonl(items: Iterable[object], out: TextIO) -> None:
    """One JSON document per line."""
    for item in items:
        out.write(json.dumps(item))
        out.write("\n")


WRITERS = {"json": write_json, "jsonl": write_jsonl}
# The same two layouts for X12, whose remittances are written piece by piece.
X12_LAYOUTS = {
    "json": {"begin": "[\n", "between": ",\n", "end": "\n]\n", "empty": "[]\n"},
    "jsonl": {"begin": "", "between": "\n", "end": "\n", "empty": ""},
}


