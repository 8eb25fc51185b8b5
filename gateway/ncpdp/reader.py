"""Reading NCPDP files: detect the format from content, then stream documents out of it.

Two shapes exist on disk: a Batch Standard file (STX ``00`` header, ``G1`` details, ``99``
trailer, possibly several batches back to back) and a bare real-time transmission (optionally
wrapped in STX/ETX). :func:`parse_file` handles both and yields one
:class:`~gateway.ncpdp.model.ClaimRequest` or :class:`~gateway.ncpdp.model.ClaimResponse` per
transmission, with the defects found attached as findings. Batch-structure defects (record
count, batch number, a missing trailer, a truncated record) raise an InputError when they are
met: the whole file is then not to be trusted and belongs in quarantine.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import BinaryIO, Literal

from gateway.errors import InputError, Location
from gateway.ncpdp import batch, checks
from gateway.ncpdp import transmission as tm
from gateway.ncpdp.framing import ENCODING, ETX, GS, RS, STX
from gateway.ncpdp.model import ClaimRequest, ClaimResponse, Document, Source

Format = Literal["ncpdp-batch", "ncpdp-transmission"]
SNIFF_BYTES = 128


def sniff(head: bytes) -> Format | None:
    """Which NCPDP shape ``head`` (the first ~128 bytes of a file) starts, or None.

    A batch starts ``STX 00`` and a transmission type (T/R/E). A transmission's first
    separator sits right after its fixed header: offset 56 (request) or 31 (response).
    """
    text = head.decode(ENCODING)
    if text[:3] == STX + "00" and text[3:4] in ("T", "R", "E"):
        return "ncpdp-batch"
    if text[:1] == STX:
        text = text[1:]
    cut = min((i for i in (text.find(RS), text.find(GS)) if i >= 0), default=-1)
    if cut < 0:  # a header alone (a response rejected at transmission level), maybe + ETX
        cut = len(text.rstrip("\r\n").removesuffix(ETX))
    if cut == tm.REQUEST_HEADER_LENGTH and text[6:8] in tm.VERSIONS:
        return "ncpdp-transmission"
    if cut == tm.RESPONSE_HEADER_LENGTH and text[:2] in tm.VERSIONS:
        return "ncpdp-transmission"
    return None


def parse_file(
    source: str | os.PathLike[str] | BinaryIO, *, strict: bool = False
) -> Iterator[Document]:
    """Stream the documents of an NCPDP file (path or binary stream), in file order.

    ``strict`` raises the first fatal document finding as an InputError instead of attaching
    it (the corrupt-sample case: a tolerant run flags it and carries on).
    """
    with ExitStack() as stack:
        if isinstance(source, (str, os.PathLike)):
            name: str | None = os.fspath(source)
            stream: BinaryIO = stack.enter_context(open(source, "rb"))
        else:
            name, stream = getattr(source, "name", None), source
            name = name if isinstance(name, str) else None
        head = stream.read(SNIFF_BYTES)
        shape = sniff(head)
        if shape is None:
            raise InputError(
                "not an NCPDP batch file or D.0 transmission",
                code="format",
                where=Location(file=name, byte_offset=0),
                fix="check that the file is NCPDP (batch 1.x or Telecommunication D.0)",
            )
        rest = _Chain(head, stream)
        if shape == "ncpdp-batch":
            yield from _documents(rest, name, strict)
        else:
            yield _single(rest, name, strict)


def read_batch(
    stream: batch.ByteStream, *, file: str | None = None
) -> Iterator[batch.BatchItem]:
    """Every record of a batch file as header/detail/trailer items, checking the envelope.

    Raises InputError at a trailer whose batch number or record count disagrees with what was
    read, at a detail outside a header/trailer pair, and at end of file without a trailer.
    """
    header: batch.BatchHeader | None = None
    count = 0
    for record, content in batch.iter_records(stream, file=file):
        item = batch.decode(record, content, file=file)
        where = Location(
            file=file,
            record_number=record.number,
            segment_id=content[:2],
            byte_offset=record.offset,
        )
        if isinstance(item, batch.BatchHeader):
            if header is not None:
                raise checks.Finding(
                    "missing-trailer", "a new batch header before the trailer of the last", where
                ).to_error()
            header, count = item, 1
        elif header is None:
            raise InputError(
                f"record {content[:2]!r} before any batch header",
                code="missing-header",
                where=where,
                fix="a batch file starts with a 00 header record",
            )
        else:
            count += 1
        if isinstance(item, batch.BatchTrailer):
            _check_trailer(header, item, count, where)
            header = None
        yield item
    if header is not None:
        where = Location(file=file, record_number=count + 1)
        raise checks.Finding(
            "missing-trailer", "file ends without a 99 batch trailer", where
        ).to_error()


def _check_trailer(
    header: batch.BatchHeader, trailer: batch.BatchTrailer, count: int, where: Location
) -> None:
    if not batch.same_number(header.batch_number, trailer.batch_number):
        raise checks.Finding(
            "batch-number",
            f"trailer batch number {trailer.batch_number!r} differs from "
            f"header {header.batch_number!r}",
            where,
        ).to_error()
    stated = trailer.record_count.strip()
    if not stated.isdigit() or int(stated) != count:
        raise checks.Finding(
            "record-count",
            f"trailer record count {stated!r} but the batch has {count} "
            "records (header and trailer included)",
            where,
        ).to_error()


def _documents(stream: batch.ByteStream, name: str | None, strict: bool) -> Iterator[Document]:
    header: batch.BatchHeader | None = None
    for item in read_batch(stream, file=name):
        if isinstance(item, batch.BatchHeader):
            header = item
        elif isinstance(item, batch.BatchDetail):
            record = item.record
            source = Source(
                file=name,
                record_number=record.number if record else None,
                byte_offset=item.transmission_offset,
                transaction_reference=item.transaction_reference,
                batch_number=header.batch_number if header else None,
                sender_id=header.sender_id.rstrip() if header else None,
                receiver_id=header.receiver_id.rstrip() if header else None,
            )
            findings = tuple(_reference_findings(item, name))
            yield _document(item.text, source, findings, strict)


def _reference_findings(item: batch.BatchDetail, name: str | None) -> Iterator[checks.Finding]:
    if len(item.transaction_reference) != 10 and item.record:
        where = Location(
            file=name,
            record_number=item.record.number,
            segment_id="G1",
            field_id="K5",
            byte_offset=item.record.offset + 3,
        )
        yield checks.Finding(
            "reference-length",
            f"880-K5 transaction reference is "
            f"{len(item.transaction_reference)} characters, expected 10",
            where,
            fatal=False,
        )


def _single(stream: batch.ByteStream, name: str | None, strict: bool) -> Document:
    data = stream.read(batch.MAX_RECORD + 1)
    if len(data) > batch.MAX_RECORD:
        raise InputError(
            "a single transmission larger than 1 MiB",
            code="too-large",
            where=Location(file=name),
            fix="a D.0 transmission is a few kB; check the file",
        )
    text = data.decode(ENCODING)
    trailing = len(text) - len(text.rstrip("\r\n"))
    body = text[: len(text) - trailing]
    if body[:1] == STX and body[-1:] != ETX:
        raise InputError(
            "transmission starts with <STX> but has no <ETX>",
            code="truncated-record",
            where=Location(file=name, byte_offset=len(data)),
            fix="ask the sender to resend it",
        )
    return _document(body, Source(file=name), (), strict)


def _document(
    text: str, source: Source, findings: tuple[checks.Finding, ...], strict: bool
) -> Document:
    kind = ClaimRequest if tm.kind_of(text) == "request" else ClaimResponse
    document = kind(text, source, findings)
    if strict:
        for finding in document.findings:
            if finding.fatal:
                raise finding.to_error()
    return document


class _Chain(io.RawIOBase):
    """The sniffed head followed by the rest of the stream, as one readable stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return (
                head if size < 0 or len(head) >= size else head + self._rest.read(size - len(head))
            )
        return self._rest.read(size)
