"""Where the X12 checks send what they find: raise on the first fatal defect, or collect.

The tokenizer, the envelope checks and the 835 reader all find defects while streaming. Two
callers want different things: ``gateway parse`` and the router want to stop at the first fatal
defect with one precise error (strict mode), while ``gateway validate`` and the 999 writer want
every finding and as much of the file read as is safely possible (collect mode). One small
object decides, so the checks themselves never branch on the mode.
"""

from __future__ import annotations

from typing import Unpack

from gateway.errors import InputError, Location
from gateway.log import get_logger
from gateway.x12.syntax.findings import Finding, FindingDetails, Level


class Reporter:
    """Strict (``findings is None``: raise ``InputError``) or collecting (append a Finding).

    Non-fatal findings (warnings) never raise: in strict mode the first of each code is
    logged with its location only (no segment contents: they may hold PHI), so a file with a
    bad date on every claim gives one log line, not thousands.
    """

    def __init__(self, file_name: str | None = None, findings: list[Finding] | None = None):
        self.file_name = file_name
        self.findings = findings
        self.logged: set[str] = set()

    @property
    def strict(self) -> bool:
        return self.findings is None

    def report(
        self,
        code: str,
        message: str,
        *,
        level: Level,
        number: int | None,
        segment_id: str | None,
        offset: int | None,
        element: str | None = None,
        fix: str = "",
        fatal: bool = True,
        **details: Unpack[FindingDetails],
    ) -> None:
        """Record one defect; raise instead in strict mode when it is fatal."""
        location = Location(
            file=self.file_name,
            segment_number=number,
            segment_id=segment_id,
            element=element,
            byte_offset=offset,
        )
        if self.findings is None:
            if fatal:
                raise InputError(message, code=code, where=location, fix=fix)
            if code not in self.logged:
                self.logged.add(code)
                get_logger(component="x12").warning(
                    "x12_warning", code=code, file=self.file_name, segment_number=number
                )
            return
        text = f"{message}. {fix}" if fix else message
        self.findings.append(
            Finding(code=code, message=text, level=level, location=location, fatal=fatal, **details)
        )
