"""The parts' side of the conservation proof is counted from the bytes written (issue 13,
item 3: the proof no longer reads every part back): the count equals an independent reading
of each part whatever the delimiters and however the bytes are cut into blocks, and a
splitter whose parts' bytes lose or double a claim — while it reports the right totals — is
still caught at run time: the file is quarantined and nothing is sent.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from conservation_support import delivered, drop, workspace
from split_support import generate
from test_conservation_enforced import POOL, SHAPE
from x12_arith import check_835

import gateway.x12.split.splitter as splitter
from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.routing.policy import ProviderPolicy
from gateway.routing.written import PartScanner, TallyingWriter
from gateway.store.models import FileStatus
from gateway.x12.split.parts import SourceRange
from gateway.x12.split.writers import DirectoryPartWriter
from gateway.x12.syntax.delimiters import Delimiters
from gateway.x12.write.control_numbers import MemoryControlNumbers

DELIMITERS = [Delimiters(), Delimiters(element="|", component=">", repetition="^",
                                       terminator="\n"),
              Delimiters(terminator="~", suffix="\r\n")]


@pytest.mark.parametrize("delimiters", DELIMITERS, ids=["default", "pipes-newline", "crlf"])
@pytest.mark.parametrize("shape", ["single-st", "multi-st"])
def test_the_count_of_written_bytes_equals_an_independent_reading(tmp_path, delimiters, shape):
    source, _ = generate(tmp_path, shape=shape, payees=6, claims=120, seed=3, plb_rate=0.8,
                         delimiters=delimiters)
    writer = TallyingWriter(DirectoryPartWriter(tmp_path / "parts", durable=False))
    result = splitter.split_835(source, policy=ProviderPolicy(), writer=writer,
                                numbers=MemoryControlNumbers())
    assert len(result.parts) >= 6
    rng = random.Random(5)
    for part in result.parts:
        data = Path(part.location).read_bytes()
        (truth,) = check_835(data.decode("latin-1"))
        counted = writer.written[part.location]
        assert (counted.claims, counted.paid, counted.payment, counted.size) == (
            truth.claims, truth.paid, truth.bpr02, len(data))
        assert sum((a for _, a in counted.plbs), Decimal(0)) == truth.plb
        again, at = PartScanner(), 0  # the same bytes cut anywhere, even inside a segment
        while at < len(data):
            step = rng.randint(1, 300)
            again.feed(data[at:at + step])
            at += step
        assert again.finish() == counted


def test_bytes_that_end_inside_a_segment_are_refused():
    scanner = PartScanner()
    scanner.feed(b"ISA*00*          *00*          *ZZ*A              *ZZ*B              "
                 b"*260105*1200*^*00501*000000001*0*P*:~GS*HP*A*B*20260105*1200*1*X*005010X221A1~"
                 b"CLP*1*1*10*5")
    with pytest.raises(ValueError, match="whole segment"):
        scanner.finish()


def _run(tmp_path):
    ws = workspace(tmp_path / "ws", POOL)
    drop(ws, [SHAPE])
    Daemon(load_settings(ws.config)).run(once=True)
    with ws.store() as store:
        (received,) = store.list_files()
        queued = store.deliveries_of_file(received.id)
    return ws, received, queued


@pytest.mark.parametrize("bug", ["loses", "doubles"])
def test_a_part_whose_bytes_lose_or_double_claims_quarantines_the_file(tmp_path, monkeypatch,
                                                                       bug):
    real = splitter._Splitter._emit
    broken: list[str] = []

    def emit(self, tset, se, owner, mode, body, *totals):  # the totals stay right
        pieces = list(body)
        ranges = [n for n, piece in enumerate(pieces) if isinstance(piece, SourceRange)]
        if ranges and not broken:  # one part only: its last run of claims
            broken.append(owner.label)
            last = ranges[-1]
            pieces[last:last + 1] = [] if bug == "loses" else [pieces[last]] * 2
        return real(self, tset, se, owner, mode, pieces, *totals)

    monkeypatch.setattr(splitter._Splitter, "_emit", emit)
    ws, received, queued = _run(tmp_path)
    assert broken
    assert received.status is FileStatus.QUARANTINED
    assert received.error.startswith("conservation: ")
    assert "is not conserved: the reader read" in received.error
    assert [d for d in queued if d.format == "835" and d.destination != "partner:demo-pbm"] == []
    assert delivered(ws) == {}
