"""Documents as JSON-ready dicts: money as strings, identifiers as strings, dates ISO.

Used by ``gateway parse`` and by anything that hands a document to a system that speaks JSON.
Decimal becomes its exact string (``"55.70"``), never a float; codes and ids stay strings
so leading zeros survive.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.ncpdp.model import ClaimRequest, Document


def to_json(document: Document) -> dict[str, Any]:
    """The business view of a document plus its source and findings."""
    base: dict[str, Any] = {
        "type": "ncpdp-claim-request"
        if isinstance(document, ClaimRequest)
        else "ncpdp-claim-response",
        "source": _plain(document.source),
        "header": _plain(document.header),
    }
    if isinstance(document, ClaimRequest):
        base["patient"] = _plain(document.patient)
        base["insurance"] = _plain(document.insurance)
    else:
        base["message"] = document.message
        base["patient"] = _plain(document.patient)
        base["insurance"] = _plain(document.insurance)
    base["transactions"] = [_plain(t) for t in document.transactions]
    base["findings"] = [
        {"code": f.code, "message": f.message, "fatal": f.fatal, "location": _plain(f.location)}
        for f in document.findings
    ]
    return base


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int)):
        return value  # int: counts, offsets, codes typed 9(n) in the dictionary
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot render {type(value).__name__} as JSON")
