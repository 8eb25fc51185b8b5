"""The route stage's format switch (gateway.daemon.route.by_format): a file the parse read in
this process goes to the 835 router on the parse's word (its sets), its local copy not read
again to detect the format; one routed after a restart is looked at first."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from gateway.daemon.route import by_format
from gateway.routing.read_sets import ReadSet
from gateway.store import open_store
from gateway.store.models import ReceivedFile

X12 = b"ISA*00*          *00*          *ZZ*PBM~"


def _received(store, tmp_path: Path) -> ReceivedFile:
    path = tmp_path / "era.835"
    path.write_bytes(X12)
    receipt = store.record_received(partner="pbm", remote_path="/out/era.835",
                                    original_name="era.835", size=len(X12), mtime=None,
                                    sha256=hashlib.sha256(X12).hexdigest(), payload_path=path)
    return receipt.file


def test_the_parse_s_sets_route_the_file_without_reading_it_again(tmp_path):
    routed: list[tuple[int, Path, Sequence[ReadSet] | None]] = []

    def x12(received: ReceivedFile, path: Path, sets: Sequence[ReadSet] | None = None) -> int:
        routed.append((received.id, path, sets))
        return 7

    with open_store(f"sqlite:///{tmp_path}/var/gateway.db") as store:
        received = _received(store, tmp_path)
        route = by_format(store, x12)
        gone = tmp_path / "no-such-copy.835"
        assert route(received, gone, ()) == 7  # the parse read it: X12, unread again
        assert routed == [(received.id, gone, ())]
        with pytest.raises(FileNotFoundError):
            route(received, gone, None)  # after a restart: the copy says what it is
        assert route(received, tmp_path / "era.835", None) == 7
        assert routed[-1] == (received.id, tmp_path / "era.835", None)
