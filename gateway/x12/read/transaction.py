"""One 835 transaction set (ST..SE) into canonical items, loop by loop, in bounded memory.

The reader hands every segment of an open 835 set here. Segments are collected one *loop* at
a time: the header (ST up to the first LX, CLP, SVC or PLB), an LX group header (LX, TS3,
TS2), a claim (CLP with its SVC service lines), a PLB. A loop is read when the segment that
starts the next one arrives (so its :class:`~gateway.model.SourceRef` can end where the next
begins), then dropped: a single-ST central-pay file with 400,000 claims never has more than
one claim's segments in memory. Claims are read by :mod:`gateway.x12.read.claims`.

Dates that are not dates become None (with a warning); amounts that are not numbers are fatal
(``bad-amount``): money must never be guessed. The payment balances when BPR02 =
sum(CLP04) - sum(PLB amounts), both sums kept running while the set streams and checked at SE.
A set whose BPR or payer/payee is missing is reported and still read (so its claims are
checked), but yields nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.model import (
    ClaimPayment,
    Envelope,
    Party,
    Payment,
    ProviderAdjustment,
    ProviderGroup,
    Reference,
    SourceRef,
    TransactionEnd,
    TransactionHeader,
    fast_constructor,
)
from gateway.x12.read.checks import check_balance, check_composite, element, report_at
from gateway.x12.read.claims import read_claim
from gateway.x12.read.values import ZERO, Values
from gateway.x12.syntax.delimiters import ascii_int
from gateway.x12.syntax.findings import Level
from gateway.x12.syntax.tokenizer import Segment, segment_text

# What the streaming reader yields, in file order (reader.iter_835).
Item = TransactionHeader | ProviderGroup | ClaimPayment | ProviderAdjustment | TransactionEnd

HEADER_IGNORED = frozenset({"CUR", "N2", "N3", "N4", "PER", "RDM"})  # kept in the source only
HEADER = "ST"  # the kind of the header loop (it starts with ST); other kinds are their ids
new_adjustment = fast_constructor(
    ProviderAdjustment, "provider_id fiscal_period_date reason reference amount"
)
_PartyLoop = tuple[Segment, list[Reference]]  # an N1 segment and the REFs after it


class TransactionReader(Values):
    """Reads the 835 transaction sets of one file (the value caches live as long as the file).

    Per set: :meth:`open` at ST, :meth:`mark` at every LX, CLP, SVC and PLB (the reader
    appends any other segment to :attr:`loop`), :meth:`close` at SE. ``mark`` and ``close``
    return the items finished by then, in file order.
    """

    component = ":"

    def open(self, st: Segment, envelope: Envelope, component: str) -> None:
        self.component = component
        self.envelope = envelope
        self.loop: list[Segment] = [st]  # the segments of the open loop
        self.kind = HEADER  # HEADER, "LX", "CLP", "PLB" or "SVC" (service lines without a claim)
        self.lines: list[int] = []  # indexes in loop of a claim's SVCs
        self.header: TransactionHeader | None = None
        self.bpr: Segment | None = None
        self.in_group = False  # an LX group (or claims before any LX: group "0") is open
        self.provider: str | None = None  # TS301 of the open group
        self.claim_count = 0
        self.claim_paid = ZERO
        self.adjusted = ZERO

    def mark(self, segment: Segment) -> Sequence[Item]:
        """``segment`` is an LX, CLP, SVC or PLB: it starts a loop (an SVC in a claim: a line)."""
        seg_id = segment[2][0]
        if seg_id == "SVC" and self.kind != HEADER:
            if self.kind == "CLP":
                self.lines.append(len(self.loop))
            self.loop.append(segment)  # after LX or PLB it is unexpected there: reported later
            return ()
        items = self.finish_loop(segment)
        if seg_id != "CLP":
            self.in_group, self.provider = False, None
        elif not self.in_group:  # claims before any LX form group "0"
            self.in_group = True
            if self.header:  # it has no segments of its own: an empty source where it starts
                number, offset = segment[0], segment[1]
                source = SourceRef(self.file_name, number, number - 1, offset, offset)
                items.append(ProviderGroup("0", None, None, None, None, None, (), source))
        self.kind = seg_id
        self.loop = [segment]
        self.lines = []
        return items

    def close(self, se: Segment) -> list[Item]:
        """At SE: the last loop, then the set's :class:`TransactionEnd` (payment balanced)."""
        items = self.finish_loop(se)
        header = self.header
        if header is None or self.bpr is None:
            return items  # missing parts were reported: nothing is yielded for this set
        check_balance(
            self.reporter,
            self.bpr,
            "unbalanced-payment",
            "BPR02 = sum(CLP04) - sum(PLB amounts)",
            self.claim_paid - self.adjusted,
            header.payment.amount,
        )
        start = header.source
        end = se[1] + len(segment_text(se))
        source = SourceRef(self.file_name, start.first_segment, se[0], start.start_offset, end)
        totals = (self.claim_count, self.claim_paid, self.adjusted)
        items.append(TransactionEnd(header.control_number, *totals, source))
        return items

    def finish_loop(self, following: Segment) -> list[Item]:
        """Read the open loop, which ends where ``following`` begins."""
        loop, kind = self.loop, self.kind
        loop.append(following)
        stop = len(loop) - 1
        if kind == "CLP":
            claim = read_claim(self, loop, self.lines, self.provider, self.component)
            self.claim_count += 1
            self.claim_paid += claim.paid
            return [claim] if self.header else []
        if kind == "LX":
            self.in_group = True
            group = self.group(loop, stop)
            return [group] if self.header else []
        if kind == "PLB":
            adjustments = self.plb(loop[0])
            for segment in loop[1:stop]:
                self.unexpected(segment, "the summary (after PLB)")
            self.adjusted += sum([adjustment.amount for adjustment in adjustments], ZERO)
            return list(adjustments) if self.header else []  # as list[Item]
        if kind == "SVC":
            for segment in loop[:stop]:
                self.unexpected(segment, "the detail (no CLP before it)")
            return []
        self.header = self.read_header(loop, stop)
        return [self.header] if self.header else []

    # -- the header ------------------------------------------------------------------------

    def read_header(self, loop: list[Segment], stop: int) -> TransactionHeader | None:
        """The header loop ``loop[:stop]``, or None when BPR or a party is missing (reported)."""
        st = loop[0]
        header = self.header_segments(loop, stop)
        missing = [name for name in ("BPR", "N1*PR", "N1*PE") if header.get(name) is None]
        for name in missing:
            report_at(
                self.reporter,
                st,
                "missing-segment",
                f"the transaction set has no {name}",
                level=Level.TRANSACTION,
                fix="ask the sender for a complete 835",
            )
        if header.get("TRN") is None:
            report_at(
                self.reporter,
                st,
                "missing-segment",
                "the transaction set has no TRN (reassociation trace number)",
                level=Level.TRANSACTION,
                fix="ask the sender for a complete 835",
            )
        if missing:
            return None
        self.bpr = header["BPR"]
        return TransactionHeader(
            control_number=element(st, 2),
            envelope=self.envelope,
            payment=self.payment(header["BPR"], header.get("TRN")),
            payer=header["N1*PR"],
            payee=header["N1*PE"],
            production_date=header.get("DTM*405"),
            receiver_id=header.get("REF*EV"),
            references=tuple(header["REF"]),
            source=self.source(loop, 0, stop),
        )

    def header_segments(self, body: list[Segment], stop: int) -> dict[str, Any]:
        """BPR, TRN, REF, DTM*405 and the N1 party loops: ``body[1:stop]``."""
        found: dict[str, Any] = {"REF": []}
        party: _PartyLoop | None = None  # the open party loop
        for segment in body[1:stop]:
            seg_id = segment[2][0]
            if seg_id == "N1":
                self.close_party(found, party)
                party = (segment, [])
            elif seg_id == "REF":
                ref = Reference(element(segment, 1), element(segment, 2))
                if party is not None:
                    party[1].append(ref)
                elif ref.qualifier == "EV":
                    found["REF*EV"] = ref.value
                else:
                    found["REF"].append(ref)
            elif seg_id in ("BPR", "TRN"):
                found[seg_id] = segment
            elif seg_id == "DTM":
                if element(segment, 1) == "405":
                    found["DTM*405"] = self.date(segment, 2)
            elif seg_id not in HEADER_IGNORED:
                self.unexpected(segment, "the header")
        self.close_party(found, party)
        return found

    def close_party(self, found: dict[str, Any], party: _PartyLoop | None) -> None:
        if party is None:
            return
        segment, refs = party
        code, qualifier, identifier = (element(segment, i) for i in (1, 3, 4))
        by_qualifier = {ref.qualifier: ref.value for ref in refs}
        found[f"N1*{code}"] = Party(
            entity_code=code,
            name=element(segment, 2),
            id_qualifier=qualifier or None,
            identifier=identifier or None,
            npi=identifier if qualifier == "XX" else None,
            tin=identifier if qualifier == "FI" else by_qualifier.get("TJ"),
            ncpdp_id=by_qualifier.get("D3") if code == "PE" else None,
            references=tuple(refs),
        )

    def payment(self, bpr: Segment, trn: Segment | None) -> Payment:
        return Payment(
            handling_code=element(bpr, 1),
            amount=self.money(bpr, 2),
            credit_debit=element(bpr, 3),
            method=element(bpr, 4),
            format_code=element(bpr, 5) or None,
            date=self.date(bpr, 16),
            trace_type=element(trn, 1) or None if trn else None,
            trace_number=element(trn, 2) or None if trn else None,
            originator_id=element(trn, 3) or None if trn else None,
            originator_supplement=element(trn, 4) or None if trn else None,
        )

    # -- detail: LX groups and PLB ---------------------------------------------------------

    def group_header(self, body: list[Segment], start: int, stop: int) -> Segment | None:
        """TS3 and TS2 between LX and the first claim; returns the TS3."""
        ts3 = None
        for segment in body[start:stop]:
            seg_id = segment[2][0]
            if seg_id == "TS3":
                ts3 = segment
            elif seg_id != "TS2":
                self.unexpected(segment, "a provider summary (loop 2000)")
        return ts3

    def group(self, loop: list[Segment], stop: int) -> ProviderGroup:
        """The LX loop ``loop[:stop]`` (LX, TS3, TS2): a group, before its claims."""
        ts3 = self.group_header(loop, 1, stop)
        self.provider = (element(ts3, 1) or None) if ts3 else None
        return ProviderGroup(
            number=element(loop[0], 1),
            provider_id=self.provider,
            facility_code=(element(ts3, 2) or None) if ts3 else None,
            fiscal_period_date=self.date(ts3, 3) if ts3 else None,
            claim_count=self.count(ts3, 4) if ts3 else None,
            total_charge=self.optional_money(ts3, 5) if ts3 else None,
            claims=(),
            source=self.source(loop, 0, stop),
        )

    def count(self, segment: Segment, index: int) -> int | None:
        """A count element (TS304): ASCII digits, else None with a located warning."""
        text = element(segment, index)
        number = ascii_int(text)
        if text and number is None:
            report_at(self.reporter, segment, "bad-number",
                      f"{segment[2][0]}{index:02d} {text[:10]!r} is not a count (ASCII "
                      "digits); read as empty", level=Level.SEGMENT,
                      element=f"{segment[2][0]}{index:02d}", fatal=False,
                      fix="ask the sender to correct the count")
        return number

    def plb(self, segment: Segment) -> list[ProviderAdjustment]:
        """PLB01 provider, PLB02 date, then up to six (reason:reference, amount) pairs."""
        provider, period = element(segment, 1), self.date(segment, 2)
        found = []
        for index in range(3, min(len(segment[2]), 15), 2):
            if not element(segment, index):
                continue
            reason = check_composite(self.reporter, segment, index, self.component, required=False)
            reference = reason[1] if len(reason) > 1 and reason[1] else None
            amount = self.money(segment, index + 1)
            found.append(new_adjustment(provider, period, reason[0], reference, amount))
        return found
