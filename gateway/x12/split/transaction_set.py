"""One 835 transaction set as the splitter sees it: header, LX groups, claim runs, PLBs.

Only what a split needs is kept: the header segments (a few dozen), each LX group's own
segments (LX/TS3/TS2), and for the claims just *runs* — byte ranges of consecutive claims that
name the same provider in the same LX group, with their count and CLP04 total. The claims'
bytes stay in the file and are copied from it when a part is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from gateway.errors import InputError, Location
from gateway.x12.model import SetIdentity
from gateway.x12.split.chunks import Chunk
from gateway.x12.split.claim_runs import ClaimReader, ClaimRun
from gateway.x12.split.parts import Owner, Payee, ProviderRef, TransactionTotals
from gateway.x12.syntax.delimiters import Delimiters
from gateway.x12.write.envelope import x12_amount


@dataclass(frozen=True)
class Group:
    """An LX group's own segments (LX, TS3, TS2), kept to open the group in each part.

    ``lx`` is the LX segment alone: a group whose claims go to several owners is opened with
    it only, because TS3/TS2 totals describe the whole group and would be wrong for a share.
    """

    data: bytes
    segments: int
    provider: ProviderRef | None  # TS301
    lx: bytes

    def opening(self, shared: bool) -> tuple[bytes, int]:
        """The bytes that open this group in a part, and their segment count."""
        return (self.lx, 1) if shared else (self.data, self.segments)


@dataclass(frozen=True)
class Plb:
    """One PLB segment: PLB01 provider, PLB02 date, and its (reason, reference, amount)s."""

    data: bytes
    provider_id: str
    fiscal_date: str
    adjustments: tuple[tuple[str, str | None, Decimal], ...]

    @property
    def total(self) -> Decimal:
        return sum((amount for _, _, amount in self.adjustments), Decimal(0))


@dataclass
class TransactionSet:
    control_number: str
    first_segment: int
    start_offset: int
    delimiters: Delimiters
    file: str | None
    header: list[list[str]]  # element lists: ST, BPR, ..., then the payee loop
    payee_index: int  # where the payee loop (N1*PE ...) starts in header
    payee: Payee
    claims: ClaimReader
    identity: SetIdentity
    groups: list[Group] = field(default_factory=list)
    runs: list[ClaimRun] = field(default_factory=list)
    plbs: list[Plb] = field(default_factory=list)

    @classmethod
    def start(cls, chunk: Chunk, claims: ClaimReader, identity: SetIdentity) -> TransactionSet:
        """A set from its ST chunk (the header, and claims if the set has no LX)."""
        delimiters, file = claims.delimiters, claims.file
        header_end = claims.first_claim(chunk.data)
        header = _segments(chunk.data[:header_end], delimiters)
        ids = [elements[0] for elements in header]
        where = Location(file=file, segment_number=chunk.first_segment, byte_offset=chunk.offset)
        if "BPR" not in ids:
            raise InputError("the transaction set has no BPR", code="no-bpr", where=where,
                             fix="an 835 needs BPR right after ST; ask the partner to resend")
        payee_index = next(
            (i for i, e in enumerate(header) if e[0] == "N1" and e[1:2] == ["PE"]), None
        )
        if payee_index is None:
            raise InputError("the transaction set has no payee (N1*PE)", code="no-payee",
                             where=where, fix="an 835 needs loop 1000B; ask the partner")
        tset = cls(
            control_number=_element(header[0], 2), first_segment=chunk.first_segment,
            start_offset=chunk.offset, delimiters=delimiters, file=file, header=header,
            payee_index=payee_index, payee=_payee(header[payee_index:]), claims=claims,
            identity=identity,
        )
        tset.bpr_amount(where)  # fail early on a bad BPR02
        tset.add_claims(chunk, header_end)
        return tset

    @property
    def names(self) -> dict[ProviderRef, str]:
        return self.claims.names

    @property
    def bpr(self) -> list[str]:
        return next(e for e in self.header if e[0] == "BPR")

    @property
    def trace_number(self) -> str:
        return next((_element(e, 2) for e in self.header if e[0] == "TRN"), "")

    def bpr_amount(self, where: Location | None = None) -> Decimal:
        return _amount(_element(self.bpr, 2), where or Location(file=self.file))

    def add_group(self, chunk: Chunk) -> None:
        """An LX chunk: the group's own segments (LX, TS3, TS2), then its first claims."""
        claims_at = self.claims.first_claim(chunk.data)
        own = chunk.data[:claims_at]
        provider = None
        for elements in _segments(own, self.delimiters):
            if elements[0] == "TS3" and _element(elements, 1):
                provider = self.claims.intern(ProviderRef("", elements[1]))
        lx_end = own.find(self.delimiters.terminator_bytes) + len(self.delimiters.terminator_bytes)
        while own[lx_end : lx_end + 1] in (b"\r", b"\n"):
            lx_end += 1
        self.groups.append(Group(own, own.count(self.delimiters.terminator_bytes), provider,
                                 own[:lx_end]))
        self.add_claims(chunk, claims_at)

    def add_claims(self, chunk: Chunk, start: int = 0) -> None:
        """Claims in ``chunk.data[start:]``, of the current LX group (if any)."""
        group = len(self.groups) - 1 if self.groups else None
        provider = self.groups[group].provider if group is not None else None
        before = chunk.data.count(self.delimiters.terminator_bytes, 0, start) if start else 0
        runs = self.claims.read(chunk.data, start, chunk.offset, chunk.first_segment,
                                chunk.segments - before, group, provider)
        for run in runs:
            last = self.runs[-1] if self.runs else None
            if (last is not None and last.ref is run.ref and last.group == run.group
                    and last.end == run.start):
                last.end, last.segments = run.end, last.segments + run.segments
                last.claims, last.paid = last.claims + run.claims, last.paid + run.paid
            else:
                self.runs.append(run)

    def add_plb(self, chunk: Chunk) -> None:
        elements = _segments(chunk.data, self.delimiters)[0]
        component = self.delimiters.component
        adjustments = []
        for position in range(3, len(elements) - 1, 2):
            if not elements[position]:
                continue
            reason, _, reference = elements[position].partition(component)
            where = Location(file=self.file, segment_number=chunk.first_segment,
                             segment_id="PLB", element=f"PLB{position + 1:02d}",
                             byte_offset=chunk.offset)
            amount = _amount(elements[position + 1], where)
            adjustments.append((reason, reference or None, amount))
        self.plbs.append(Plb(chunk.data, _element(elements, 1), _element(elements, 2),
                             tuple(adjustments)))

    def totals(self) -> TransactionTotals:
        return TransactionTotals(
            control_number=self.control_number,
            payment=self.bpr_amount(),
            claims_paid=sum((run.paid for run in self.runs), Decimal(0)),
            adjustments=sum((plb.total for plb in self.plbs), Decimal(0)),
            claim_count=sum(run.claims for run in self.runs),
            identity=self.identity,
            start_offset=self.start_offset,
        )

    def providers(self) -> frozenset[ProviderRef]:
        return frozenset(run.ref for run in self.runs if run.ref is not None)

    def refs_in_order(self) -> list[ProviderRef | None]:
        return list(dict.fromkeys(run.ref for run in self.runs))

    def segment_count(self, se: Chunk) -> int:
        return se.first_segment - self.first_segment + 1

    def part_header(self, bpr: list[str], owner: Owner, provider_name: str | None) -> list[bytes]:
        """ST, the part's BPR, the original header up to the payee, the pharmacy as payee."""
        segments = [self.header[0], bpr]
        segments += [e for e in self.header[1 : self.payee_index] if e[0] != "BPR"]
        segments += self._payee_loop(owner, provider_name)
        return [self.delimiters.segment_bytes(*_trim(e)) for e in segments]

    def forward_balance_plb(self, owner: Owner, amount: Decimal) -> bytes:
        """PLB FB carrying a negative share forward (TR3 balance forward; reference TRN02)."""
        date = self.plbs[0].fiscal_date if self.plbs else _year_end(_element(self.bpr, 16))
        component = self.delimiters.component
        return self.delimiters.segment_bytes(
            "PLB", owner.npi or owner.label, date, f"FB{component}{self.trace_number}",
            x12_amount(amount),
        )

    def _payee_loop(self, owner: Owner, provider_name: str | None) -> list[list[str]]:
        name = _clean(owner.name or provider_name or f"PHARMACY {owner.npi or owner.label}",
                      self.delimiters)
        if owner.npi:
            loop = [["N1", "PE", name, "XX", owner.npi]]
        elif owner.tin:
            loop = [["N1", "PE", name, "FI", owner.tin]]
        else:
            loop = [["N1", "PE", name, "XV", owner.label]]
        if owner.ncpdp_id:
            loop.append(["REF", "D3", owner.ncpdp_id])
        if owner.tin and owner.npi:
            loop.append(["REF", "TJ", owner.tin])
        return loop


