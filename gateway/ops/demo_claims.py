"""The demo pharmacies' own claim files, and the reconciliation summary the demo ends with.

The PSAO also receives its members' NCPDP claims (here one batch of B1 requests and one of
the PBM's responses, dropped by the pharmacies' switch). They are written from the claims
the demo's 835s pay, with a twist so the summary has something to say: every seventh claim
was adjudicated 5.00 higher than the PBM then paid (short-paid), and each pharmacy has one
more claim that no 835 pays yet (unpaid). Reversals and denials in the 835s have no claim
behind them here, so they show as paid without a matching claim. All synthetic.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from gateway.config.settings import Settings
from gateway.model import ClaimPayment, TransactionHeader
from gateway.ncpdp import batch, writer
from gateway.ncpdp.model import RequestHeader, ResponseHeader
from gateway.ops.demo import Samples, folder_inbound
from gateway.reconcile.ledger import Scope
from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.report import reconcile
from gateway.reconcile.site import load_site
from gateway.store import open_configured
from gateway.x12.read.reader import iter_835

PARTNER_ID = "demo-claims"
BIN, PCN = "999001", "DEMOPCN"
RECONCILE_TOML = f"""# The demo's one PBM, on both sides: its 835s and the claims billed to its BIN.
[[pbm]]
id = "demo-pbm"
name = "Example PBM One (synthetic)"
partners = ["demo-pbm"]
bins = ["{BIN}"]
"""
PERIOD = (date(2025, 12, 1), date(2026, 1, 31))
AS_OF = date(2026, 1, 31)


def add_claims_partner(root: Path, samples: Samples) -> None:
    """The pharmacies' claim files (NCPDP) in their own drop folder under ``root``, a partner
    that the daemon pulls them from, and the PBM's rules (``mappings/reconcile.toml``)."""
    paid = [root / "pbm" / "outbound" / f.name for f in samples.files[:2]]  # the good two
    write_claim_files(paid, root / "claims" / "outbound")
    (root / "partners" / "pbms" / f"{PARTNER_ID}.toml").write_text(
        f'id = "{PARTNER_ID}"\nname = "Member pharmacies\' claims (synthetic)"\n\n'
        f"[inbound]\n{folder_inbound(root / 'claims')}\n"
        '[files]\npatterns = ["*.ncpdp"]\n')
    (root / "mappings").mkdir(exist_ok=True)
    (root / "mappings" / "reconcile.toml").write_text(RECONCILE_TOML)


def write_claim_files(remittances: list[Path], outbound: Path) -> None:
    """One request batch and one response batch for the claims the 835s pay."""
    outbound.mkdir(parents=True, exist_ok=True)
    with (outbound / "claims-20260105.ncpdp").open("wb") as requests, \
            (outbound / "responses-20260105.ncpdp").open("wb") as responses:
        for kind, out in (("T", requests), ("R", responses)):
            out.write(writer.record_bytes(batch.BatchHeader(
                kind, "DEMOSWITCH", "1", "20260105", "0700", "T", "12", "EXAMPLEPSAO")))
        count = 0
        for path in remittances:
            count = _claims_of(path, count, requests, responses)
        trailer = batch.BatchTrailer("1", str(count + 2), "")
        requests.write(writer.record_bytes(trailer))
        responses.write(writer.record_bytes(trailer))


def _claims_of(path: Path, count: int, requests: BinaryIO, responses: BinaryIO) -> int:
    payee = ""
    last: dict[str, tuple[str, date]] = {}
    with path.open("rb") as stream:
        for item in iter_835(stream):
            if isinstance(item, TransactionHeader):
                payee = item.payee.npi or ""
            elif isinstance(item, ClaimPayment) and item.status == "1":
                npi = item.rendering_provider_npi or payee
                line = item.service_lines[0]
                dos = line.service_date or date(2026, 1, 5)
                count += 1
                short = Decimal("5.00") if count % 7 == 0 else Decimal(0)
                _write(requests, responses, count, npi, item.claim_id, line.product_id, dos,
                       item.billed, item.paid + short)
                last[npi] = (item.claim_id, dos)
    for npi, (claim_id, dos) in sorted(last.items()):  # one claim per pharmacy not paid yet
        count += 1
        _write(requests, responses, count, npi, f"9{claim_id[1:]}", "99999000101", dos,
               Decimal("42.00"), Decimal("38.50"))
    return count


def _write(requests: BinaryIO, responses: BinaryIO, count: int, npi: str, rx: str, ndc: str,
           dos: date, billed: Decimal, paid: Decimal) -> None:
    reference = f"{count:010d}"
    header = RequestHeader(BIN, "D0", "B1", PCN, "1", "01", npi, dos, "DEMOSW0001")
    claim = writer.segment("07", [("EM", "1"), ("D2", rx), ("E1", "03"), ("D7", ndc),
                                  ("D3", 0), ("D5", 30), ("D6", "1")])
    pricing = writer.segment("11", [("DU", billed)])
    request = writer.transmission(header, [], [[claim, pricing]])
    reply = ResponseHeader("D0", "B1", "1", "A", "01", npi, dos)
    response = writer.transmission(reply, [], [[
        writer.segment("21", [("AN", "P"), ("F3", f"DEMOAUTH{count:06d}")]),
        writer.segment("22", [("EM", "1"), ("D2", rx)]),
        writer.segment("23", [("F9", paid)])]])
    requests.write(writer.record_bytes(batch.BatchDetail.of(reference, request)))
    responses.write(writer.record_bytes(batch.BatchDetail.of(reference, response)))


def print_reconciliation(settings: Settings) -> None:
    """Each demo pharmacy's claims against what the PBM paid, from the claims ledger."""
    site = load_site(settings)
    print("\nRECONCILIATION (claims ledger: every claim matched to what the PBM paid)")
    with open_configured(settings, create=False) as store, open_ledger(store) as ledger:
        for member in site.roster:
            scope = Scope(member.pharmacy_id, None, *PERIOD, AS_OF)
            summary = reconcile(ledger, scope, site.rules)
            counts = {name: t for name, t in summary.by_outcome.items() if t.count}
            text = ", ".join(f"{t.count} {name}" for name, t in counts.items())
            short = counts.get("short-paid")
            dir_total = sum(t.dir_total for t in summary.by_pbm.values())
            fees = sum(t.plb.get("fee", Decimal(0)) for t in summary.by_pbm.values())
            print(f"  {member.pharmacy_id:<18} {summary.claims:>3} claims: {text}")
            print(f"      short by ${-short.variance if short else 0:,.2f}, DIR "
                  f"${dir_total:,.2f}, PLB fees ${fees:,.2f}")
    print(f"  Full report: gateway reconcile --config {settings.path} --pharmacy ID "
          f"--from {PERIOD[0]} --to {PERIOD[1]} --format html --out report.html")
