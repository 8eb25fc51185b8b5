"""One 835 transaction set (the segments of one ST..SE) into a canonical Remittance.

The reader collects the segments of the open transaction set and hands them here at SE, with
the positions of its LX, CLP, SVC and PLB segments (noted while collecting), so memory is
bounded by the largest transaction set and no segment is searched for twice: the header (BPR,
TRN, REF, DTM, N1 loops) is the slice before the first mark, each claim and service line is a
slice read by :mod:`gateway.x12.claims`, then come the PLBs. Dates that are not dates become
None (with a warning); amounts that are not numbers are fatal (``bad-amount``): money must
never be guessed. The payment balances when BPR02 = sum(CLP04) - sum(PLB amounts).
"""

from __future__ import annotations

from gateway.model import (
    ClaimPayment,
    Envelope,
    Party,
    Payment,
    ProviderAdjustment,
    ProviderGroup,
    Reference,
    Remittance,
    SourceRef,
)
from gateway.x12.checks import check_balance, check_composite, element, report_at
from gateway.x12.claims import read_claim
from gateway.x12.findings import Level
from gateway.x12.tokenizer import Segment, segment_text
from gateway.x12.values import Values

HEADER_IGNORED = frozenset({"CUR", "N2", "N3", "N4", "PER", "RDM"})  # kept in the source only


class TransactionBuilder(Values):
    """Builds the Remittances of one file (the value caches live as long as the file)."""

    component = ":"

    # -- the transaction set --------------------------------------------------------------

    def build(
        self, body: list[Segment], marks: list[int], envelope: Envelope, component: str
    ) -> Remittance | None:
        """``body`` is ST..SE inclusive; ``marks`` the indexes of its LX, CLP and PLB segments
        (the reader notes them while collecting, so the detail is not searched again). None
        when BPR or a party is missing (reported)."""
        self.component = component
        header = self.header(body, marks[0] if marks else len(body) - 1)
        missing = [name for name in ("BPR", "N1*PR", "N1*PE") if header.get(name) is None]
        for name in missing:
            report_at(
                self.reporter,
                body[0],
                "missing-segment",
                f"the transaction set has no {name}",
                level=Level.TRANSACTION,
                fix="ask the sender for a complete 835",
            )
        if header.get("TRN") is None:
            report_at(
                self.reporter,
                body[0],
                "missing-segment",
                "the transaction set has no TRN (reassociation trace number)",
                level=Level.TRANSACTION,
                fix="ask the sender for a complete 835",
            )
        groups, adjustments = self.detail(body, marks)
        se = body[-1]
        end = se[1] + len(segment_text(se))
        if missing:
            return None
        remittance = Remittance(
            control_number=element(body[0], 2),
            envelope=envelope,
            payment=self.payment(header["BPR"], header.get("TRN")),
            payer=header["N1*PR"],
            payee=header["N1*PE"],
            production_date=header.get("DTM*405"),
            receiver_id=header.get("REF*EV"),
            groups=groups,
            provider_adjustments=adjustments,
            source=SourceRef(self.file_name, body[0][0], se[0], body[0][1], end),
            references=tuple(header["REF"]),
        )
        expected = remittance.total_claim_paid - remittance.total_provider_adjustments
        check_balance(
            self.reporter,
            header["BPR"],
            "unbalanced-payment",
            "BPR02 = sum(CLP04) - sum(PLB amounts)",
            expected,
            remittance.payment.amount,
        )
        return remittance

    def header(self, body: list[Segment], stop: int) -> dict:
        """BPR, TRN, REF, DTM*405 and the N1 party loops: ``body[1:stop]``."""
        found: dict = {"REF": []}
        party: list | None = None  # [N1 segment, references] of the open party loop
        for segment in body[1:stop]:
            seg_id = segment[2][0]
            if seg_id == "N1":
                self.close_party(found, party)
                party = [segment, []]
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

    def close_party(self, found: dict, party: list | None) -> None:
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

    # -- detail: LX groups, claims, service lines, PLB ------------------------------------

    # -- detail: LX groups, claims, PLB --------------------------------------------------

    def detail(
        self, body: list[Segment], marks: list[int]
    ) -> tuple[tuple[ProviderGroup, ...], tuple[ProviderAdjustment, ...]]:
        """LX/TS3 groups of CLP claims, then PLB. Claims before any LX form group "0".

        ``marks`` are the indexes of LX, CLP, SVC and PLB: each run from one LX, CLP or PLB
        to the next (with the SVCs in between) is one loop.
        """
        groups: list[ProviderGroup] = []
        adjustments: list[ProviderAdjustment] = []
        claims: list[ClaimPayment] = []
        group_start: int | None = None  # index of the LX (or first CLP) of the open group
        ts3: Segment | None = None
        last, count, position = len(body) - 1, len(marks), 0
        while position < count:
            start = marks[position]
            seg_id = body[start][2][0]
            following = position + 1
            while following < count and body[marks[following]][2][0] == "SVC":
                following += 1
            lines = marks[position + 1 : following]
            stop = marks[following] if following < count else last
            position = following
            if seg_id == "CLP":
                if group_start is None:
                    group_start = start
                provider = (element(ts3, 1) or None) if ts3 else None
                bounds = (start, lines, stop)
                claims.append(read_claim(self, body, bounds, provider, self.component))
                continue
            if group_start is not None:
                groups.append(self.group(body, group_start, start, ts3, claims))
                group_start, ts3, claims = None, None, []
            if seg_id == "LX":
                group_start = start
                ts3 = self.group_header(body, start + 1, stop)
            elif seg_id == "PLB":
                adjustments.extend(self.plb(body[start]))
                for segment in body[start + 1 : stop]:
                    self.unexpected(segment, "the summary (after PLB)")
            else:  # service lines outside any claim
                for segment in body[start:stop]:
                    self.unexpected(segment, "the detail (no CLP before it)")
        if group_start is not None:
            groups.append(self.group(body, group_start, last, ts3, claims))
        return tuple(groups), tuple(adjustments)

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

    def group(
        self,
        body: list[Segment],
        start: int,
        stop: int,
        ts3: Segment | None,
        claims: list[ClaimPayment],
    ) -> ProviderGroup:
        lx = body[start]
        numbered = lx[2][0] == "LX"
        count = element(ts3, 4) if ts3 else ""
        return ProviderGroup(
            number=element(lx, 1) if numbered else "0",
            provider_id=(element(ts3, 1) or None) if ts3 else None,
            facility_code=(element(ts3, 2) or None) if ts3 else None,
            fiscal_period_date=self.date(ts3, 3) if ts3 else None,
            claim_count=int(count) if count.isdigit() else None,
            total_charge=self.optional_money(ts3, 5) if ts3 else None,
            claims=tuple(claims),
            source=self.source(body, start, stop),
        )

    def plb(self, segment: Segment) -> list[ProviderAdjustment]:
        """PLB01 provider, PLB02 date, then up to six (reason:reference, amount) pairs."""
        provider, period = element(segment, 1), self.date(segment, 2)
        found = []
        for index in range(3, min(len(segment[2]), 15), 2):
            if not element(segment, index):
                continue
            reason = check_composite(self.reporter, segment, index, self.component, required=False)
            found.append(
                ProviderAdjustment(
                    provider_id=provider,
                    fiscal_period_date=period,
                    reason=reason[0],
                    reference=reason[1] if len(reason) > 1 and reason[1] else None,
                    amount=self.money(segment, index + 1),
                )
            )
        return found
