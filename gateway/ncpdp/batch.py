"""NCPDP Batch Standard 1.1/1.2 (and 1.0) records, read as a stream.

A batch file is ``STX 00 header ETX``, then one ``STX G1 reference transmission ETX`` per
transmission, then ``STX 99 trailer ETX``. Some senders put CR/LF after each ETX; several
batches may follow one another in one file. :func:`iter_records` reads a binary stream in
blocks and yields one record at a time, so memory is bounded by the longest record, never the
file. Each record keeps its exact text and the CR/LF after it, so writing the records back
reproduces the file byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from gateway.errors import InputError, Location
from gateway.ncpdp import transmission as tm
from gateway.ncpdp.framing import ENCODING, ETX, GS, RS, STX

BLOCK_SIZE = 1 << 16
MAX_RECORD = 1 << 20  # a D.0 transmission is a few kB; a missing ETX must not eat the memory
HEADER_LENGTH = 73  # content between STX and ETX, batch 1.1/1.2 (1.0: 47, no receiver)
TRAILER_LENGTH = 54  # (1.0: 52)


@dataclass(frozen=True)
class Record:
    """Where a record sits: number from 1, file offset of its STX, CR/LF that followed it."""

    number: int
    offset: int
    trailing: str = ""


@dataclass(frozen=True)
class BatchHeader:
    """Record ``00``. Fields are as sent (space padding kept); ``raw`` is the exact content."""

    transmission_type: str  # 880-K6: T submission, R response, E error
    sender_id: str  # 880-K1, x(24)
    batch_number: str  # 806-5C, 9(7) (5 in batch 1.0)
    creation_date: str  # 880-K2 CCYYMMDD
    creation_time: str  # 880-K3 HHMM
    file_type: str  # 702: P production, T test
    version: str  # 102-A2: 12 / 11 (10 for 1.0)
    receiver_id: str  # 880-K7, x(24) (absent in 1.0)
    record: Record | None = None
    raw: str | None = None

    def content(self) -> str:
        """Text between STX and ETX: as sent, or built zero-filled/space-filled for writing."""
        if self.raw is not None:
            return self.raw
        return (
            "00"
            + self.transmission_type
            + self.sender_id.ljust(24)[:24]
            + _zero_fill(self.batch_number, 7)
            + self.creation_date
            + self.creation_time
            + self.file_type
            + self.version
            + self.receiver_id.ljust(24)[:24]
        )


@dataclass(frozen=True)
class BatchDetail:
    """Record ``G1``: the submitter's 880-K5 reference and one complete transmission.

    The transmission is kept as its text and split into segments only when asked for: a
    reader that routes or counts claims never pays for the fields it does not look at.
    """

    transaction_reference: str  # 880-K5 as sent (10 characters when well formed)
    text: str  # the transmission exactly as sent
    record: Record | None = None

    @classmethod
    def of(cls, reference: str, transmission: tm.Transmission) -> BatchDetail:
        """A detail record for writing: the reference is padded to its 10 characters."""
        return cls(reference.ljust(10)[:10], transmission.wire())

    @cached_property
    def transmission(self) -> tm.Transmission:
        return tm.parse(self.text, framed=False)

    def content(self) -> str:
        return "G1" + self.transaction_reference + self.text

    @property
    def transmission_offset(self) -> int:
        """File offset of the transmission's first byte (after STX, G1 and the reference)."""
        start = self.record.offset if self.record else 0
        return start + 3 + len(self.transaction_reference)


@dataclass(frozen=True)
class BatchTrailer:
    """Record ``99``: batch number, record count (header and trailer included), message."""

    batch_number: str  # 806-5C
    record_count: str  # 751, 9(10)
    message: str  # 504-F4, x(35)
    record: Record | None = None
    raw: str | None = None

    def content(self) -> str:
        if self.raw is not None:
            return self.raw
        return (
            "99"
            + _zero_fill(self.batch_number, 7)
            + _zero_fill(self.record_count, 10)
            + self.message.ljust(35)[:35]
        )


BatchItem = BatchHeader | BatchDetail | BatchTrailer


def _zero_fill(number: str, width: int) -> str:
    """Batch numbers are written right-justified and zero-filled (read either way)."""
    return number.strip().rjust(width, "0")


def same_number(a: str, b: str) -> bool:
    """Batch numbers compare as numbers: ``0001213`` equals ``1213   ``."""
    a, b = a.strip(), b.strip()
    return (int(a) == int(b)) if a.isdigit() and b.isdigit() else a == b


class ByteStream(Protocol):
    """All the batch reader needs of its input: ``read(n)``. An open file, or the reader's
    chain of a sniffed head and the rest of the file."""

    def read(self, size: int = -1, /) -> bytes: ...


