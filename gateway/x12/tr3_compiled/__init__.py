"""TR3 (implementation guide) validation compiled from pyx12's maps: see validator.py."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO, TextIO

from gateway.x12.findings import Finding
from gateway.x12.tokenizer import iter_segments
from gateway.x12.tr3_compiled.reporting import Reporting
from gateway.x12.tr3_compiled.tables import MapDirectory
from gateway.x12.tr3_compiled.validator import Engine, Run

DEFAULT_LIMIT = 10_000


class Tr3Validator:
    """Validates X12 files against the TR3 guides; reuse one: guides compile once each."""

    def __init__(self, maps: MapDirectory | None = None, *, limit: int = DEFAULT_LIMIT) -> None:
        self.engine = Engine(maps or MapDirectory())
        self.limit = limit

    def validate(self, source: str | Path | BinaryIO | TextIO, *, file_name: str | None = None,
                 structural: list[Finding] | None = None) -> list[Finding]:
        """The findings of ``source``: ``structural`` ones first, then the guide's."""
        findings = list(structural or ())
        name = file_name or (str(source) if isinstance(source, str | Path) else None)
        scanner: list[Finding] = []
        with _binary(source) as stream:
            run = Run(self.engine, Reporting(name, findings, self.limit + len(findings)))
            run.run(iter_segments(stream, file_name=name, findings=scanner))
        if structural is None:
            findings[:0] = scanner
        return findings


class _binary:
    """The source as a binary stream (a path is opened and closed; text is re-encoded)."""

    def __init__(self, source: str | Path | BinaryIO | TextIO) -> None:
        self.source = source
        self.opened: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if isinstance(self.source, str | Path):
            self.opened = open(self.source, "rb")
            return self.opened
        if isinstance(self.source, io.TextIOBase):
            return io.BytesIO(self.source.read().encode("latin-1"))
        return self.source  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        if self.opened is not None:
            self.opened.close()


def validate_tr3(source: str | Path | BinaryIO | TextIO, *, file_name: str | None = None,
                 structural: list[Finding] | None = None) -> list[Finding]:
    """One-shot :meth:`Tr3Validator.validate`."""
    return Tr3Validator().validate(source, file_name=file_name, structural=structural)
