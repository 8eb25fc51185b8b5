"""NCPDP Telecommunication vD.0 and Batch Standard 1.x: a lossless codec into canonical documents.

The four functions ``gateway parse`` needs, in one place:

* :func:`sniff` — which NCPDP shape a file starts with (from content, never the name);
* :func:`parse_file` — stream :class:`ClaimRequest` / :class:`ClaimResponse` documents;
* :func:`to_json` — a document as a JSON-ready dict (money and ids as strings, ISO dates);
* :func:`render_visible` — bytes with control characters shown as ``<FS>``, ``<GS>``...

Writing back: :mod:`gateway.ncpdp.writer` (bytes) and :mod:`gateway.ncpdp.compose`
(business parts to a transmission). Layers, bottom up: ``framing`` (separators),
``overpunch`` and ``fields`` (values, dictionary as data), ``transmission`` (raw, lossless),
``batch`` (records, streaming), ``values``/``part``/``request_parts``/``response_parts``/``model``
(business views), ``checks``, ``reader``.
"""

from gateway.ncpdp.framing import render_visible
from gateway.ncpdp.jsonview import to_json
from gateway.ncpdp.model import ClaimRequest, ClaimResponse, Document
from gateway.ncpdp.reader import parse_file, read_batch, sniff

__all__ = [
    "ClaimRequest",
    "ClaimResponse",
    "Document",
    "parse_file",
    "read_batch",
    "render_visible",
    "sniff",
    "to_json",
]
