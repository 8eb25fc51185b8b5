"""Conservation, enforced at run time: no claim and no cent of a file is lost in routing.

After a file is split and its deliveries planned, and before any of them is queued, the
route stage proves per transaction set that what leaves equals what the reader read (issue
10, Build 3): claims and money over the delivered parts + the held parts + the PSAO's
retained part (its own PLBs) equal the set's claim count, ΣCLP04, ΣPLB and BPR02.

The parts' side is not taken from the splitter's word: each part's payload — the bytes a
pharmacy would get — is read back (segment by segment). A part counts only once, and only if
it got its own delivery: two parts under one idempotency key (the queue keeps the first, the
other is silently never sent) or a part with no delivery at all break the proof. So does a
set the splitter never cut (an interchange it did not see) or a part of no set the reader
read. A split part's BPR02 is its share when positive; a negative share is written as BPR02
0 plus a PLB FB carrying it forward, which the proof counts back as the share.

A failed proof raises :class:`ConservationError`, an :class:`~gateway.errors.InputError`
(code ``conservation``) located at the set's ST: the pipeline quarantines the file with the
reason, the quarantine metric and alert follow, and the acknowledgment rejects the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from gateway.errors import InputError, Location
from gateway.routing.read_sets import ReadSet, Tally
from gateway.x12.split.parts import PsaoAdjustment, SplitPart
from gateway.x12.syntax.tokenizer import iter_segments

CODE = "conservation"
# Opens a stored payload by its SHA-256 (MessageStore.open_payload).
OpenPayload = Callable[[str], AbstractContextManager[BinaryIO]]


class ConservationError(InputError):
    """The parts of a file do not account for what the reader read of it."""

    def __init__(self, what: str, where: Location) -> None:
        super().__init__(what, code=CODE, where=where,
                         fix="nothing of the file was queued; report it as a gateway defect "
                             "with `gateway trace F<id>`, the original is kept unchanged")


@dataclass(frozen=True)
class QueuedPart:
    """A part as the router is about to queue it: its payload and the delivery keys of it."""

    part: SplitPart
    payload_sha256: str
    keys: tuple[str, ...]  # idempotency keys of its deliveries (every format)


def prove(read: Sequence[ReadSet], queued: Sequence[QueuedPart],
          psao: Iterable[PsaoAdjustment], open_payload: OpenPayload,
          file_name: str | None) -> list[Tally]:
    """Prove every set conserved; return the parts' tally per set (the reader's order).
    Raises ConservationError naming the first set that is not."""
    by_offset = {r.start_offset: n for n, r in enumerate(read)}
    out = [Tally() for _ in read]
    seen_keys: set[str] = set()
    for q in queued:
        n = by_offset.get(q.part.source.start_offset)
        if n is None:
            raise ConservationError(
                f"a part for {q.part.owner.label} comes from bytes "
                f"{q.part.source.start_offset}-{q.part.source.end_offset}, where the reader "
                "read no transaction set", Location(file=file_name,
                                                    byte_offset=q.part.source.start_offset))
        collisions = [k for k in q.keys if k in seen_keys]
        if not q.keys or collisions:
            why = "has no delivery" if not q.keys else "shares its delivery key with another"
            raise ConservationError(f"{read[n].describe()}: the part for {q.part.owner.label} "
                                    f"{why}: it would never be sent", _at(read[n], file_name))
        seen_keys.update(q.keys)
        out[n].add(part_tally(q, open_payload))
    for adjustment in psao:
        n = by_offset.get(adjustment.set_start)
        if n is None:
            raise ConservationError(f"a PSAO adjustment (PLB01 {adjustment.provider_id}) "
                                    "belongs to no set the reader read",
                                    Location(file=file_name))
        out[n].plb += adjustment.amount
        out[n].payment -= adjustment.amount
    for n, (mine, theirs) in enumerate(zip(read, out, strict=True)):
        differences = mine.tally.differences(theirs)
        if differences:
            raise ConservationError(
                f"{mine.describe()} is not conserved: the reader read {mine.tally}, the "
                f"delivered, held and PSAO parts carry {theirs} ({'; '.join(differences)})",
                _at(read[n], file_name))
    return out


def part_tally(queued: QueuedPart, open_payload: OpenPayload) -> Tally:
    """Read a part's payload back, segment by segment (it is the gateway's own output, one
    set in one interchange: the tokenizer is enough, and five times faster than the reader):
    its claims, ΣCLP04, ΣPLB and BPR02, with a carried-forward negative share (the PLB FB the
    splitter writes last) counted as the share it is."""
    tally = Tally()
    plbs: list[tuple[str, Decimal]] = []  # (reason, amount), in order
    component = ":"
    with open_payload(queued.payload_sha256) as stream:
        for _, _, elements, _, _ in iter_segments(stream, findings=[]):
            kind = elements[0]
            if kind == "ISA" and len(elements) > 16:
                component = elements[16] or component
            elif kind == "BPR":
                tally.payment += _amount(elements, 2)
            elif kind == "CLP":
                tally.claims += 1
                tally.paid += _amount(elements, 4)
            elif kind == "PLB":
                for at in range(3, len(elements) - 1, 2):
                    plbs.append((elements[at].split(component)[0], _amount(elements, at + 1)))
    forward = queued.part.forward_balance
    if forward is not None and plbs and plbs[-1] == ("FB", forward):
        plbs.pop()  # BPR02 0 + the share carried forward
        tally.payment += forward
    tally.plb += sum((amount for _, amount in plbs), Decimal(0))
    return tally


def _amount(elements: list[str], index: int) -> Decimal:
    """An amount of the part; a part the gateway wrote with a bad amount is a gateway bug."""
    text = elements[index] if index < len(elements) else ""
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        raise ValueError(f"{elements[0]}{index:02d} {text!r} of a part is not an amount") from None


def _at(read: ReadSet, file_name: str | None) -> Location:
    return Location(file=file_name, segment_number=read.first_segment, segment_id="ST",
                    byte_offset=read.start_offset)

