"""The bytes the scanner has read, kept as text by file offset, so that runs match the file.

A run (runs.py) is one regular expression over the text of many segments. The scanner hands
out segments already split into elements; joining them back into text cost more than the
validation itself. So the validator gives the scanner this stream instead of the source: it
passes every ``read`` through unchanged and keeps the last blocks read, decoded as the
scanner decodes them (latin-1: one character per byte, offsets equal). The scanner stays the
one authority on where segments are: a run starts at the offset the scanner reported for a
segment and the validator then takes from the scanner exactly the segments the run covered.

Memory stays bounded: only the last ``KEEP`` characters are kept (a run that would start
before them simply is not tried; the segment-by-segment path takes over).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import BinaryIO

Matcher = Callable[[str, int, int], "re.Match[str] | None"]

KEEP = 1 << 21  # characters kept: the scanner's unread rest and its latest 1 MiB block
WINDOW = 1 << 16  # characters a run pattern is matched over at a time


class RawView:
    """A read-through wrapper of a binary stream that remembers the latest text read."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.text = ""
        self.base = 0  # file offset of text[0]

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if data:
            text = self.text + data.decode("latin-1")
            drop = max(0, len(text) - KEEP)
            self.text, self.base = text[drop:], self.base + drop
        return data

    def run(self, match: Matcher, offset: int, end: str) -> int:
        """How many segments (each followed by ``end``) a run pattern's ``match`` covers from
        file ``offset``: 0 when it matches nothing or that text is no longer kept.

        The pattern is matched a window at a time: a run stops at the last whole iteration
        inside the window and goes on from there, so an attempt that fails (a loop whose next
        iteration is not there: the last claim of a set) never reads more than a window.
        """
        text = self.text
        at = offset - self.base
        if not 0 <= at <= len(text):
            return 0
        covered = 0
        while (taken := match(text, at, at + WINDOW)) is not None:
            covered += text.count(end, at, taken.end())
            at = taken.end()
        return covered
