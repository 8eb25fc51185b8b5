"""The 835 splitter: each pharmacy gets exactly its own part, as an 835 that stands on its own.

One pass over the file (see ``gateway.x12.split.chunks``) notes, per transaction set, the header,
the LX groups, and for every claim its byte range and the provider it names; consecutive
claims of one provider collapse into one *run*. Nothing of the body is held in memory: the
original file *is* the spool. At SE the router (a :class:`PartPolicy`) says whether the set
goes whole to one pharmacy or is central pay to be cut by provider, and each part is written
by reading its runs back from the file (``os.pread``; the file was just read, so it comes
from the page cache). Memory is bounded by one transaction set's header, its run list and its
PLBs — not by the file, and not by a pharmacy's part either.

Two shapes, one rule (docs/splitting.md gives the reasoning):

* **whole** — the set's payee is a pharmacy: its ST..SE is copied byte for byte into a new
  interchange (ISA/GS from the PSAO to the pharmacy, fresh control numbers).
* **split** — the payee is the PSAO: one ST per pharmacy with the original header, the payee
  loop naming the pharmacy, its LX groups and claims, only the PLBs whose PLB01 is that
  pharmacy, BPR rewritten for its share (I with the share; H/0 plus a PLB FB forwarding
  balance when the share is zero or negative) and SE01 recounted. PLBs naming no pharmacy of
  the set are the PSAO's own part: reported in the result, never spread over pharmacies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from gateway.errors import InputError, Location
from gateway.fsutil import safe_name
from gateway.x12.model import IdentityCounter, SetIdentity
from gateway.x12.split.chunks import BLOCK_SIZE, CONTINUED, Chunk, scan
from gateway.x12.split.claim_runs import ClaimReader, ClaimRun
from gateway.x12.split.parts import (
    Owner,
    PartPolicy,
    PartSource,
    PartWriter,
    Piece,
    ProviderRef,
    PsaoAdjustment,
    SourceRange,
    SplitPart,
    SplitResult,
)
from gateway.x12.split.transaction_set import Plb, TransactionSet, part_payment
from gateway.x12.syntax.delimiters import ISA_LOOKAHEAD, isa_start
from gateway.x12.write.control_numbers import ControlNumbers
from gateway.x12.write.envelope import (
    InterchangeHeader,
    Party,
    interchange_end,
    interchange_start,
    read_isa,
)

UNASSIGNED = Owner(
    key="unassigned",
    label="unassigned",
    destination="held",
    held_reason="claims name no pharmacy (no NM1*82 rendering provider, no TS3 provider id)",
)


def part_name(owner: Owner, identity: SetIdentity) -> str:
    """The part's file name: owner, file hash, and the set's identity stem — unique per set
    and owner even when ST02s repeat; control numbers are data (safe_name), never paths."""
    return safe_name(f"{owner.label}-{identity.file[:12]}-{identity.stem}.835")


def _part_key(identity: SetIdentity, owner: Owner) -> str:
    """The part's idempotency key: its set and owner (its control number is kept under it)."""
    return hashlib.sha256(f"{identity.key}|{owner.key}".encode()).hexdigest()


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def split_835(
    path: Path,
    *,
    policy: PartPolicy,
    writer: PartWriter,
    numbers: ControlNumbers,
    sender: Party | None = None,
    sha256: str | None = None,
    block_size: int = BLOCK_SIZE,
    source: BinaryIO | None = None,
) -> SplitResult:
    """Split the 835 file at ``path`` into one 835 per owner and transaction set.

    ``sender`` is the PSAO in the new envelopes (default: the original's receiver, which is
    the PSAO the file was sent to). ``sha256`` is the file's hash when the store already has
    it. ``source``: ``path`` already open at offset 0 (the CLI's stream, which advances its
    progress bar), read instead of opening the file. Raises InputError on a structure the
    splitter cannot cut safely (nothing is written for the transaction set concerned).
    """
    digest = sha256 or file_sha256(path)
    with nullcontext(source) if source is not None else path.open("rb") as handle:
        head = handle.read(ISA_LOOKAHEAD)
        start = isa_start(head)
        isa = read_isa(head[start:], str(path), start)
        splitter = _Splitter(str(path), handle.fileno(), isa, policy, writer, numbers, sender,
                             digest)
        for chunk in scan(handle, isa.delimiters, block_size, start_offset=start,
                          file=str(path)):
            splitter.feed(chunk)
        splitter.finish()
    return splitter.result