def iter_records(
    stream: ByteStream, *, file: str | None = None, block_size: int = BLOCK_SIZE
) -> Iterator[tuple[Record, str]]:
    """Yield ``(Record, content between STX and ETX)`` one at a time, reading in blocks.

    Raises InputError for text outside STX...ETX (other than CR/LF between records), a record
    that is never closed (``truncated-record``) or longer than MAX_RECORD.
    """
    buffer = ""
    base = 0  # file offset of buffer[0]
    pos = 0
    number = 0
    eof = False

    def more() -> int | None:
        """Read a block, dropping what was consumed; return how far indices shifted (None: EOF)."""
        nonlocal buffer, base, pos, eof
        chunk = stream.read(block_size)
        if not chunk:
            eof = True
            return None
        shift = pos
        base += pos
        buffer = buffer[pos:] + chunk.decode(ENCODING)
        pos = 0
        return shift

    while True:
        if pos >= len(buffer) and more() is None:
            return
        if buffer[pos] != STX:
            where = Location(file=file, record_number=number + 1, byte_offset=base + pos)
            raise InputError(
                f"expected <STX> to start a batch record, found {buffer[pos]!r}",
                code="framing",
                where=where,
                fix="batch records are <STX>...<ETX>",
            )
        end = buffer.find(ETX, pos)
        while end < 0:
            if len(buffer) - pos > MAX_RECORD or more() is None:
                where = Location(file=file, record_number=number + 1, byte_offset=base + pos)
                what = (
                    "file ends inside a record (no <ETX>)"
                    if eof
                    else "record longer than 1 MiB without <ETX>"
                )
                raise InputError(
                    what,
                    code="truncated-record",
                    where=where,
                    fix="the file was cut short or is not a batch file; ask for it again",
                )
            end = buffer.find(ETX, pos)
        after = end + 1
        while True:  # CR/LF after ETX belongs to this record (kept for the round trip)
            while after < len(buffer) and buffer[after] in "\r\n":
                after += 1
            if after < len(buffer) or eof:
                break
            shift = more()
            if shift is None:
                break
            end, after = end - shift, after - shift
        number += 1
        record = Record(number, base + pos, buffer[end + 1 : after])
        yield record, buffer[pos + 1 : end]
        pos = after


def decode(record: Record, content: str, *, file: str | None = None) -> BatchItem:
    """One record's content to a header, detail or trailer (raw text kept)."""
    kind = content[:2]
    if kind == "00":
        if len(content) == 47:  # batch 1.0: 5-digit batch number, no receiver
            return BatchHeader(
                content[2],
                content[3:27],
                content[27:32],
                content[32:40],
                content[40:44],
                content[44],
                content[45:47],
                "",
                record,
                content,
            )
        _require(content, HEADER_LENGTH, record, file, "batch header")
        return BatchHeader(
            content[2],
            content[3:27],
            content[27:34],
            content[34:42],
            content[42:46],
            content[46],
            content[47:49],
            content[49:73],
            record,
            content,
        )
    if kind == "99":
        if len(content) == 52:
            return BatchTrailer(content[2:7], content[7:17], content[17:52], record, content)
        _require(content, TRAILER_LENGTH, record, file, "batch trailer")
        return BatchTrailer(content[2:9], content[9:19], content[19:54], record, content)
    if kind == "G1":
        reference_length = _reference_length(content)
        text = content[2 + reference_length :]
        return BatchDetail(content[2 : 2 + reference_length], text, record)
    where = Location(
        file=file, record_number=record.number, segment_id=kind, byte_offset=record.offset
    )
    raise InputError(
        f"unknown batch record type {kind!r}",
        code="record-type",
        where=where,
        fix="batch records are 00 (header), G1 (detail) or 99 (trailer)",
    )


def _require(content: str, length: int, record: Record, file: str | None, what: str) -> None:
    if len(content) < length:
        where = Location(
            file=file,
            record_number=record.number,
            segment_id=content[:2],
            byte_offset=record.offset,
        )
        raise InputError(
            f"{what} is {len(content)} characters, expected {length}",
            code="truncated-record",
            where=where,
            fix="the record was cut short; ask the sender to resend the file",
        )


def _reference_length(content: str) -> int:
    """Length of 880-K5: 10, unless the header that follows shows the sender used another width.

    The transmission header is fixed (56 request, 31 response) and ends at the first RS/GS,
    so a version (102-A2) found where that header would start tells the reference's width.
    """
    cut = len(content)
    for separator in (RS, GS):
        found = content.find(separator, 0, cut)
        if found >= 0:
            cut = found
    prefix = cut - 2
    if prefix in (10 + tm.REQUEST_HEADER_LENGTH, 10 + tm.RESPONSE_HEADER_LENGTH):
        return 10
    for header_length, version_at in (
        (tm.REQUEST_HEADER_LENGTH, 6),
        (tm.RESPONSE_HEADER_LENGTH, 0),
    ):
        start = cut - header_length
        if start >= 2 and content[start + version_at : start + version_at + 2] in tm.VERSIONS:
            return start - 2
    return min(10, max(prefix, 0))