def part_payment(bpr: list[str], net: Decimal) -> tuple[list[str], Decimal | None]:
    """The BPR of a part whose share is ``net``, and the forwarding balance it needs.

    A positive share is remittance information only (BPR01 I): the PBM's money went to the
    PSAO, which pays the pharmacy separately; the method, accounts and date of the real
    payment (BPR04-BPR16) are kept. A zero share is H/0/NON (X12 RFI 2228). A negative share
    is also H/0/NON plus a PLB FB of the (negative) share, the TR3 way to carry a balance
    forward, so the part still balances (X12 RFI 222).
    """
    if net > 0:
        return ["BPR", "I", x12_amount(net), "C", *bpr[4:]], None
    zero = ["BPR", "H", "0", "C", "NON", *([""] * 11), _element(bpr, 16)]
    return zero, (net if net < 0 else None)


def _payee(loop: list[list[str]]) -> Payee:
    n1 = loop[0]
    refs = {e[1]: _element(e, 2) for e in loop[1:] if e[0] == "REF" and len(e) > 2}
    qualifier, identifier = _element(n1, 3), _element(n1, 4)
    tin = identifier if qualifier == "FI" else refs.get("TJ")
    return Payee(_element(n1, 2), qualifier, identifier, refs.get("D3"), tin)


def _segments(data: bytes, delimiters: Delimiters) -> list[list[str]]:
    element = delimiters.element
    return [
        text.split(element)
        for piece in data.split(delimiters.terminator_bytes)
        if (text := piece.strip(b"\r\n").decode("latin-1"))
    ]


def _element(elements: list[str], position: int) -> str:
    return elements[position] if len(elements) > position else ""


def _trim(elements: list[str]) -> list[str]:
    end = len(elements)
    while end > 1 and not elements[end - 1]:
        end -= 1
    return elements[:end]


def _amount(text: str, where: Location) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InputError(f"{text!r} is not an amount", code="bad-amount", where=where,
                         fix="ask the partner to correct the amount") from None


def _clean(text: str, delimiters: Delimiters) -> str:
    """A name made safe for an element: no delimiter characters, at most 60 characters."""
    for delimiter in (delimiters.element, delimiters.terminator, delimiters.component,
                      delimiters.repetition):
        if delimiter:
            text = text.replace(delimiter, " ")
    return text[:60].strip() or "PHARMACY"


def _year_end(ccyymmdd: str) -> str:
    return f"{ccyymmdd[:4]}1231" if len(ccyymmdd) == 8 else ccyymmdd