class _Splitter:
    """The state of one split: current envelope, current transaction set, the result."""

    def __init__(
        self, file: str, fd: int, isa: InterchangeHeader, policy: PartPolicy,
        writer: PartWriter, numbers: ControlNumbers, sender: Party | None, sha256: str,
    ) -> None:
        self.file, self.fd, self.isa = file, fd, isa
        self.policy, self.writer, self.numbers = policy, writer, numbers
        self.sender = sender
        self.result = SplitResult(file=file, sha256=sha256)
        self.group_version: str | None = None  # GS08 of the open group
        self.group_receiver = ""  # its GS03: the PSAO's group id, the default part sender
        self.current: TransactionSet | None = None
        self.claims = ClaimReader(isa.delimiters, file)
        self.last_kind = b""
        self.identities = IdentityCounter(sha256)
        self.numbered: dict[str, int] = {}  # part key -> control number, of the set being cut

    def feed(self, chunk: Chunk) -> None:
        kind = self.last_kind = chunk.kind
        if kind == CONTINUED:
            self._inside(chunk).add_claims(chunk)
        elif kind == b"LX":
            self._inside(chunk).add_group(chunk)
        elif kind == b"PLB":
            self._inside(chunk).add_plb(chunk)
        elif kind == b"ST":
            self._start_set(chunk)
        elif kind == b"SE":
            self._close_set(self._inside(chunk), chunk)
        elif kind == b"GS":
            self._start_group(chunk)
        elif kind == b"ISA":
            self._start_interchange(chunk)
        elif kind in (b"GE", b"IEA"):
            if self.current is not None:
                raise self._error(chunk, "the transaction set has no SE", "se-missing")
        else:
            raise self._error(chunk, f"unexpected segment {kind!r} outside a boundary",
                              "unexpected-segment")

    def finish(self) -> None:
        """The end of the file: every set closed, the interchange closed, something split."""
        problem = None
        if self.current is not None:
            problem = (f"transaction set {self.current.control_number} has no SE", "se-missing")
        elif self.last_kind != b"IEA":
            problem = ("the file ends without IEA (truncated?)", "iea-missing")
        elif not self.result.transaction_sets:
            problem = ("the file holds no 835 transaction set", "no-transaction-set")
        if problem:
            raise InputError(problem[0], code=problem[1], where=Location(file=self.file),
                             fix="ask the partner to resend the complete file")

    def _start_interchange(self, chunk: Chunk) -> None:
        """Each interchange has its own delimiters (and ISA13): claims are read with them."""
        isa = read_isa(chunk.data, self.file, chunk.offset, chunk.first_segment)
        if isa.delimiters != self.isa.delimiters:
            self.claims = ClaimReader(isa.delimiters, self.file)
        self.isa = isa
        self.identities.open_interchange(isa.control_number)

    def _start_group(self, chunk: Chunk) -> None:
        elements = self._elements(chunk.first())
        if len(elements) < 9 or elements[1] != "HP":
            raise self._error(chunk, f"functional group {elements[1:2]} is not an 835 (HP) group",
                              "not-835", fix="send only 835 remittances to the splitter")
        self.group_version = elements[8]
        self.group_receiver = elements[3]
        self.identities.open_group(elements[6])

    def _start_set(self, chunk: Chunk) -> None:
        if self.current is not None:
            raise self._error(chunk, "ST before the previous set's SE", "se-missing")
        if self.group_version is None:
            raise self._error(chunk, "ST outside a GS functional group", "no-gs")
        st02 = self._elements(chunk.first())[2:3]
        identity = self.identities.open_set(st02[0] if st02 else "")
        self.current = TransactionSet.start(chunk, self.claims, identity)

    def _inside(self, chunk: Chunk) -> TransactionSet:
        if self.current is None:
            raise self._error(chunk, f"{chunk.kind.decode()} outside ST..SE", "outside-set")
        return self.current

    def _close_set(self, tset: TransactionSet, se: Chunk) -> None:
        elements = self._elements(se.first())
        if elements[2:3] != [tset.control_number]:
            raise self._error(se, f"SE02 {elements[2:3]} does not match ST02 "
                              f"{tset.control_number}", "se-control")
        self.current = None
        self.result.transaction_sets.append(tset.totals())
        whole = self.policy.whole_owner(tset.payee, tset.providers())
        if whole is not None:
            self._write_whole(tset, se, whole)
        else:
            self._write_split(tset, se)

    def _write_whole(self, tset: TransactionSet, se: Chunk, owner: Owner) -> None:
        """The set goes unchanged to one owner: copy ST..SE from the file."""
        body = [self._range(tset.start_offset, se.end)]
        totals = tset.totals()
        self._number_parts(tset, [owner])
        self._emit(tset, se, owner, "whole", body, totals.claim_count, totals.claims_paid,
                   totals.adjustments, totals.payment, None, tset.segment_count(se))

    def _write_split(self, tset: TransactionSet, se: Chunk) -> None:
        """Central pay: one part per owner of the set's claims; other PLBs are the PSAO's."""
        owners: dict[ProviderRef | None, Owner] = {}
        for ref in tset.refs_in_order():
            owners[ref] = (
                self.policy.provider_owner(ref, tset.names.get(ref)) if ref else UNASSIGNED
            )
        by_id: dict[str, str] = {}
        for ref, owner in owners.items():
            for identifier in (*owner.identifiers, ref.identifier if ref else None):
                if identifier:
                    by_id.setdefault(identifier, owner.key)
        plbs: dict[str, list[Plb]] = {}
        for plb in tset.plbs:
            key = by_id.get(plb.provider_id)
            if key is not None:
                plbs.setdefault(key, []).append(plb)
            else:
                self._psao_part(tset, plb)
        runs: dict[str, list[ClaimRun]] = {}
        owners_of_group: dict[int | None, set[str]] = {}
        for run in tset.runs:
            runs.setdefault(owners[run.ref].key, []).append(run)
            owners_of_group.setdefault(run.group, set()).add(owners[run.ref].key)
        shared = {group for group, keys in owners_of_group.items() if len(keys) > 1}
        self._number_parts(tset, [owners[owner_runs[0].ref] for owner_runs in runs.values()])
        for key, owner_runs in runs.items():
            owner = owners[owner_runs[0].ref]
            name = tset.names.get(owner_runs[0].ref) if owner_runs[0].ref else None
            self._write_share(tset, se, owner, owner_runs, name, plbs.get(key, []), shared)

    def _write_share(
        self, tset: TransactionSet, se: Chunk, owner: Owner, runs: list[ClaimRun],
        provider_name: str | None, plbs: list[Plb], shared: set[int | None],
    ) -> None:
        claims_paid = sum((run.paid for run in runs), Decimal(0))
        adjustments = sum((plb.total for plb in plbs), Decimal(0))
        net = claims_paid - adjustments
        bpr, forward = part_payment(tset.bpr, net)
        delimiters = self.isa.delimiters
        head = tset.part_header(bpr, owner, provider_name)
        openings = {
            run.group: tset.groups[run.group].opening(run.group in shared)
            for run in runs if run.group is not None
        }
        tail = [plb.data for plb in plbs]
        if forward is not None:
            tail.append(tset.forward_balance_plb(owner, forward))
        count = (len(head) + sum(segments for _, segments in openings.values())
                 + sum(run.segments for run in runs) + len(tail) + 1)
        se_bytes = delimiters.segment_bytes("SE", str(count), tset.control_number)

        def body() -> Iterator[Piece]:
            yield b"".join(head)
            written: set[int] = set()
            for run in runs:
                if run.group is not None and run.group not in written:
                    written.add(run.group)
                    yield openings[run.group][0]
                yield self._range(run.start, run.end)
            yield b"".join(tail)
            yield se_bytes

        self._emit(tset, se, owner, "split", body(), sum(r.claims for r in runs), claims_paid,
                   adjustments, max(net, Decimal(0)), forward, count)

    def _psao_part(self, tset: TransactionSet, plb: Plb) -> None:
        is_psao = self.policy.is_psao(plb.provider_id) or plb.provider_id in tset.payee.identifiers
        why = "psao" if is_psao else "names no pharmacy of the file"
        for reason, reference, amount in plb.adjustments:
            self.result.psao_adjustments.append(PsaoAdjustment(
                tset.control_number, plb.provider_id, reason, reference, amount, why,
                tset.start_offset, tset.identity))

    def _emit(
        self, tset: TransactionSet, se: Chunk, owner: Owner, mode: str, body: Iterable[Piece],
        claim_count: int, claims_paid: Decimal, adjustments: Decimal, payment: Decimal,
        forward: Decimal | None, segment_count: int,
    ) -> None:
        """Envelope the body, write it through the writer, record the part."""
        identity = tset.identity
        part_key = _part_key(identity, owner)
        number = self.numbered.pop(part_key)
        receiver = Party("ZZ", owner.npi or owner.label, owner.npi or owner.label)
        sender = self.sender or Party(self.isa.receiver_qualifier, self.isa.receiver_id,
                                      self.group_receiver or self.isa.receiver_id)
        start = interchange_start(self.isa, sender, receiver, number, self.group_version or "")
        end = interchange_end(self.isa, number)
        pieces = [start, *body, end]  # bytes and SourceRanges; the claims stay in the file
        size = sum(len(piece) for piece in pieces)

        name = part_name(owner, identity)
        location = self.writer.write(owner, name, pieces)
        source = PartSource(self.file, self.result.sha256, tset.control_number,
                            tset.first_segment, se.first_segment, tset.start_offset, se.end,
                            tset.trace_number, identity)
        self.result.parts.append(SplitPart(
            source=source, owner=owner, mode=mode, claim_count=claim_count,
            claims_paid=claims_paid, adjustments=adjustments,
            net=claims_paid - adjustments, payment=payment, forward_balance=forward,
            segment_count=segment_count, control_number=number, part_key=part_key,
            location=location, size=size,
        ))

    def _number_parts(self, tset: TransactionSet, owners: list[Owner]) -> None:
        """Number the set's parts all at once — one round trip to a store's counter, not one
        transaction per part — in the order they are written, so each gets the number one
        ``assign`` per part would have given it."""
        wanted = [(owner.destination, _part_key(tset.identity, owner)) for owner in owners]
        numbers = self.numbers.assign_many(wanted)
        self.numbered = {key: number for (_, key), number in zip(wanted, numbers, strict=True)}

    def _range(self, start: int, end: int) -> SourceRange:
        """Bytes [start, end) of the source, by reference (the file is the spool)."""
        return SourceRange(self.fd, start, end)

    def _elements(self, segment: bytes) -> list[str]:
        return segment.decode("latin-1").split(self.isa.delimiters.element)

    def _error(self, chunk: Chunk, what: str, code: str, fix: str = "") -> InputError:
        return InputError(
            what, code=code,
            where=Location(file=self.file, segment_number=chunk.first_segment,
                           segment_id=chunk.kind.decode("latin-1"), byte_offset=chunk.offset),
            fix=fix or "check the file with `gateway parse`; the original is kept unchanged",
        )
