"""Reconciliation tests' common steps: write a scenario, receive its files into a real store,
take them into the ledger (as the pipeline does when a file is routed), read the truth."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config.members import Roster, load_roster
from gateway.reconcile.config import ReconcileConfig, load_reconcile_config
from gateway.reconcile.ledger import Ledger, Scope
from gateway.reconcile.pharmacies import roster_pharmacy_of
from gateway.store.base import MessageStore
from gateway.synth.recon import ReconSpec
from gateway.synth.recon_files import WrittenFile, write_scenario


@dataclass
class Loaded:
    spec: ReconSpec
    out: Path
    config: ReconcileConfig
    roster: Roster
    files: list[WrittenFile]

    def scope(self, pharmacy: str | None = None, pbm: str | None = None) -> Scope:
        start, end = self.spec.period
        return Scope(pharmacy, pbm, start, end, self.spec.as_of)

    def truth_rows(self) -> list[dict[str, str]]:
        with (self.out / "truth" / "claims.csv").open(newline="") as handle:
            return list(csv.DictReader(handle))

    def truth_summary(self) -> dict[str, Any]:
        return json.loads((self.out / "truth" / "summary.json").read_text())


def receive(store: MessageStore, path: Path, partner: str):
    data = path.read_bytes()
    return store.record_received(partner=partner, remote_path=str(path), original_name=path.name,
                                 size=len(data), mtime=None,
                                 sha256=hashlib.sha256(data).hexdigest(),
                                 payload_path=path).file


def load_scenario(store: MessageStore, ledger: Ledger, spec: ReconSpec, out: Path,
                  files: list[WrittenFile] | None = None) -> Loaded:
    """Write the scenario (unless ``files`` are given) and take every file into the ledger."""
    files = files if files is not None else write_scenario(spec, out)
    config = load_reconcile_config(out)
    roster = load_roster(out / "members.csv")
    pharmacy_of = roster_pharmacy_of(roster)
    for written in files:
        received = receive(store, written.path, written.partner)
        with store.open_payload(received.sha256) as stream:
            ledger.record_file(received, stream, config, pharmacy_of)
    return Loaded(spec, out, config, roster, files)
