"""The 999 is the same whether its envelopes come from the parse's one read or, after a
restart between parse and acknowledge, from a read of the file of its own (the fallback).

Two stores get the same files. In the first, one pipeline parses, routes and acknowledges
each file in one go (the envelopes from the parse's tap). In the second, the pipeline stops
after each parse — the route meets a store outage, which leaves the file ``parsed`` — and a
fresh pipeline, as after a restart, routes and acknowledges them with nothing from the parse.
Every acknowledgment's bytes must be equal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest

from gateway.config.settings import load_settings
from gateway.daemon.acknowledge import Acknowledger
from gateway.daemon.metrics import Metrics
from gateway.daemon.pipeline import Pipeline
from gateway.daemon.runtime import Runtime, build_runtime
from gateway.errors import StoreUnavailable
from gateway.ops.demo import folder_workspace
from gateway.routing.read_sets import ReadSet
from gateway.store import open_configured
from gateway.store.base import MessageStore
from gateway.store.models import FileStatus, ReceivedFile

NOW = datetime(2026, 1, 6, 8, 30)


def _workspace(root: Path) -> tuple[MessageStore, Runtime]:
    """The demo workspace plus a file of two interchanges with different delimiters, every
    file recorded as received."""
    config, _samples = folder_workspace(root)
    outbound = root / "pbm" / "outbound"
    central = (outbound / "era-20260105-central.835").read_text()
    multi = (outbound / "era-20260105-multi.835").read_text()
    assert "|" not in multi and "000000101" in multi
    piped = multi.replace("000000101", "000000201").replace("*", "|").replace("~", "~\n")
    (outbound / "era-two-delimiters.835").write_text(central + piped)
    settings = load_settings(config)
    store = open_configured(settings)
    for path in sorted(outbound.iterdir()):
        data = path.read_bytes()
        store.record_received(partner="demo-pbm", remote_path=str(path), original_name=path.name,
                              size=len(data), mtime=None,
                              sha256=hashlib.sha256(data).hexdigest(), payload_path=path)
    return store, build_runtime(settings)


def _pipeline(store: MessageStore, runtime: Runtime, *, outage: bool = False) -> Pipeline:
    def route_in_an_outage(received: ReceivedFile, path: Path,
                           sets: Sequence[ReadSet] | None) -> int:
        raise StoreUnavailable("the store went away between parse and route")

    kinds = {p.id: (p.ack_kind, p.ack_destination) for p in runtime.partners.values()}
    return Pipeline(store, parse=runtime.validator(),
                    route=route_in_an_outage if outage else runtime.router(store),
                    acknowledge=Acknowledger(store, kinds, clock=lambda: NOW),
                    metrics=Metrics(), holder="test",
                    record_claims=runtime.claim_recorder(store))


def _acknowledgments(store: MessageStore) -> dict[str, bytes]:
    out = {}
    for received in store.list_files():
        for document in store.documents_of_file(received.id):
            if document.kind.startswith("ack-"):
                with store.open_payload(document.payload_sha256) as stream:
                    out[f"{received.original_name} {document.kind} {document.ordinal}"] = (
                        stream.read())
    return out


def test_the_999_after_a_restart_between_parse_and_acknowledge_is_the_same(tmp_path):
    one_go, runtime = _workspace(tmp_path / "one-go")
    _pipeline(one_go, runtime).process_pending()
    expected = _acknowledgments(one_go)

    restarted, runtime = _workspace(tmp_path / "restarted")
    interrupted = _pipeline(restarted, runtime, outage=True)
    for _ in range(10):  # each outage stops the pass after one file's parse
        try:
            interrupted.process_pending()
            break
        except StoreUnavailable:
            pass
    statuses = {f.original_name: f.status for f in restarted.list_files()}
    waiting = [name for name, status in statuses.items() if status is FileStatus.PARSED]
    assert len(waiting) == 3, statuses  # parsed here; the acknowledgment comes after restart
    _pipeline(restarted, runtime).process_pending()  # a new process: nothing of the parse
    got = _acknowledgments(restarted)

    assert {f.original_name: f.status for f in restarted.list_files()} == {
        f.original_name: f.status for f in one_go.list_files()}
    assert all(any(key.startswith(f"{name} ack-999") for key in got) for name in waiting)
    assert "era-two-delimiters.835 ack-999 -1" in got
    assert got == expected
    one_go.close()
    restarted.close()


@pytest.mark.parametrize("name", ["era-20260105-broken.835"])
def test_a_refused_file_is_acknowledged_from_the_parse(tmp_path, name):
    """The parse refuses the cut-off file: its negative 999 is made from the parse's
    envelopes at once (no restart possible in between), naming the truncation."""
    store, runtime = _workspace(tmp_path / "ws")
    _pipeline(store, runtime).process_pending()
    (refused,) = [f for f in store.list_files() if f.original_name == name]
    assert refused.status is FileStatus.QUARANTINED
    acks = {k: v for k, v in _acknowledgments(store).items() if k.startswith(name)}
    assert acks and all(b"AK9*A" not in text for text in acks.values())
    store.close()
