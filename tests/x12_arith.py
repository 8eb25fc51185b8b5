"""An independent X12 835 arithmetic check for tests: balancing and envelope counts.

Written separately from the generator (no shared code) so a generator bug cannot hide itself:
it splits the raw text with the ISA's delimiters and re-adds every amount with Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class SetTotals:
    st02: str
    payee_npi: str = ""
    bpr02: Decimal = Decimal(0)
    claims: int = 0
    paid: Decimal = Decimal(0)
    plb: Decimal = Decimal(0)
    plb_providers: set[str] = field(default_factory=set)
    claim_ids: list[str] = field(default_factory=list)


def split_segments(text: str) -> tuple[list[list[str]], str]:
    """Segments as element lists (the ISA's delimiters), and the component separator."""
    element, component, terminator = text[3], text[104], text[105]
    segments = []
    for raw in text.split(terminator):
        raw = raw.strip("\r\n") if terminator not in "\r\n" else raw
        if raw:
            segments.append(raw.split(element))
    return segments, component


def check_835(text: str) -> list[SetTotals]:
    """Assert every balancing and counting rule; return per-set totals for further checks."""
    segments, comp = split_segments(text)
    d = Decimal
    sets: list[SetTotals] = []
    st_start = group_sets = 0
    clp = svc = None
    lx_expect: tuple[int, Decimal] | None = None
    lx_seen = [0, d(0)]

    def close_line() -> None:
        if svc is not None:
            assert d(svc[2]) - svc_cas == d(svc[3]), f"line does not balance: {svc}"

    def close_claim() -> None:
        close_line()
        if clp is not None:
            assert d(clp[3]) - claim_cas == d(clp[4]), f"claim does not balance: {clp}"
            assert line_paid == d(clp[4]), f"CLP04 != sum SVC03: {clp}"
            assert d(clp[5] or 0) == claim_pr, f"CLP05 != PR adjustments: {clp}"

    def close_lx() -> None:
        if lx_expect is not None:
            assert (lx_seen[0], lx_seen[1]) == lx_expect, "TS304/TS305 do not match the claims"

    for number, seg in enumerate(segments):
        tag = seg[0]
        if tag == "ST":
            st_start, current = number, SetTotals(seg[2])
            sets.append(current)
            group_sets += 1
            clp = svc = lx_expect = None
        elif tag == "BPR":
            current.bpr02 = d(seg[2])
        elif tag == "N1" and seg[1] == "PE":
            current.payee_npi = seg[4]
        elif tag == "LX":
            close_claim()
            clp = svc = None
            close_lx()
            lx_expect, lx_seen = None, [0, d(0)]
        elif tag == "TS3":
            lx_expect = (int(seg[4]), d(seg[5]))
        elif tag == "CLP":
            close_claim()
            clp, svc = seg, None
            claim_cas = claim_pr = line_paid = d(0)
            current.claims += 1
            current.paid += d(seg[4])
            current.claim_ids.append(seg[1])
            lx_seen[0] += 1
            lx_seen[1] += d(seg[3])
        elif tag == "SVC":
            close_line()
            svc, svc_cas = seg, d(0)
            line_paid += d(seg[3])
        elif tag == "CAS":
            amounts = sum((d(seg[i]) for i in range(3, len(seg), 3) if seg[i]), d(0))
            claim_cas += amounts
            if seg[1] == "PR":
                claim_pr += amounts
            if svc is not None:
                svc_cas += amounts
        elif tag == "PLB":
            close_claim()
            clp = svc = None
            current.plb_providers.add(seg[1])
            for i in range(3, len(seg), 2):
                assert comp in seg[i], f"PLB reason is not a composite: {seg}"
                current.plb += d(seg[i + 1])
        elif tag == "SE":
            close_claim()
            close_lx()
            clp = svc = lx_expect = None
            assert int(seg[1]) == number - st_start + 1, f"SE01 wrong in set {current.st02}"
            assert seg[2] == current.st02
            assert current.bpr02 == current.paid - current.plb, f"BPR02 in set {seg[2]}"
            assert current.bpr02 >= 0
        elif tag == "GS":
            gs06 = seg[6]
        elif tag == "GE":
            assert int(seg[1]) == group_sets and seg[2] == gs06
        elif tag == "IEA":
            assert seg[1] == "1" and seg[2] == segments[0][13]
    assert segments[0][0] == "ISA" and segments[-1][0] == "IEA"
    return sets
