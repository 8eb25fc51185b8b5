"""Interchange (ISA/IEA) and functional group (GS/GE) envelopes for the 835s the gateway writes.

The splitter re-envelopes each pharmacy's part as its own interchange: the PSAO is the sender,
the pharmacy the receiver, the control numbers are fresh for that destination, and the
delimiters are the original file's (a pharmacy system that read the PBM's files reads ours).
Dates and times are the original interchange's, so that writing the same part again gives the
same bytes — which is what makes a redone delivery an overwrite, not a new document.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gateway.errors import InputError, Location
from gateway.x12.syntax.delimiters import ISA_FIX, ISA_LENGTH, Delimiters, IsaError, isa_problems
from gateway.x12.syntax.delimiters import read_isa as read_delimiters


@dataclass(frozen=True)
class InterchangeHeader:
    """The parts of the original ISA/GS a re-enveloped part keeps or needs."""

    delimiters: Delimiters
    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06, stripped
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08, stripped
    date: str  # ISA09 YYMMDD
    time: str  # ISA10 HHMM
    version: str  # ISA12
    usage: str  # ISA15
    isa11: str = "^"  # the repetition separator, or the standards id (U) before 00402
    control_number: str = ""  # ISA13


def read_isa(head: bytes | str, file: str | None = None, offset: int = 0,
             number: int = 1) -> InterchangeHeader:
    """Delimiters and identities from the ISA at the start of ``head`` (the tokenizer's ISA
    rules, ``gateway.x12.syntax.delimiters``, decide the delimiters). An ISA whose
    delimiters or fixed fields are not ASCII is refused with its location, never a
    UnicodeError later."""
    where = Location(file=file, segment_number=number, segment_id="ISA", byte_offset=offset)
    text = head if isinstance(head, str) else head[: ISA_LENGTH + 50].decode("latin-1")
    try:
        found, length = read_delimiters(text)
    except IsaError as exc:
        raise InputError(
            exc.message, code=exc.code, where=where,
            fix="send the X12 interchange as received, starting with ISA",
        ) from None
    fields = text[:length].split(found.element)
    for code, element, message in isa_problems(text, found, length):
        raise InputError(message, code=code, where=Location(
            file=file, segment_number=number, segment_id="ISA", element=element,
            byte_offset=offset), fix=ISA_FIX)
    return InterchangeHeader(
        delimiters=found,
        sender_qualifier=fields[5],
        sender_id=fields[6].strip(),
        receiver_qualifier=fields[7],
        receiver_id=fields[8].strip(),
        date=fields[9],
        time=fields[10],
        version=fields[12],
        usage=fields[15],
        isa11=found.repetition or fields[11],
        control_number=fields[13],
    )


def isa_segment(delimiters: Delimiters, sender: tuple[str, str], receiver: tuple[str, str],
                date: str, time: str, isa11: str, version: str, control_number: int,
                usage: str) -> str:
    """The one ISA writer: fixed widths (ISA06/ISA08 padded to 15), ISA13 nine digits, no
    acknowledgment requested (ISA14 0). ``sender``/``receiver`` are (qualifier, id)."""
    return delimiters.element.join((
        "ISA", "00", " " * 10, "00", " " * 10,
        sender[0][:2].ljust(2), sender[1][:15].ljust(15),
        receiver[0][:2].ljust(2), receiver[1][:15].ljust(15),
        date, time, isa11, version, f"{control_number:09d}", "0", usage, delimiters.component,
    )) + delimiters.end


@dataclass(frozen=True)
class Party:
    """One side of an interchange: ISA05/06 (or 07/08) and GS02 (or GS03)."""

    qualifier: str
    isa_id: str
    gs_id: str


def interchange_start(
    original: InterchangeHeader,
    sender: Party,
    receiver: Party,
    control_number: int,
    group_version: str,
) -> bytes:
    """ISA and GS of a new interchange carrying one 835 group."""
    d = original.delimiters
    isa = isa_segment(d, (sender.qualifier, sender.isa_id), (receiver.qualifier, receiver.isa_id),
                      original.date, original.time, original.isa11, original.version,
                      control_number, original.usage).encode("latin-1")
    gs = d.segment_bytes(
        "GS", "HP", sender.gs_id, receiver.gs_id, _century(original.date), original.time,
        str(control_number), "X", group_version,
    )
    return isa + gs


def interchange_end(original: InterchangeHeader, control_number: int, sets: int = 1) -> bytes:
    """GE and IEA closing what :func:`interchange_start` opened."""
    d = original.delimiters
    return d.segment_bytes("GE", str(sets), str(control_number)) + d.segment_bytes(
        "IEA", "1", f"{control_number:09d}"
    )


def x12_amount(amount: Decimal) -> str:
    """A monetary amount as X12 type R: no exponent, no trailing zeros, no '+' (``-1589.4``)."""
    text = f"{amount.quantize(Decimal('0.01')):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _century(yymmdd: str) -> str:
    """GS04 is CCYYMMDD; ISA09 only YYMMDD (5010 interchanges are all after 2000)."""
    return "20" + yymmdd
