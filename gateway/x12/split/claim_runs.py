"""Reading the claims of a stretch of an 835 in bulk: count, CLP04 total, provider per claim.

The splitter needs three facts about claims: how many, their CLP04 sum, and which provider
each names (NM1*82, else the LX group's TS301). In a central-pay file the claims of an LX
group are nearly always one pharmacy's, so the common case is answered for the whole stretch
at once with ``findall`` (work done in C): every CLP04, every NM1*82 segment; when the stretch
names a single provider it becomes one :class:`ClaimRun`. Only a stretch that mixes providers
is walked claim by claim. Each distinct NM1*82 segment is parsed once (cached by its bytes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from gateway.errors import InputError, Location
from gateway.x12.split.parts import ProviderRef
from gateway.x12.syntax.delimiters import Delimiters


@dataclass
class ClaimRun:
    """Consecutive claims of one provider in one LX group: file bytes [start, end)."""

    ref: ProviderRef | None
    group: int | None
    start: int
    end: int
    segments: int
    claims: int
    paid: Decimal


class ClaimReader:
    """Compiled patterns for one file's delimiters, and the providers seen so far."""

    def __init__(self, delimiters: Delimiters, file: str | None) -> None:
        self.delimiters = delimiters
        self.file = file
        t = _in_class(delimiters.terminator_bytes)
        e = re.escape(delimiters.element_bytes)
        not_delimiter = rb"[^" + _in_class(delimiters.element_bytes) + t + rb"]*"
        after_break = rb"(?<![^" + t + rb"\r\n]"  # + what was matched + ")"
        clp = rb"CLP" + e
        nm1 = rb"NM1" + e + rb"82" + e
        self.claim_start = re.compile(after_break + rb")" + clp)
        # Every guarded CLP matches, with CLP04 captured when the segment has one ("" if not),
        # so the number of matches is the number of claims.
        self.clp04 = re.compile(
            clp + after_break + clp + rb")(?:" + (not_delimiter + e) * 3 + rb"("
            + not_delimiter + rb"))?"
        )
        self.nm1_82 = re.compile(nm1 + after_break + nm1 + rb")[^" + t + rb"]*")
        self.names: dict[ProviderRef, str] = {}  # NM1*82 NM103 by provider, first seen
        self._refs: dict[ProviderRef, ProviderRef] = {}
        self._by_segment: dict[bytes, ProviderRef | None] = {}

    def intern(self, ref: ProviderRef) -> ProviderRef:
        """One object per provider, so runs can compare providers with ``is``."""
        return self._refs.setdefault(ref, ref)

    def first_claim(self, data: bytes) -> int:
        """Offset of the first claim in ``data`` (``len(data)`` when there is none)."""
        match = self.claim_start.search(data)
        return match.start() if match else len(data)

    def read(
        self, data: bytes, start: int, offset: int, first_segment: int, segments: int,
        group: int | None, group_provider: ProviderRef | None,
    ) -> list[ClaimRun]:
        """The claims in ``data[start:]`` (whole claims, ``segments`` segments) as runs;
        ``offset`` is data's file offset and ``first_segment`` the number of its first segment.
        """
        values = self.clp04.findall(data, start)
        if not values:
            return []
        first = self.nm1_82.search(data, start)
        if first is None:
            ref = group_provider
        elif data.count(first.group(0) + self.delimiters.terminator_bytes, start) == len(values):
            ref = self._provider(first.group(0))  # every claim names this one provider
        else:
            return self._claim_by_claim(data, start, offset, first_segment, group,
                                        group_provider)
        texts = b" ".join(values).decode("latin-1").split()
        try:
            if len(texts) != len(values):
                raise InvalidOperation
            paid = sum(map(Decimal, texts), Decimal(0))
        except InvalidOperation:
            self._claim_by_claim(data, start, offset, first_segment, group, group_provider)
            raise AssertionError("a bad CLP04 must have raised") from None
        return [ClaimRun(ref, group, offset + start, offset + len(data), segments, len(values),
                         paid)]

    def _claim_by_claim(
        self, data: bytes, start: int, offset: int, first_segment: int, group: int | None,
        group_provider: ProviderRef | None,
    ) -> list[ClaimRun]:
        """The slow path: one claim at a time (mixed providers, or a bad CLP04 to locate)."""
        starts = [m.start() for m in self.claim_start.finditer(data, start)] + [len(data)]
        terminator = self.delimiters.terminator_bytes
        runs: list[ClaimRun] = []
        for begin, end in pairwise(starts):
            match = self.clp04.match(data, begin)
            text = (match.group(1) or b"").decode("latin-1") if match else ""
            try:
                paid = Decimal(text)
            except InvalidOperation:
                raise InputError(
                    f"CLP04 {text!r} is not an amount", code="bad-amount",
                    where=Location(file=self.file, segment_id="CLP", element="CLP04",
                                   segment_number=first_segment + data.count(terminator, 0, begin),
                                   byte_offset=offset + begin),
                    fix="ask the partner to correct the claim payment amount",
                ) from None
            found = self.nm1_82.search(data, begin, end)
            ref = self._provider(found.group(0)) if found else group_provider
            segments = data.count(terminator, begin, end)
            last = runs[-1] if runs else None
            if last is not None and last.ref is ref:
                last.end, last.segments = offset + end, last.segments + segments
                last.claims, last.paid = last.claims + 1, last.paid + paid
            else:
                runs.append(ClaimRun(ref, group, offset + begin, offset + end, segments, 1, paid))
        return runs

    def _provider(self, segment: bytes) -> ProviderRef | None:
        """The provider an NM1*82 segment names (NM108 qualifier, NM109 id), parsed once."""
        if segment in self._by_segment:
            return self._by_segment[segment]
        elements = segment.decode("latin-1").split(self.delimiters.element)
        identifier = elements[9] if len(elements) > 9 else ""
        ref = None
        if identifier:
            ref = self.intern(ProviderRef(elements[8], identifier))
            if elements[3]:
                self.names.setdefault(ref, elements[3])
        self._by_segment[segment] = ref
        return ref


def _in_class(delimiter: bytes) -> bytes:
    """A delimiter escaped for use inside a regular-expression character class."""
    return b"\\" + delimiter if delimiter in (b"\\", b"]", b"^", b"-") else delimiter
