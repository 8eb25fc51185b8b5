"""Conservation, enforced at run time: no claim and no cent of a file is lost in routing.

After a file is split and its deliveries planned, and before any of them is queued, the
route stage proves per transaction set that what leaves equals what the reader read (issue
10, Build 3): claims and money over the delivered parts + the held parts + the PSAO's
retained part (its own PLBs) equal the set's claim count, ΣCLP04, ΣPLB and BPR02.

The parts' side is not taken from the splitter's word: each part's bytes — what the store is
given, which is what a pharmacy gets — are counted as they stream to the store
(gateway.routing.written), segment by segment, independently of the splitter's totals. Parts
and PSAO adjustments are matched to the reader's sets by set identity (x12's SetIdentity:
interchange ordinal, ISA13, GS06, ST02, ordinal; the ST offset must agree too). A part counts
only once, and only if it got its own delivery: two parts under one idempotency key (the
queue keeps the first, the other is silently never sent) or a part with no delivery at all
break the proof. So does a set the splitter never cut (an interchange it did not see), a part
of no set the reader read, or a part the splitter reports but never wrote. A split part's
BPR02 is its share when positive; a negative share is written as BPR02 0 plus a PLB FB
carrying it forward, which the proof counts back as the share.

A failed proof raises :class:`ConservationError`, an :class:`~gateway.errors.InputError`
(code ``conservation``) located at the set's ST: the pipeline quarantines the file with the
reason, the quarantine metric and alert follow, and the acknowledgment rejects the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from gateway.errors import InputError, Location
from gateway.routing.read_sets import ReadSet, Tally
from gateway.routing.written import Written
from gateway.x12.split.parts import PartLocation, PsaoAdjustment, SplitPart

CODE = "conservation"


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
          psao: Iterable[PsaoAdjustment], written: Mapping[PartLocation, Written],
          file_name: str | None) -> list[Tally]:
    """Prove every set conserved; return the parts' tally per set (the reader's order).
    Raises ConservationError naming the first set that is not."""
    index = {r.identity: n for n, r in enumerate(read)}
    out = [Tally() for _ in read]
    seen_keys: set[str] = set()
    for q in queued:
        source = q.part.source
        n = index.get(source.identity) if source.identity is not None else None
        if n is None or read[n].start_offset != source.start_offset:
            raise ConservationError(
                f"a part for {q.part.owner.label} comes from bytes "
                f"{source.start_offset}-{source.end_offset} "
                f"({source.identity.describe() if source.identity else 'no set identity'}), "
                "where the reader read no such transaction set",
                Location(file=file_name, byte_offset=source.start_offset))
        collisions = [k for k in q.keys if k in seen_keys]
        if not q.keys or collisions:
            why = "has no delivery" if not q.keys else "shares its delivery key with another"
            raise ConservationError(f"{read[n].describe()}: the part for {q.part.owner.label} "
                                    f"{why}: it would never be sent", _at(read[n], file_name))
        seen_keys.update(q.keys)
        out[n].add(part_tally(q, written, file_name))
    for adjustment in psao:
        n = index.get(adjustment.identity) if adjustment.identity is not None else None
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


def part_tally(queued: QueuedPart, written: Mapping[PartLocation, Written],
               file_name: str | None) -> Tally:
    """What the part's bytes carry, as they were handed to the store (gateway.routing.written
    counted them): its claims, ΣCLP04, ΣPLB and BPR02, with a carried-forward negative share
    (the PLB FB the splitter writes last) counted as the share it is."""
    part = queued.part
    mine = written.get(part.location)
    if mine is None:
        raise ConservationError(f"the part for {part.owner.label} was never written",
                                Location(file=file_name, byte_offset=part.source.start_offset))
    tally = Tally(claims=mine.claims, paid=mine.paid, payment=mine.payment)
    plbs = list(mine.plbs)
    forward = part.forward_balance
    if forward is not None and plbs and plbs[-1] == ("FB", forward):
        plbs.pop()  # BPR02 0 + the share carried forward
        tally.payment += forward
    tally.plb += sum((amount for _, amount in plbs), Decimal(0))
    return tally


def _at(read: ReadSet, file_name: str | None) -> Location:
    return Location(file=file_name, segment_number=read.keys.first_segment, segment_id="ST",
                    byte_offset=read.start_offset)

