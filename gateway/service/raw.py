"""A file's raw bytes for a person: one segment per line, and the parsed (canonical) view.

Both carry claim-level content (patient names, member ids): the console shows them on a
file's page to operators and admins only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import BinaryIO

from gateway.detect import HEAD_SIZE, detect_format
from gateway.errors import GatewayError
from gateway.jsonable import to_jsonable
from gateway.ncpdp import parse_file as read_ncpdp
from gateway.ncpdp import render_visible, to_json
from gateway.store.models import ReceivedFile
from gateway.x12.read.reader import read_835
from gateway.x12.syntax.tokenizer import iter_segments

NCPDP_RAW_BYTES = 1 << 20  # an NCPDP file's page shows its first MiB


def raw_lines(stream: BinaryIO, *, offset: int, limit: int) -> tuple[list[str], bool]:
    """Lines ``offset``..``offset + limit`` of the file, one X12 segment (or NCPDP record and
    segment, control characters made visible) per line; and whether more follow."""
    head = stream.read(HEAD_SIZE)
    stream.seek(0)
    texts: Iterator[str]
    if detect_format(head) == "x12":
        segments = iter_segments(stream, findings=[])
        texts = (separator.join(elements) for _, _, elements, separator, _ in segments)
    else:
        texts = iter(render_visible(stream.read(NCPDP_RAW_BYTES)).splitlines())
    lines = list(islice(texts, offset, offset + limit + 1))
    return lines[:limit], len(lines) > limit


def parsed_view(stream: BinaryIO, received: ReceivedFile) -> str:
    """The canonical documents as indented JSON (what `gateway parse` prints), or the reason
    the file could not be read."""
    head = stream.read(HEAD_SIZE)
    stream.seek(0)
    try:
        if detect_format(head) == "x12":
            items = [to_jsonable(r) for r in read_835(stream, file_name=received.original_name)]
        else:
            items = [to_json(d) for d in read_ncpdp(stream, strict=False)]
    except GatewayError as exc:
        return f"not readable: {exc}"
    return json.dumps(items, indent=2, default=str)
