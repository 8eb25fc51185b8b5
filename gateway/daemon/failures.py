"""Why a file failed, told so an operator can find it: the stage, the error, the place.

A stage that raises is a bug or a configuration the daemon cannot use (a typo in a site
mapping), never the partner's fault: the file ends ``failed`` (DESIGN.md, "every file in a
named state") and waits for a corrected configuration (SIGHUP) or ``gateway files retry``.
Its reason names the stage and the error; a gateway error says what, where and the fix, any
other exception the innermost frame of the gateway's own code that raised it
(``gateway/x12/split/splitter.py:120 in _scan``) — the place a developer looks first.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from gateway.errors import GatewayError

MAX_REASON = 500  # characters kept in files.error (a message can be long; the log has more)
_PACKAGE = Path(__file__).resolve().parents[1]


class StageFailed(Exception):
    """``cause`` raised inside ``stage`` (parse, route, acknowledge, record) of one file."""

    def __init__(self, stage: str, cause: Exception) -> None:
        super().__init__(f"{stage}: {type(cause).__name__}")
        self.stage = stage
        self.cause = cause

    @property
    def reason(self) -> str:
        return failure_reason(self.stage, self.cause)


def failure_reason(stage: str, error: Exception) -> str:
    """``<stage>: <Error>: <message> at <place>`` in at most :data:`MAX_REASON` characters."""
    if isinstance(error, GatewayError):
        return f"{stage}: {type(error).__name__}: {error}"[:MAX_REASON]
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    where = raised_at(error)
    text = f"{stage}: {type(error).__name__}" + (f": {message}" if message else "")
    return (text[:MAX_REASON - len(where) - 4] + (f" at {where}" if where else ""))


def raised_at(error: BaseException) -> str:
    """The innermost frame of the gateway's own code in the error's traceback, or ''."""
    found = ""
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(_PACKAGE):
            found = f"{path.relative_to(_PACKAGE.parent)}:{frame.lineno} in {frame.name}"
    return found
