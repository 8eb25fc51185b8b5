"""``validation = "tr3"`` in the daemon: a partner's 835s are checked against the
005010X221A1 guide as well as for structure (issue 10, defect 14).

The guide's checks run in the parse stage, only for the partners that ask for them, after the
structural read and before routing: the TR3 validator streams the stored file (memory bounded
by its block of segments, never the file), so a partner on ``structure`` pays nothing and a
central pay is not held in memory. Its findings join the structural ones, so they reach the
999 (IK3/IK4/IK5) and, through the pipeline's ``findings`` event and a fatal finding's
quarantine reason, the operator.

The validator compiles the guide once, on the first file that needs it, and is reused (the
pipeline runs on one thread).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import BinaryIO

from gateway.daemon.parse import ItemSink, Parsed, parse_file
from gateway.log import get_logger
from gateway.store.models import ReceivedFile
from gateway.x12.tr3 import Tr3Validator


class Tr3Parse:
    """The parse stage: structure for every file, the guide too for ``tr3_partners``."""

    def __init__(self, tr3_partners: Collection[str]) -> None:
        self.tr3_partners = frozenset(tr3_partners)
        self._validator: Tr3Validator | None = None
        self.log = get_logger(component="tr3")

    def __call__(self, stream: BinaryIO, received: ReceivedFile,
                 sinks: Sequence[ItemSink] = ()) -> Parsed:
        parsed = parse_file(stream, received, sinks)
        if received.partner not in self.tr3_partners or "835" not in parsed.documents:
            return parsed
        stream.seek(0)
        findings = self.validator.validate(stream, file_name=received.original_name,
                                           structural=parsed.findings)
        added = findings[len(parsed.findings):]
        self.log.info("tr3 validated", partner=received.partner, file_id=received.id,
                      errors=sum(f.fatal for f in added), warnings=sum(not f.fatal for f in added),
                      codes=sorted({f.code for f in added})[:10])
        return dataclasses.replace(parsed, findings=findings)  # envelopes, sets: the same

    @property
    def validator(self) -> Tr3Validator:
        if self._validator is None:
            self._validator = Tr3Validator()
        return self._validator
