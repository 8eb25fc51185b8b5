"""The route stage's format switch (gateway.daemon.route.by_format): a file the parse read in
this process goes to the 835 router on the parse's word (its sets) without its payload being
opened again — on PostgreSQL an open fetches every chunk — and one routed after a restart is
looked at first."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from gateway.daemon.route import by_format
from gateway.errors import StoreError
from gateway.routing.read_sets import ReadSet
from gateway.store import open_store
from gateway.store.models import ReceivedFile


def _received_then_lost(store, tmp_path: Path) -> ReceivedFile:
    """A received 835 whose payload is then deleted: any open of it fails."""
    data = b"ISA*00*          *00*          *ZZ*PBM~"
    path = tmp_path / "era.835"
    path.write_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    receipt = store.record_received(partner="pbm", remote_path="/out/era.835",
                                    original_name="era.835", size=len(data), mtime=None,
                                    sha256=sha256, payload_path=path)
    store.payloads.path_of(sha256).unlink()
    return receipt.file


def test_the_parse_s_sets_route_the_file_without_opening_its_payload(tmp_path):
    routed: list[tuple[int, Sequence[ReadSet] | None]] = []

    def x12(received: ReceivedFile, sets: Sequence[ReadSet] | None = None) -> int:
        routed.append((received.id, sets))
        return 7

    with open_store(f"sqlite:///{tmp_path}/var/gateway.db") as store:
        received = _received_then_lost(store, tmp_path)
        route = by_format(store, x12)
        assert route(received, ()) == 7  # the parse read it: X12, whatever the payload holds
        assert routed == [(received.id, ())]
        with pytest.raises(StoreError, match="missing"):
            route(received, None)  # after a restart: the payload says what it is
        assert len(routed) == 1
