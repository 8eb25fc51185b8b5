"""Errors a user can meet.

Every error here carries three things an operator needs: *what* is wrong, *where* (file,
segment or record, field, byte offset) and *what to do*. A traceback means a bug in the
gateway; one of these means a problem with input, configuration or a partner.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where in an input something was found. Unknown parts stay None.

    ``segment_number`` counts segments from 1 within the file (X12); ``record_number`` counts
    batch records from 1 (NCPDP). ``byte_offset`` is from the start of the file.
    """

    file: str | None = None
    segment_number: int | None = None
    segment_id: str | None = None
    element: str | None = None
    record_number: int | None = None
    field_id: str | None = None
    byte_offset: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.record_number is not None:
            parts.append(f"record {self.record_number}")
        if self.segment_number is not None:
            seg = f"segment {self.segment_number}"
            if self.segment_id:
                seg += f" ({self.segment_id})"
            parts.append(seg)
        elif self.segment_id:
            parts.append(f"segment {self.segment_id}")
        if self.element:
            parts.append(f"element {self.element}")
        if self.field_id:
            parts.append(f"field {self.field_id}")
        if self.byte_offset is not None:
            parts.append(f"byte {self.byte_offset}")
        return ", ".join(parts)


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    def __init__(self, what: str, *, where: str | Location | None = None, fix: str = "") -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.where) if self.where else ""
        text = f"{where}: {self.what}" if where else self.what
        return f"{text}. {self.fix}" if self.fix else text


class InputError(GatewayError):
    """An input file is malformed or does not follow its standard.

    ``code`` is a short stable name for the defect (``se-count``, ``unbalanced``, ...) so that
    tests, acknowledgments and metrics can tell defects apart without parsing prose.
    """

    def __init__(
        self,
        what: str,
        *,
        code: str,
        where: Location | None = None,
        fix: str = "",
    ) -> None:
        self.code = code
        self.location = where or Location()
        super().__init__(what, where=self.location, fix=fix)


class ConfigError(GatewayError):
    """Configuration (TOML, CSV) is invalid: the message names file, line, key and the fix."""


class StoreError(GatewayError):
    """The message store refused an operation (a stale lease, an unknown id, ...)."""


class StoreUnavailable(StoreError):
    """The store's database could not be reached or could not do the work (server down,
    connection lost, locked past the busy timeout, disk full). An expected outage, not a bug:
    the daemon logs it once and waits with backoff until the store answers again."""


class TransportError(GatewayError):
    """A transfer to or from a partner failed.

    ``permanent`` errors (host key, authentication, permission) are not retried: retrying
    cannot help and may lock an account. Transient ones (reset, EOF, timeout) are.
    """

    def __init__(
        self, what: str, *, permanent: bool, where: str | None = None, fix: str = ""
    ) -> None:
        self.permanent = permanent
        super().__init__(what, where=where, fix=fix)
