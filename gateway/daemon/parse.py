"""Step 2 of the walk, parse: the format from the content, then the whole file read through.

An X12 file is read collecting every finding and, from the same tokenizer pass, every
envelope (so the acknowledgment names every defect of every set without a read of its own),
streaming item by item so even a single-ST central pay is read in bounded memory; an NCPDP
file is read strictly (its acknowledgments are not X12's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from gateway.detect import HEAD_SIZE, detect_format, printable_prefix
from gateway.errors import InputError, Location
from gateway.ncpdp.model import ClaimRequest, ClaimResponse
from gateway.ncpdp.reader import parse_file as read_ncpdp
from gateway.routing.read_sets import ReadSet, SetTallies
from gateway.store.models import ReceivedFile
from gateway.x12.read.reader import iter_835
from gateway.x12.read.received import EnvelopeReader, ReceivedInterchange
from gateway.x12.read.transaction import Item
from gateway.x12.syntax.findings import Finding
from gateway.x12.syntax.tokenizer import Segment

# Takes each item of an 835 as the parse stage reads it (gateway.reconcile.recorder's listener).
ItemSink = Callable[[Item], None]


@dataclass(frozen=True)
class Parsed:
    """What reading a whole file found: documents by kind and every finding (an X12 file is
    read collecting, so the acknowledgment can name every defect without a second read)."""

    documents: dict[str, int]
    findings: list[Finding]
    sets: tuple[ReadSet, ...] | None = None  # an 835's sets, for the conservation proof
    # An X12 file's envelopes as received_interchanges reads them, for the acknowledgment
    # (None for NCPDP: so the acknowledger knows the format without opening the payload).
    envelopes: tuple[ReceivedInterchange, ...] | None = None

    def refusal(self) -> InputError | None:
        """The first fatal finding as the error the file is quarantined for, if any."""
        fatal = next((f for f in self.findings if f.fatal), None)
        if fatal is None:
            return None
        return InputError(fatal.message, code=fatal.code, where=fatal.location)


def file_format(stream: BinaryIO, received: ReceivedFile) -> str:
    """The file's format from its first bytes (never its name); InputError when unknown."""
    head = stream.read(HEAD_SIZE)
    stream.seek(0)
    found = detect_format(head)
    if found is None:
        raise InputError(
            f"the file is neither X12 nor NCPDP (it starts {printable_prefix(head)})",
            code="unknown-format", where=Location(file=received.original_name, byte_offset=0),
            fix="ask the partner which format this is; X12 835 and NCPDP D.0/batch are read")
    return found


def parse_file(stream: BinaryIO, received: ReceivedFile,
               sinks: Sequence[ItemSink] = ()) -> Parsed:
    """Read the whole file: an X12 835 collecting its findings (one document per transaction
    set), an NCPDP file strictly (one per transmission; its acknowledgments are not X12's).

    Each item of an 835 also goes to every one of ``sinks`` (the claims ledger's, so the one
    read serves it too); a sink must not raise.
    """
    if file_format(stream, received) == "x12":
        findings: list[Finding] = []
        tallies = SetTallies(received.sha256)  # one tally per set: bounded memory
        envelopes = EnvelopeReader()
        keys, envelope = tallies.segment, envelopes.feed

        def tap(segment: Segment) -> None:  # envelope segments, BPR, TRN: a few per set
            keys(segment)
            envelope(segment)

        feed = tallies.feed
        for item in iter_835(stream, file_name=received.original_name, findings=findings,
                             tap=tap, end=envelopes.end):
            feed(item)
            for sink in sinks:
                sink(item)
        sets = tuple(tallies.read_sets(received.original_name)) if not any(
            f.fatal for f in findings) else None  # a refused file is never routed
        read = envelopes.interchanges
        return Parsed({"835": len(tallies.sets)}, findings, sets,
                      tuple(read) if read is not None else None)
    counts: dict[str, int] = {}
    for document in read_ncpdp(stream, strict=True):
        kind = ncpdp_kind(document)
        counts[kind] = counts.get(kind, 0) + 1
    return Parsed(counts, [])


def ncpdp_kind(document: ClaimRequest | ClaimResponse) -> str:
    return "ncpdp-request" if isinstance(document, ClaimRequest) else "ncpdp-response"
