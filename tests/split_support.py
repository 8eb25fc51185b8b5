"""Helpers for the splitter and router tests: generated files, rosters, part checks."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from x12_arith import check_835

from gateway.config.members import load_roster
from gateway.synth.pharmacies import Pharmacy
from gateway.synth.x12_835 import Spec, Summary, write_835_file
from gateway.x12.split.parts import SplitResult

HEADER = "pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats\n"


def generate(directory: Path, name: str = "in.835", **spec: object) -> tuple[Path, Summary]:
    path = directory / name
    summary = write_835_file(str(path), Spec(**spec))  # type: ignore[arg-type]
    return path, summary


def write_members(
    directory: Path, pharmacies: Iterable[Pharmacy], *, inactive: Iterable[str] = (),
    formats: str = "835|csv",
) -> Path:
    """A members.csv for generated pharmacies; ``inactive`` lists pharmacy ids."""
    inactive = set(inactive)
    rows = [
        f"{p.pharmacy_id},{p.name},{p.npi},{p.ncpdp_id},{p.tin},"
        f"{'false' if p.pharmacy_id in inactive else 'true'},"
        f"folder:{directory}/pharmacies/{p.pharmacy_id},{formats}\n"
        for p in pharmacies
    ]
    path = directory / "members.csv"
    path.write_text(HEADER + "".join(rows))
    load_roster(path)  # the helper itself must write a valid roster
    return path


def check_parts(source: Path, result: SplitResult) -> None:
    """Every part balances and counts right; together they are exactly the original.

    Claims: the same claim ids and CLP04 amounts, none lost, none doubled. Money: per
    original transaction set, the parts' net shares plus the PSAO's own PLBs give BPR02.
    """
    original = check_835(source.read_text(encoding="latin-1"))
    claim_ids: list[str] = []
    paid = Decimal(0)
    net_by_set: dict[str, Decimal] = {}
    for part in result.parts:
        sets = check_835(Path(part.location).read_text(encoding="latin-1"))
        assert len(sets) == 1
        written = sets[0]
        assert written.st02 == part.source.control_number
        assert written.claims == part.claim_count and written.paid == part.claims_paid
        assert written.bpr02 == part.payment
        claim_ids += written.claim_ids
        paid += written.paid
        net_by_set.setdefault(part.source.control_number, Decimal(0))
        net_by_set[part.source.control_number] += part.net
    assert sorted(claim_ids) == sorted(c for s in original for c in s.claim_ids)
    assert paid == sum((s.paid for s in original), Decimal(0))
    for totals in original:
        psao = sum(
            (a.amount for a in result.psao_adjustments if a.control_number == totals.st02),
            Decimal(0),
        )
        assert net_by_set.get(totals.st02, Decimal(0)) - psao == totals.bpr02
