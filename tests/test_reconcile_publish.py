"""Scheduled reconciliation reports: queued for every active member on the configured day and
delivered through the real delivery worker into the member's folder — once, however often
the daemon asks (both back ends)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

from recon_support import load_scenario

from gateway.config.members import parse_destination
from gateway.daemon.deliver import DeliveryWorker, run_until_idle
from gateway.reconcile.config import ReportSchedule
from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.publish import ReportPublisher
from gateway.store import DeliveryState
from gateway.synth.recon import ReconSpec
from gateway.transport.folder import FolderSink


def test_weekly_reports_are_delivered_once_to_each_member(store, tmp_path):
    spec = ReconSpec(seed=11, pharmacies=2, claims=80, weeks=3)
    with open_ledger(store) as ledger:
        loaded = load_scenario(store, ledger, spec, tmp_path / "scenario")
    rules = dataclasses.replace(loaded.config,
                                reports=ReportSchedule("weekly", 2, ("html", "csv", "json")))
    week = (spec.start, spec.start + timedelta(days=6))  # Monday to Sunday
    tuesday, wednesday = week[1] + timedelta(days=2), week[1] + timedelta(days=3)
    publisher = ReportPublisher(store, rules, loaded.roster, "test-daemon")
    publisher.publish_due(tuesday)  # queues the week before (weekday = Wednesday)
    before = len(store.list_deliveries(limit=1000))
    queued = publisher.publish_due(wednesday)
    assert queued == len(loaded.roster) * 3 == len(store.list_deliveries(limit=1000)) - before
    assert publisher.publish_due(wednesday) == 0  # remembered
    again = ReportPublisher(store, rules, loaded.roster, "other-daemon")  # a restart
    assert again.publish_due(wednesday) == 0  # the ledger knows

    def sink(destination: str) -> FolderSink:
        parsed = parse_destination(destination)
        assert parsed is not None
        return FolderSink(parsed.path)

    outcomes = run_until_idle(DeliveryWorker(store, sink, worker_id="w1"))
    reports = [o for o in outcomes if o.state == "delivered"]
    assert len(reports) >= queued
    for member in loaded.roster:
        inbox = Path(member.destination.path)
        name = f"reconciliation-{member.pharmacy_id}-{week[0]}-{week[1]}"
        summary = json.loads((inbox / f"{name}.json").read_text())
        assert summary["pharmacy"] == member.pharmacy_id and summary["claims"] > 0
        assert summary["period"] == {"from": str(week[0]), "to": str(week[1])}
        html = (inbox / f"{name}.html").read_text()
        assert "<svg" in html and member.pharmacy_id in html
        assert (inbox / f"{name}.csv").read_text().startswith("pharmacy,pbm,rx_number")
    delivered = store.list_deliveries(state=DeliveryState.DELIVERED, limit=1000)
    assert len(delivered) == before + queued
