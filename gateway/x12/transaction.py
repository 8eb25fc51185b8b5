"""One 835 transaction set (the segments of one ST..SE) into a canonical Remittance.

The reader collects the segments of the open transaction set and hands them here at SE, so
memory is bounded by the largest transaction set. The set is walked once: header (BPR, TRN,
REF, DTM, N1 loops), then detail (LX/TS3 groups, CLP claims with their SVC lines), then PLB.
Each claim's segments are handed to :meth:`TransactionBuilder.claim` as one slice, each line's
to :meth:`TransactionBuilder.line`, so there is one Python call per claim and per line, not
per segment. Dates that are not dates become None (with a warning); amounts that are not
numbers are fatal (``bad-amount``): money must never be guessed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from gateway.model import (
    Adjustment,
    ClaimPayment,
    Envelope,
    Party,
    Payment,
    Person,
    ProviderAdjustment,
    ProviderGroup,
    Reference,
    Remittance,
    ServiceLine,
    SourceRef,
)
from gateway.x12.checks import check_balance, check_composite, element, report_at
from gateway.x12.findings import Level
from gateway.x12.reporter import Reporter
from gateway.x12.tokenizer import SEGMENT_ID, Segment, segment_text

ZERO = Decimal(0)
DETAIL_START = frozenset({"LX", "CLP", "PLB"})
HEADER_IGNORED = frozenset({"CUR", "N2", "N3", "N4", "PER", "RDM"})  # kept in the source only
CLAIM_IGNORED = frozenset({"MIA", "MOA", "AMT", "QTY", "PER"})
LINE_IGNORED = frozenset({"QTY"})
NUMBER_CHARS = "0123456789.-"


class TransactionBuilder:
    """Builds Remittances for one file; keeps a small cache of parsed dates."""

    def __init__(self, reporter: Reporter, file_name: str | None) -> None:
        self.reporter = reporter
        self.file_name = file_name
        self.dates: dict[str, date | None] = {}
        self.component = ":"

    # -- values ---------------------------------------------------------------------------

    def money(self, segment: Segment, index: int) -> Decimal:
        """A required amount (R type): digits, optional sign and decimal point."""
        text = element(segment, index)
        if text and not text.strip(NUMBER_CHARS):
            try:
                return Decimal(text)
            except InvalidOperation:
                pass
        name = f"{segment[2][0]}{index:02d}"
        what = f"{name} is empty" if not text else f"{name} {text[:20]!r} is not an amount"
        report_at(
            self.reporter,
            segment,
            "bad-amount",
            what,
            level=Level.SEGMENT,
            element=name,
            fix="ask the sender to correct the amount; money is never guessed",
        )
        return ZERO

    def optional_money(self, segment: Segment, index: int) -> Decimal | None:
        return self.money(segment, index) if element(segment, index) else None

    def date(self, segment: Segment, index: int) -> date | None:
        """CCYYMMDD, or None (with a warning) when absent or not a real date."""
        text = element(segment, index)
        if not text:
            return None
        try:
            return self.dates[text]
        except KeyError:
            pass
        value: date | None = None
        if len(text) == 8 and text.isdigit():
            try:
                value = date(int(text[:4]), int(text[4:6]), int(text[6:]))
            except ValueError:
                value = None
        if value is None:
            report_at(
                self.reporter,
                segment,
                "bad-date",
                f"{segment[2][0]}{index:02d} {text[:10]!r} is not a date (CCYYMMDD); read as empty",
                level=Level.SEGMENT,
                fatal=False,
            )
            return None
        if len(self.dates) > 10_000:
            self.dates.clear()
        self.dates[text] = value
        return value

    def unexpected(self, segment: Segment, where: str) -> None:
        seg_id = segment[2][0]
        if not SEGMENT_ID.fullmatch(seg_id):
            return  # the tokenizer already reported the invalid id
        report_at(
            self.reporter,
            segment,
            "unexpected-segment",
            f"segment {seg_id} is not valid in {where} of an 835",
            level=Level.SEGMENT,
            fix="ask the sender to correct the file",
        )

    def source(self, body: list[Segment], start: int, stop: int) -> SourceRef:
        """Segments ``body[start:stop]``; they end where ``body[stop]`` begins."""
        return SourceRef(
            self.file_name, body[start][0], body[stop - 1][0], body[start][1], body[stop][1]
        )

    # -- the transaction set --------------------------------------------------------------

    def build(self, body: list[Segment], envelope: Envelope, component: str) -> Remittance | None:
        """``body`` is ST..SE inclusive. None when BPR or a party is missing (reported)."""
        self.component = component
        header, index = self.header(body)
        groups, adjustments = self.detail(body, index)
        se = body[-1]
        end = se[1] + len(segment_text(se))
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

    def header(self, body: list[Segment]) -> tuple[dict, int]:
        """BPR, TRN, REF, DTM*405 and the N1 party loops, up to the first LX, CLP or PLB."""
        found: dict = {"REF": []}
        party: list | None = None  # [N1 segment, references] of the open party loop
        index, last = 1, len(body) - 1
        while index < last:
            segment = body[index]
            seg_id = segment[2][0]
            if seg_id in DETAIL_START:
                break
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
            index += 1
        self.close_party(found, party)
        return found, index

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

    def detail(
        self, body: list[Segment], index: int
    ) -> tuple[tuple[ProviderGroup, ...], tuple[ProviderAdjustment, ...]]:
        """LX/TS3 groups of CLP claims, then PLB. Claims before any LX form group "0"."""
        groups: list[ProviderGroup] = []
        adjustments: list[ProviderAdjustment] = []
        claims: list[ClaimPayment] = []
        group_start: int | None = None  # index of the LX (or first CLP) of the open group
        ts3: Segment | None = None
        claim_start: int | None = None
        last = len(body) - 1
        while index <= last:
            segment = body[index]
            seg_id = segment[2][0] if index < last else "SE"
            if seg_id in ("CLP", "LX", "PLB", "SE") and claim_start is not None:
                provider = element(ts3, 1) or None if ts3 else None
                claims.append(self.claim(body, claim_start, index, provider))
                claim_start = None
            if seg_id in ("LX", "PLB", "SE") and group_start is not None:
                groups.append(self.group(body, group_start, index, ts3, claims))
                group_start, ts3, claims = None, None, []
            if seg_id == "CLP":
                claim_start = index
                if group_start is None:
                    group_start = index
            elif seg_id == "LX":
                group_start = index
            elif seg_id == "PLB":
                adjustments.extend(self.plb(segment))
            elif seg_id in ("TS3", "TS2") and group_start is not None and claim_start is None:
                ts3 = segment if seg_id == "TS3" else ts3
            elif seg_id != "SE" and claim_start is None:
                self.unexpected(segment, "the detail")
            index += 1
        return tuple(groups), tuple(adjustments)

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
        return ProviderGroup(
            number=element(lx, 1) if numbered else "0",
            provider_id=element(ts3, 1) or None if ts3 else None,
            facility_code=element(ts3, 2) or None if ts3 else None,
            fiscal_period_date=self.date(ts3, 3) if ts3 else None,
            claim_count=int(element(ts3, 4)) if ts3 and element(ts3, 4).isdigit() else None,
            total_charge=self.optional_money(ts3, 5) if ts3 else None,
            claims=tuple(claims),
            source=self.source(body, start, stop),
        )

    def claim(
        self, body: list[Segment], start: int, stop: int, provider_id: str | None
    ) -> ClaimPayment:
        """Loop 2100: CLP and its segments ``body[start:stop]``, service lines included."""
        clp = body[start]
        adjustments: list[Adjustment] = []
        references: list[Reference] = []
        others: list[Person] = []
        lines: list[ServiceLine] = []
        patient = npi = None
        dates: dict[str, date | None] = {}
        line_start: int | None = None
        for index in range(start + 1, stop):
            segment = body[index]
            seg_id = segment[2][0]
            if seg_id == "SVC":
                if line_start is not None:
                    lines.append(self.line(body, line_start, index))
                line_start = index
            elif line_start is not None:
                continue  # belongs to the open service line
            elif seg_id == "CAS":
                adjustments.extend(self.cas(segment))
            elif seg_id == "NM1":
                entity = element(segment, 1)
                if entity == "82":
                    if element(segment, 8) == "XX":
                        npi = element(segment, 9) or None
                elif entity == "QC":
                    patient = _person(segment)
                else:
                    others.append(_person(segment))
            elif seg_id == "DTM":
                dates[element(segment, 1)] = self.date(segment, 2)
            elif seg_id == "REF":
                references.append(Reference(element(segment, 1), element(segment, 2)))
            elif seg_id not in CLAIM_IGNORED:
                self.unexpected(segment, "a claim (loop 2100)")
        if line_start is not None:
            lines.append(self.line(body, line_start, stop))
        claim = ClaimPayment(
            claim_id=element(clp, 1),
            status=element(clp, 2),
            billed=self.money(clp, 3),
            paid=self.money(clp, 4),
            patient_responsibility=self.optional_money(clp, 5),
            filing_indicator=element(clp, 6) or None,
            payer_claim_control_number=element(clp, 7) or None,
            facility_code=element(clp, 8) or None,
            frequency_code=element(clp, 9) or None,
            patient=patient,
            rendering_provider_npi=npi,
            statement_start=dates.get("232"),
            statement_end=dates.get("233"),
            received_date=dates.get("050"),
            provider_id=provider_id,
            adjustments=tuple(adjustments),
            service_lines=tuple(lines),
            references=tuple(references),
            others=tuple(others),
            source=self.source(body, start, stop),
        )
        if lines:
            # CLP03 - all CAS = CLP04 and SVC02 - line CAS = SVC03 give this, which holds
            # even when CLP03 is not the sum of SVC02 (TR3 1.10.2.1).
            check_balance(
                self.reporter,
                clp,
                "unbalanced-claim",
                "CLP04 = sum(SVC03) - sum(claim-level CAS)",
                sum((line.paid for line in lines), ZERO)
                - sum((adj.amount for adj in adjustments), ZERO),
                claim.paid,
            )
        return claim

    def line(self, body: list[Segment], start: int, stop: int) -> ServiceLine:
        """Loop 2110: SVC and its DTM, CAS, REF, AMT, LQ segments ``body[start:stop]``."""
        svc = body[start]
        product = check_composite(self.reporter, svc, 1, self.component, required=True)
        adjustments: list[Adjustment] = []
        references: list[Reference] = []
        remarks: list[str] = []
        dates: dict[str, date | None] = {}
        control = allowed = None
        for index in range(start + 1, stop):
            segment = body[index]
            seg_id = segment[2][0]
            if seg_id == "CAS":
                adjustments.extend(self.cas(segment))
            elif seg_id == "DTM":
                dates[element(segment, 1)] = self.date(segment, 2)
            elif seg_id == "REF":
                if element(segment, 1) == "6R":
                    control = element(segment, 2)
                else:
                    references.append(Reference(element(segment, 1), element(segment, 2)))
            elif seg_id == "AMT":
                if element(segment, 1) == "B6":
                    allowed = self.money(segment, 2)
            elif seg_id == "LQ":
                remarks.append(element(segment, 2))
            elif seg_id not in LINE_IGNORED:
                self.unexpected(segment, "a service line (loop 2110)")
        line = ServiceLine(
            product_qualifier=product[0],
            product_id=product[1] if len(product) > 1 else "",
            modifiers=tuple(product[2:6]),
            billed=self.money(svc, 2),
            paid=self.money(svc, 3),
            revenue_code=element(svc, 4) or None,
            units=self.optional_money(svc, 5),
            service_date=dates.get("472") or dates.get("150"),
            service_end_date=dates.get("151"),
            line_control_number=control,
            allowed_amount=allowed,
            adjustments=tuple(adjustments),
            remark_codes=tuple(remarks),
            references=tuple(references),
        )
        check_balance(
            self.reporter,
            svc,
            "unbalanced-line",
            "SVC02 - sum(CAS) = SVC03",
            line.billed - sum((adj.amount for adj in adjustments), ZERO),
            line.paid,
        )
        return line

    def cas(self, segment: Segment) -> list[Adjustment]:
        """CAS01 group, then up to six reason/amount/quantity triplets."""
        group = element(segment, 1)
        found = []
        for index in range(2, min(len(segment[2]), 20), 3):
            reason = element(segment, index)
            if reason:
                found.append(
                    Adjustment(
                        group,
                        reason,
                        self.money(segment, index + 1),
                        self.optional_money(segment, index + 2),
                    )
                )
        return found

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


def _person(segment: Segment) -> Person:
    return Person(
        entity_code=element(segment, 1),
        last_name=element(segment, 3) or None,
        first_name=element(segment, 4) or None,
        id_qualifier=element(segment, 8) or None,
        identifier=element(segment, 9) or None,
    )
