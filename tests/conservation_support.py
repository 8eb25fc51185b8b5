"""Helpers for the conservation tests: a daemon workspace for a generator pool, files dropped
in batches, and what the daemon did read back from the outside — the pharmacies' folders, the
held deliveries' payloads, the files' states and the PBM's 999s — never from its own tallies.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.errors import InputError
from gateway.ops.demo import Samples, folder_inbound, member_id, write_workspace
from gateway.store import open_configured
from gateway.store.base import MessageStore
from gateway.store.models import DeliveryState
from gateway.synth.x12_shapes import Pool, Shape
from gateway.x12.read.reader import read_835

ClaimKey = tuple[str, str, str, Decimal]  # (npi, CLP01, CLP07, CLP04)


@dataclass
class Workspace:
    root: Path
    config: Path
    pool: Pool

    @property
    def outbound(self) -> Path:
        return self.root / "pbm" / "outbound"

    @property
    def acks(self) -> Path:
        return self.root / "pbm" / "inbound"

    def inbox(self, npi: str) -> Path:
        member = next(p for p in self.pool.members if p.npi == npi)
        return self.root / "pharmacies" / member_id(member)

    def store(self) -> MessageStore:
        return open_configured(load_settings(self.config))


def workspace(root: Path, pool: Pool, *, workers: int = 2) -> Workspace:
    """A folder PBM (999s back to ``pbm/inbound``) and one folder per member pharmacy."""
    (root / "pbm" / "outbound").mkdir(parents=True)
    (root / "pbm" / "inbound").mkdir()
    samples = Samples(files=(), pharmacies=pool.members, psao_npi=pool.psao.npi)
    destinations = {p.npi: f"folder:{root / 'pharmacies' / member_id(p)}" for p in pool.members}
    config = write_workspace(
        root, samples, inbound=folder_inbound(root / "pbm", settle_seconds=0.0),
        outbound=f'type = "folder"\npath = "{root / "pbm" / "inbound"}"\n',
        destinations=destinations, workers=workers)
    return Workspace(root, config, pool)


def drop(ws: Workspace, shapes: Iterable[Shape]) -> None:
    """Put files in the PBM's folder, already settled (their mtime in the past)."""
    past = time.time() - 60
    for shape in shapes:
        path = ws.outbound / shape.name
        path.write_bytes(shape.data)
        os.utime(path, (past, past))


def run_once(ws: Workspace) -> int:
    """One daemon cycle (``gateway run --once``): poll, parse, route, deliver, exit."""
    return Daemon(load_settings(ws.config)).run(once=True)


def claims_of(data_or_path: bytes | Path, npi: str = "") -> Counter[ClaimKey]:
    """The claims of an 835 (every set), keyed (npi, CLP01, CLP07, CLP04)."""
    data = data_or_path.read_bytes() if isinstance(data_or_path, Path) else data_or_path
    found: Counter[ClaimKey] = Counter()
    try:
        remittances = list(read_835(io.BytesIO(data)))
    except InputError as exc:  # a part the gateway wrote must read: a failure, not an error
        raise AssertionError(f"an 835 the gateway delivered or holds does not read: {exc}") from exc
    for remittance in remittances:
        for claim in remittance.claims:
            found[(npi, claim.claim_id, claim.payer_claim_control_number or "", claim.paid)] += 1
    return found


def delivered(ws: Workspace) -> Counter[ClaimKey]:
    """Every claim in every member pharmacy's folder, keyed by the folder's pharmacy."""
    found: Counter[ClaimKey] = Counter()
    for member in ws.pool.members:
        folder = ws.inbox(member.npi)
        for path in sorted(folder.glob("*.835")) if folder.is_dir() else []:
            found += claims_of(path, member.npi)
    return found


def delivered_plbs(ws: Workspace) -> Counter[tuple[str, str, str, str, Decimal]]:
    """Every PLB adjustment in every member's folder, keyed (folder's NPI, PLB01, reason,
    reference, amount) — without the balance the splitter carries forward for a negative
    share (PLB FB whose reference is the set's TRN02: the gateway's, not the payer's)."""
    found: Counter[tuple[str, str, str, str, Decimal]] = Counter()
    for member in ws.pool.members:
        folder = ws.inbox(member.npi)
        for path in sorted(folder.glob("*.835")) if folder.is_dir() else []:
            for remittance in read_835(io.BytesIO(path.read_bytes())):
                for plb in remittance.provider_adjustments:
                    if (plb.reason, plb.reference) == ("FB", remittance.payment.trace_number):
                        continue
                    found[(member.npi, plb.provider_id, plb.reason, plb.reference or "",
                           plb.amount)] += 1
    return found


def held(store: MessageStore) -> tuple[Counter[tuple[str, str, Decimal]], list[str]]:
    """The claims of every held delivery (by CLP01, CLP07, CLP04) and their reasons."""
    found: Counter[tuple[str, str, Decimal]] = Counter()
    reasons = []
    for delivery in store.list_deliveries(state=DeliveryState.HELD, limit=1 << 20):
        if delivery.format != "835":
            continue
        payload = delivery.payload_sha256 or store.get_document(delivery.document_id).payload_sha256
        assert payload is not None
        with store.open_payload(payload) as stream:
            data = stream.read()
        found += Counter({k[1:]: n for k, n in claims_of(data).items()})
        reasons += [e.reason for e in store.events("delivery", delivery.id) if e.action == "held"]
    return found, reasons


def accepted_sets(ws: Workspace, name: str, file_id: int) -> tuple[int, int]:
    """(sets accepted, sets not) by every 999 the PBM got for one file: a set is accepted
    when its IK5 says A or E and its group's AK9 does not reject the group."""
    accepted = rejected = 0
    for path in ws.acks.glob(f"*{name}.{file_id}[.]*"):
        text = path.read_text(errors="replace")
        sets: list[str] = []
        for segment in re.split(r"[~\n]", text):
            fields = re.split(r"[*|^]", segment.strip())
            if fields[0] == "IK5":
                sets.append(fields[1] if len(fields) > 1 else "")
            elif fields[0] == "AK9":
                group_ok = fields[1:2] != ["R"]
                ok = sum(group_ok and status in ("A", "E") for status in sets)
                accepted += ok
                rejected += len(sets) - ok
                sets = []
    return accepted, rejected
