"""Retention with a fake clock, on SQLite and on PostgreSQL: exactly what the policy says
goes, dead letters stay and are reported, and a six-year-old file still has its trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lifecycle_support import delivered_file, payload_exists

from gateway.cli.queue import trace_file
from gateway.config.retention import RetentionPolicy
from gateway.errors import StoreError
from gateway.lifecycle.prune import due, last_run, prune
from gateway.service import Queries
from gateway.store import DeliveryState
from gateway.store.operator import FileQuery
from gateway.store.retention import open_retention

POLICY = RetentionPolicy(payload_days=90, rollup_days=365, audit_years=6)


def _payloads(store, file_id):
    shas = {store.get_file(file_id).sha256}
    shas |= {d.payload_sha256 for d in store.documents_of_file(file_id)}
    return shas


def test_payloads_go_90_days_after_the_last_delivery_and_dead_letters_stay(store, tmp_path):
    done = delivered_file(store, tmp_path, "done.835")
    dead = delivered_file(store, tmp_path, "dead.835", dead=1)
    now = datetime.now(UTC)
    dry = prune(store, POLICY, now + timedelta(days=89))
    assert (dry.payloads, dry.rolled_files, dry.expired_files) == (0, 0, 0)
    plan = prune(store, POLICY, now + timedelta(days=91), dry_run=True)
    assert plan.payloads == 3 and plan.payload_bytes > 0  # the raw file and its two parts
    assert all(payload_exists(store, sha) for sha in _payloads(store, done))  # dry: nothing
    report = prune(store, POLICY, now + timedelta(days=91))
    assert (report.payloads, report.payload_bytes) == (plan.payloads, plan.payload_bytes)
    assert not any(payload_exists(store, sha) for sha in _payloads(store, done))
    assert all(payload_exists(store, sha) for sha in _payloads(store, dead))
    assert report.kept["dead deliveries"] == 1
    assert report.dead_letters == [d.id for d in store.deliveries_of_file(dead)
                                   if d.state is DeliveryState.DEAD]
    assert any("dead letters: D" in line for line in report.lines())
    with open_retention(store) as retention:
        assert retention.pruned(store.get_file(done).sha256) is not None
    assert prune(store, POLICY, now + timedelta(days=91)).payloads == 0  # idempotent
    assert last_run(store) is not None


def test_a_payload_shared_with_a_younger_file_waits_for_it(store, tmp_path):
    first = delivered_file(store, tmp_path, "a.835", parts=1)
    later = datetime.now(UTC) + timedelta(days=50)
    report = prune(store, POLICY, later + timedelta(days=41))
    assert report.payloads == 2 and not payload_exists(store, store.get_file(first).sha256)


def test_rolled_up_file_still_traces_and_goes_after_six_years(store, tmp_path, capsys):
    old = delivered_file(store, tmp_path, "old.835")
    dead = delivered_file(store, tmp_path, "dead.835", dead=2)
    deliveries = store.deliveries_of_file(old)
    events_before = {d.id: [e.action for e in store.events("delivery", d.id)]
                     for d in deliveries}
    now = datetime.now(UTC)
    rolled = prune(store, POLICY, now + timedelta(days=366))
    assert rolled.rolled_files == 1 and rolled.rolled_deliveries == 2
    assert store.deliveries_of_file(old) == [] and store.events("file", old) == []
    assert len(store.deliveries_of_file(dead)) == 2  # a dead letter's file is not rolled
    six_years = now.replace(year=now.year + 6) - timedelta(days=2)
    prune(store, POLICY, six_years)
    capsys.readouterr()
    trace_file(store, old)
    out = capsys.readouterr().out
    assert f"F{old}" in out and "received" in out
    for d in deliveries:
        assert f"D{d.id} -> {d.destination}" in out and "delivered" in out
        assert all(action in out for action in events_before[d.id])
    assert "payload pruned" in out
    with open_retention(store) as retention:
        assert retention.file_of_delivery(deliveries[0].id) == old
    hits = Queries(store).trace(FileQuery(pharmacy="1234567893"))  # the search, too
    assert {d.id for h in hits if h.file.id == old for d in h.document.deliveries} == {
        d.id for d in deliveries}
    gone = prune(store, POLICY, now.replace(year=now.year + 6) + timedelta(days=2))
    assert gone.expired_files == 1
    with pytest.raises(StoreError):
        store.get_file(old)
    assert store.get_file(dead).id == dead  # dead letters: never, whatever their age


def test_events_stay_append_only_outside_a_prune(store, tmp_path):
    file_id = delivered_file(store, tmp_path, "x.835", parts=1)
    with (open_retention(store) as retention, pytest.raises(Exception, match="append-only"),
          retention._db.transaction() as db):  # no disposal open: the trigger refuses
        db.execute(retention._sql["delete_trail_events"], {"file_id": file_id})
    assert store.events("file", file_id)


def test_the_daily_run_is_due_once_a_day_after_its_time():
    at = RetentionPolicy().daily_at
    morning = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert due(at, morning, None, UTC)
    assert not due(at, morning, morning - timedelta(hours=1), UTC)  # ran after 03:30 yesterday
    assert due(at, morning + timedelta(hours=1), morning - timedelta(hours=1), UTC)
    assert not due(None, morning, None, UTC)
