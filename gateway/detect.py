"""Which standard a file is written in, decided from its first bytes — never from its name.

PBMs name files whatever they like (``.txt``, ``.dat``, ``.835``, no extension at all), so
the name proves nothing. The content does: an X12 interchange starts with ``ISA`` followed by
its element separator. A byte order mark or blank space before it is tolerated here (the
tokenizer reports it). NCPDP batch files start with STX and a ``00`` header record; a single
D.0 transmission has its first separator right after its fixed-length header. Detectors are
tried in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.ncpdp.reader import sniff as sniff_ncpdp

HEAD_SIZE = 128  # bytes read to decide
BOM = b"\xef\xbb\xbf"
# ISA, then a separator that is neither a letter, a digit nor blank. A file that starts with an
# 835's ST segment (an interchange whose envelope was lost) is X12 too: the reader then says
# precisely that the ISA is missing instead of "unknown format".
_X12 = re.compile(rb"ISA[^A-Za-z0-9\s]|(?:ST|GS)([^A-Za-z0-9\s])\d")


def looks_like_x12(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts like an X12 interchange."""
    return _X12.match(_strip_leading(head)) is not None


def looks_like_ncpdp_batch(head: bytes) -> bool:
    """True for an NCPDP Batch Standard file (STX, ``00`` header, transmission type)."""
    return sniff_ncpdp(head) == "ncpdp-batch"


def looks_like_ncpdp_transmission(head: bytes) -> bool:
    """True for a single NCPDP D.0 request or response transmission."""
    return sniff_ncpdp(head) == "ncpdp-transmission"


DETECTORS: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("x12", looks_like_x12),
    ("ncpdp-batch", looks_like_ncpdp_batch),
    ("ncpdp-transmission", looks_like_ncpdp_transmission),
)


def detect_format(head: bytes) -> str | None:
    """The format (``x12``, ``ncpdp-batch``, ``ncpdp-transmission``) ``head`` starts, or None."""
    for name, matches in DETECTORS:
        if matches(head):
            return name
    return None


def printable_prefix(head: bytes, limit: int = 16) -> str:
    """The first ``limit`` bytes, shown safely (non-printable bytes escaped). Short on purpose:
    enough to recognise a format, too short to carry patient data."""
    return repr(head[:limit])[1:]


def _strip_leading(head: bytes) -> bytes:
    return head.removeprefix(BOM).lstrip()
