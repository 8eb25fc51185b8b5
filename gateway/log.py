"""Logging set-up: structlog key-value events, JSON in the daemon, readable on a terminal.

Logs are an operations tool, not a copy of the data: they carry ids, counts, amounts and
hashes. The redaction processor is the safety net behind that rule: any event key that names
patient or member data is replaced, whatever the caller passed (HIPAA minimum necessary).
"""

from __future__ import annotations

import logging
import sys
import threading
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
    """Configure structlog, and route stdlib logging (paramiko, psycopg, warnings, a thread's
    uncaught exception) through the same processors, so every line is one JSON object.

    ``json=None`` picks JSON unless the output is a terminal. ``file`` defaults to stderr.
    Libraries speak at WARNING and above unless ``level`` is DEBUG: their INFO is chatter
    ("Connected (version 2.0 ...)") that an operator did not ask for.
    """
    out = file or sys.stderr
    if json is None:
        json = not out.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_phi,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
    logging.captureWarnings(True)
    threading.excepthook = _log_thread_crash


def _log_thread_crash(crash: threading.ExceptHookArgs) -> None:
    """A thread's uncaught exception (a bug) as one log event, not a bare traceback."""
    thread = crash.thread.name if crash.thread else None
    exc_info = (crash.exc_type, crash.exc_value, crash.exc_traceback)
    structlog.get_logger().error("thread crashed", thread=thread, exc_info=exc_info)


def get_logger(**initial: Any) -> Any:
    """A bound structlog logger; pass ids (``partner=``, ``file_id=``) as initial context."""
    return structlog.get_logger().bind(**initial)
