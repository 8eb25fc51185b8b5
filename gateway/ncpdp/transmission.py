"""One Telecommunication transmission as sent: fixed header, segments, transaction groups.

This is the *raw* layer every other view is built on. It keeps every character: the header
text as sent (whatever its length), each segment as the list of its FS-separated parts (so a
field the dictionary does not know, a repeated field, an empty field, or a segment code we have
never seen are all kept verbatim and in order), the text between a GS and its first RS, and an
optional STX/ETX around a real-time transmission. Writing it back is therefore byte-identical
by construction; the canonical business documents (``model.py``) are views over it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from gateway.ncpdp.framing import ENCODING, ETX, FS, GS, RS, STX

Kind = Literal["request", "response"]

REQUEST_HEADER_LENGTH = 56
RESPONSE_HEADER_LENGTH = 31

# (business name, offset, length) of the fixed headers; NCPDP field ids in the comments.
REQUEST_HEADER = (
    ("bin", 0, 6),  # 101-A1 BIN Number
    ("version", 6, 2),  # 102-A2 Version/Release Number
    ("transaction_code", 8, 2),  # 103-A3 Transaction Code
    ("pcn", 10, 10),  # 104-A4 Processor Control Number
    ("transaction_count", 20, 1),  # 109-A9 Transaction Count
    ("service_provider_id_qualifier", 21, 2),  # 202-B2
    ("service_provider_id", 23, 15),  # 201-B1
    ("date_of_service", 38, 8),  # 401-D1 CCYYMMDD
    ("software_vendor_id", 46, 10),  # 110-AK Software Vendor/Certification ID
)
RESPONSE_HEADER = (
    ("version", 0, 2),  # 102-A2
    ("transaction_code", 2, 2),  # 103-A3
    ("transaction_count", 4, 1),  # 109-A9
    ("header_response_status", 5, 1),  # 501-F1 A accepted / R rejected
    ("service_provider_id_qualifier", 6, 2),  # 202-B2
    ("service_provider_id", 8, 15),  # 201-B1
    ("date_of_service", 23, 8),  # 401-D1
)
VERSIONS = frozenset(
    {"D0", "51", "E0", "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "F2", "F6"}
)


class Segment(tuple[str, ...]):
    """One segment: the text after its RS split on FS, as an immutable tuple of strings.

    ``[0]`` is whatever stood between RS and the first FS (normally nothing), ``[1]`` the
    segment identification ``AM`` + code, ``[2:]`` the fields, each a 2-character id followed
    by its value. A tuple subclass rather than a dataclass because a 100,000-claim file makes
    half a million of them: building one is a single C call.
    """

    __slots__ = ()

    @classmethod
    def build(cls, code: str, fields: Iterable[tuple[str, str]]) -> Segment:
        """A well-formed segment from its code and ``(field id, wire value)`` pairs."""
        return cls(("", "AM" + code, *(fid + value for fid, value in fields)))

    @property
    def parts(self) -> tuple[str, ...]:
        return self

    @property
    def code(self) -> str:
        """The 111-AM segment code (``07``), or "" when the segment does not start with AM."""
        return self[1][2:] if len(self) > 1 and self[1][:2] == "AM" else ""

    def fields(self) -> Iterator[tuple[str, str]]:
        """``(field id, value)`` in wire order, repeats included."""
        for part in self[2:]:
            yield part[:2], part[2:]

    def get(self, field_id: str) -> str | None:
        """The first value of a field, or None when absent."""
        for part in self[2:]:
            if part[:2] == field_id:
                return part[2:]
        return None

    def wire(self) -> str:
        return RS + FS.join(self)


@dataclass(frozen=True, slots=True)
class Group:
    """One transaction (claim group): the segments after a GS; ``lead`` precedes the first RS."""

    segments: tuple[Segment, ...]
    lead: str = ""

    def segment(self, code: str) -> Segment | None:
        return next((s for s in self.segments if s.code == code), None)

    def wire(self) -> str:
        return GS + self.lead + "".join(s.wire() for s in self.segments)


@dataclass(frozen=True, slots=True)
class Transmission:
    """A request or response transmission, character for character."""

    kind: Kind
    header: str  # the fixed header as sent (56 request / 31 response characters when well formed)
    segments: tuple[Segment, ...]  # transmission-level segments (before the first GS)
    groups: tuple[Group, ...]  # one per transaction
    prefix: str = ""  # STX of an STX/ETX-framed real-time transmission
    suffix: str = ""  # its ETX

    @property
    def header_length(self) -> int:
        return REQUEST_HEADER_LENGTH if self.kind == "request" else RESPONSE_HEADER_LENGTH

    def header_fields(self) -> dict[str, str]:
        """The fixed header split by the layout of its kind (short headers give short values)."""
        layout = REQUEST_HEADER if self.kind == "request" else RESPONSE_HEADER
        return {name: self.header[start : start + length] for name, start, length in layout}

    @property
    def transaction_code(self) -> str:
        start = 8 if self.kind == "request" else 2
        return self.header[start : start + 2]

    def segment(self, code: str) -> Segment | None:
        """The first transmission-level segment with this code."""
        return next((s for s in self.segments if s.code == code), None)

    def wire(self) -> str:
        return (
            self.prefix
            + self.header
            + "".join(s.wire() for s in self.segments)
            + "".join(g.wire() for g in self.groups)
            + self.suffix
        )

    def to_bytes(self) -> bytes:
        return self.wire().encode(ENCODING)


def classify(header: str) -> Kind:
    """Request or response, from the header alone.

    The first separator sits at offset 56 in a request and 31 in a response; for a header of
    another length the version (102-A2) decides: at offset 6 in a request, 0 in a response.
    """
    if len(header) == REQUEST_HEADER_LENGTH:
        return "request"
    if len(header) == RESPONSE_HEADER_LENGTH:
        return "response"
    if header[6:8] in VERSIONS:
        return "request"
    if header[:2] in VERSIONS:
        return "response"
    return "request" if len(header) > 40 else "response"


def _header_end(text: str) -> int:
    """The fixed header ends where the first RS or GS begins (or at the end of the text)."""
    cut = len(text)
    for separator in (RS, GS):
        found = text.find(separator, 0, cut)
        if found >= 0:
            cut = found
    return cut


def kind_of(text: str) -> Kind:
    """Request or response, from a transmission's text (optionally STX-framed)."""
    start = 1 if text[:1] == STX else 0
    return classify(text[start : _header_end(text)])


