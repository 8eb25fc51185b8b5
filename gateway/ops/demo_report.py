"""What ``gateway demo`` prints after its cycle: files, pharmacies, amounts, where each went.

Read back from the message store and the delivered files themselves — the report shows what
really happened, not what was meant to. Pharmacy names are businesses, not patients; no claim
content is printed.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from gateway.config.configuration import load_configuration
from gateway.config.settings import Settings
from gateway.ops.demo import Samples
from gateway.store import open_configured
from gateway.store.base import MessageStore
from gateway.store.models import Delivery, DeliveryState, FileStatus, ReceivedFile
from gateway.x12.read.reader import read_835


def print_report(settings: Settings, samples: Samples) -> bool:
    """Print the report; True when every good file was delivered and the bad one refused."""
    root = settings.path.parent
    config = load_configuration(settings.partners_dir)
    members = {str(m.destination): m for m in config.roster}
    store = open_configured(settings)
    try:
        files = list(reversed(store.list_files(limit=1000)))
        print("FILES PULLED FROM THE PBM")
        everything_delivered = True
        for f in files:
            deliveries = store.deliveries_of_file(f.id)
            delivered = [d for d in deliveries if d.state is DeliveryState.DELIVERED]
            everything_delivered &= len(delivered) == len(deliveries)
            print(f"  {f.original_name:<28} {f.status.value:<12} sha256 {f.sha256[:12]}  "
                  + _file_line(store, f, deliveries, delivered))
        print("\nMEMBER PHARMACIES")
        per_member: dict[str, list[Delivery]] = {}
        for d in store.list_deliveries(state=DeliveryState.DELIVERED, limit=10_000):
            per_member.setdefault(d.destination, []).append(d)
        for destination, items in sorted(per_member.items(), key=lambda kv: str(kv[0])):
            member = members.get(destination)
            if member is None:  # an acknowledgment to the PBM, shown below
                continue
            paid, claims = Decimal(0), 0
            for d in items:
                if d.format == "835" and d.location:
                    p, c = _remittance_totals(Path(d.location))
                    paid, claims = paid + p, claims + c
            print(f"  {member.pharmacy_id:<18} {member.name[:30]:<30} NPI {member.npi}  "
                  f"paid ${paid:>10,.2f} on {claims:>3} claims")
            for d in sorted(items, key=lambda d: d.id):
                print(f"      {d.format:<5} → {_relative(d.location, root)}")
        print("\nACKNOWLEDGMENTS SENT TO THE PBM")
        for destination, items in sorted(per_member.items()):
            if destination in members:
                continue
            for d in items:
                print(f"  {d.format:<5} → {_relative(d.location, root)}")
        refused = [f for f in files if f.status is FileStatus.QUARANTINED]
        duplicates = [f for f in files if f.status is FileStatus.DUPLICATE]
        return everything_delivered and len(refused) == 1 and len(duplicates) == 1
    finally:
        store.close()


def _file_line(
    store: MessageStore, f: ReceivedFile, deliveries: list[Delivery], delivered: list[Delivery]
) -> str:
    if f.status is FileStatus.DUPLICATE:
        return f"same bytes as file {f.duplicate_of}: recorded, not processed again"
    if f.status is FileStatus.QUARANTINED:
        return f"kept in the store, refused, negative 999 sent:\n{'':<30}{f.error or ''}"
    parts = [d for d in store.documents_of_file(f.id) if d.ordinal >= 0]  # not the ack
    if not deliveries and parts and all(d.kind.startswith("ncpdp") for d in parts):
        # claim files feed the claims ledger (reconciliation); nothing of them is delivered
        return f"{len(parts)} claim transmission(s) → recorded in the claims ledger"
    return f"{len(parts)} pharmacy part(s) → {len(delivered)}/{len(deliveries)} delivered"


def _remittance_totals(path: Path) -> tuple[Decimal, int]:
    """BPR02 and claim count of a delivered 835, read back from the pharmacy's folder."""
    paid, claims = Decimal(0), 0
    with path.open("rb") as stream:
        for remittance in read_835(stream, file_name=path.name):
            paid += remittance.payment.amount
            claims += len(remittance.claims)
    return paid, claims


def _relative(location: str | None, root: Path) -> str:
    if not location:
        return "-"
    try:
        return str(Path(location).relative_to(root))
    except ValueError:
        return location
