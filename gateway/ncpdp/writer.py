"""Writing NCPDP: documents and batch records back to wire bytes, and new ones from values.

A parsed document is written from the raw transmission it holds, so a round trip is
byte-identical, oddities included. New transmissions (the synthetic generator, replies) are
built from business values: fixed headers are padded to their layout and typed field values
are encoded through the field dictionary (overpunch, implied decimals, CCYYMMDD).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import BinaryIO, Literal

from gateway.ncpdp import batch
from gateway.ncpdp import transmission as tm
from gateway.ncpdp.fields import lookup
from gateway.ncpdp.framing import ENCODING, ETX, STX
from gateway.ncpdp.model import Document, RequestHeader, ResponseHeader
from gateway.ncpdp.values import Value as Value  # re-exported: the type callers build segments from


def write_document(document: Document) -> bytes:
    """The exact bytes of the transmission the document was read from (or built as)."""
    return document.text.encode(ENCODING)


def record_bytes(item: batch.BatchItem) -> bytes:
    """One batch record: STX, content, ETX, and the CR/LF that followed it when read."""
    trailing = item.record.trailing if item.record else ""
    return (STX + item.content() + ETX + trailing).encode(ENCODING)


def write_batch(items: Iterable[batch.BatchItem], out: BinaryIO) -> int:
    """Write records to ``out`` one at a time (streaming); returns the number of records."""
    count = 0
    for item in items:
        out.write(record_bytes(item))
        count += 1
    return count


def encode(field_id: str, value: Value) -> str:
    """Wire text of a typed value for a field (text as is when the dictionary does not know it)."""
    definition = lookup(field_id)
    if definition is None:
        return "" if value is None else str(value)
    return definition.format.encode(value)


def segment(code: str, values: Iterable[tuple[str, Value]]) -> tm.Segment:
    """A segment from ``(field id, typed value)`` pairs; None values are left out."""
    return tm.Segment.build(code, ((fid, encode(fid, v)) for fid, v in values if v is not None))


def header_text(h: RequestHeader | ResponseHeader) -> str:
    """The fixed header (56 characters for a request, 31 for a response), laid out by the
    same table the reader splits it with: text left-justified, space-filled, dates CCYYMMDD."""
    layout = tm.REQUEST_HEADER if isinstance(h, RequestHeader) else tm.RESPONSE_HEADER
    return "".join(_fixed(getattr(h, name), width) for name, _, width in layout)


def _fixed(value: str | date | None, width: int) -> str:
    text = value.strftime("%Y%m%d") if isinstance(value, date) else value or ""
    return text.ljust(width)[:width]


def transmission(
    header: RequestHeader | ResponseHeader,
    segments: Sequence[tm.Segment],
    groups: Sequence[Sequence[tm.Segment]],
) -> tm.Transmission:
    """A new transmission from its header, transmission-level segments and transaction groups."""
    kind: Literal["request", "response"] = (
        "request" if isinstance(header, RequestHeader) else "response"
    )
    return tm.Transmission(
        kind, header_text(header), tuple(segments), tuple(tm.Group(tuple(g)) for g in groups)
    )
