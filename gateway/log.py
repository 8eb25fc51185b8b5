"""Logging set-up: structlog key-value events, JSON in the daemon, readable on a terminal.

Logs are an operations tool, not a copy of the data: they carry ids, counts, amounts and
hashes. The redaction processor is the safety net behind that rule: any event key that names
patient or member data is replaced, whatever the caller passed (HIPAA minimum necessary).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

# Keys whose values are PHI or claim contents. Matching is on the lower-cased key.
PHI_KEYS = frozenset(
    {
        "name",
        "patient",
        "patient_name",
        "first_name",
        "last_name",
        "cardholder_id",
        "member_id",
        "subscriber_id",
        "dob",
        "date_of_birth",
        "birth_date",
        "address",
        "phone",
        "segment",
        "segments",
        "content",
        "raw",
        "payload",
    }
)
REDACTED = "[redacted]"


def redact_phi(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: blank out every value whose key names PHI or claim contents."""
    for key in list(event):
        if key.lower() in PHI_KEYS:
            event[key] = REDACTED
    return event


def configure(
    *, json: bool | None = None, level: int = logging.INFO, file: TextIO | None = None
) -> None:
    """Configure structlog (and stdlib logging, for paramiko) once per process.

    ``json=None`` picks JSON unless the output is a terminal. ``file`` defaults to stderr.
    """
    out = file or sys.stderr
    if json is None:
        json = not out.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_phi,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=out, format="%(name)s %(message)s",
                        force=True)


def get_logger(**initial: Any) -> Any:
    """A bound structlog logger; pass ids (``partner=``, ``file_id=``) as initial context."""
    return structlog.get_logger().bind(**initial)