def parse(text: str, *, framed: bool = True) -> Transmission:
    """Split a transmission into header, segments and groups; never loses a character.

    ``framed`` allows an STX before and an ETX after a single real-time transmission. The
    parse itself cannot fail: what is wrong is reported by ``checks.check_transmission``.
    """
    prefix = suffix = ""
    if framed:
        if text[:1] == STX:
            prefix, text = STX, text[1:]
        if text[-1:] == ETX:
            suffix, text = ETX, text[:-1]
    cut = _header_end(text)
    header = text[:cut]
    chunks = text[cut:].split(GS)
    segments = tuple([Segment(s.split(FS)) for s in chunks[0].split(RS)[1:]])
    groups = []
    for chunk in chunks[1:]:
        pieces = chunk.split(RS)
        groups.append(Group(tuple([Segment(s.split(FS)) for s in pieces[1:]]), pieces[0]))
    return Transmission(classify(header), header, segments, tuple(groups), prefix, suffix)


def field_offset(tx: Transmission, group: int | None, segment: int, part: int) -> int:
    """Character offset, from the start of ``tx.wire()``, of part ``part`` of a segment.

    ``group`` None means the transmission-level segments. Used only to place findings, so it
    walks the structure rather than storing offsets for every field.
    """
    offset = len(tx.prefix) + len(tx.header)
    if group is None:
        segments = tx.segments
    else:
        offset += sum(len(s.wire()) for s in tx.segments)
        offset += sum(len(g.wire()) for g in tx.groups[:group])
        offset += 1 + len(tx.groups[group].lead)
        segments = tx.groups[group].segments
    offset += sum(len(s.wire()) for s in segments[:segment])
    return offset + 1 + sum(len(p) + 1 for p in segments[segment][:part])
