"""Conservation enforced at run time (issue 10, Build 3), through one daemon cycle: when the
parts do not account for what the reader read — a splitter that loses a part, or two parts
under one delivery key — or when a stage raises, the file is quarantined with the reason, the
quarantine metric and alert follow, nothing of the file is queued and the 999 accepts none of
its sets. Fails on the main of 2026-12-02 (a4ec468): the lost part's money is silently gone
and the PBM gets an accepting 999; a raising stage leaves the file ``parsed``.
"""

from __future__ import annotations

import dataclasses

import pytest
from conservation_support import accepted_sets, delivered, drop, workspace
from daemon_support import sample

import gateway.daemon.route as route
from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.daemon.metrics import parse_exposition
from gateway.store.models import FileStatus
from gateway.synth.x12_shapes import generate, make_pool

POOL = make_pool(7)
# A clean file: one interchange, no BOM, three or more parts, nothing held or repeated.
SHAPE = next(s for s in (generate(seed, POOL, poison_rate=0, duplicate_rate=0)
                         for seed in range(200))
             if s.data.count(b"ISA") == 1 and not s.data.startswith(b"\xef")
             and len(s.truth.claims("delivered")) == sum(len(t.claims) for t in s.truth.sets)
             and len(s.truth.sets) >= 3)


def run(tmp_path):
    ws = workspace(tmp_path / "ws", POOL)
    drop(ws, [SHAPE])
    daemon = Daemon(load_settings(ws.config))
    daemon.run(once=True)
    with ws.store() as store:
        (received,) = store.list_files()
        queued = store.deliveries_of_file(received.id)
        events = [e.action for e in store.events("file", received.id)]
    metrics = parse_exposition(daemon.metrics.exposition().decode())
    return ws, received, queued, events, metrics


def test_a_clean_file_is_routed_and_accepted(tmp_path):
    ws, received, _, _, _ = run(tmp_path)
    assert received.status is FileStatus.ROUTED
    assert sum(delivered(ws).values()) == len(SHAPE.truth.claims("delivered"))
    assert accepted_sets(ws, SHAPE.name, received.id) == (len(SHAPE.truth.sets), 0)


def test_a_lost_part_quarantines_the_file_and_nothing_goes_out(tmp_path, monkeypatch):
    real = route.split_835

    def losing(*args, **kwargs):  # a splitter bug: the last part silently dropped
        result = real(*args, **kwargs)
        return dataclasses.replace(result, parts=result.parts[:-1])

    monkeypatch.setattr(route, "split_835", losing)
    ws, received, queued, events, metrics = run(tmp_path)
    assert received.status is FileStatus.QUARANTINED
    assert received.error.startswith("conservation: ")
    assert "is not conserved: the reader read" in received.error
    assert "segment " in received.error and "byte " in received.error  # located at its ST
    assert [d for d in queued if d.format == "835" and d.destination != "partner:demo-pbm"] == []
    assert delivered(ws) == {}
    assert accepted_sets(ws, SHAPE.name, received.id)[0] == 0  # no set accepted
    assert sample(metrics, "gateway_files_quarantined_total", partner="demo-pbm",
                  code="conservation") == 1
    assert "alert" in events  # the file-quarantined alert, on the file's trail


def test_two_parts_under_one_delivery_key_quarantine_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(route, "plan_deliveries", lambda parts: [
        dataclasses.replace(p, idempotency_key="the-same-key")
        for p in route_plan(parts)])
    ws, received, queued, _, _ = run(tmp_path)
    assert received.status is FileStatus.QUARANTINED
    assert [d for d in queued if d.format == "835" and d.destination != "partner:demo-pbm"] == []
    assert "shares its delivery key with another: it would never be sent" in received.error
    assert delivered(ws) == {}


def route_plan(parts):
    from gateway.routing.plan import plan_deliveries
    return plan_deliveries(parts)


@pytest.mark.parametrize("error", [ValueError("invalid literal for int()"), KeyError("x")])
def test_a_stage_that_raises_quarantines_the_file_with_where(tmp_path, monkeypatch, error):
    def raising(*args, **kwargs):
        raise error

    monkeypatch.setattr(route, "split_835", raising)
    ws, received, _, events, metrics = run(tmp_path)
    assert received.status is FileStatus.QUARANTINED
    assert "alert" in events
    assert received.error.startswith(f"internal-error: {SHAPE.name}: {type(error).__name__} "
                                     "while routing at gateway/daemon/route.py:")
    assert delivered(ws) == {}
    assert accepted_sets(ws, SHAPE.name, received.id)[0] == 0
    assert sample(metrics, "gateway_files_quarantined_total", partner="demo-pbm",
                  code="internal-error") == 1
