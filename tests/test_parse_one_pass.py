"""The parse stage's one read also gives the route everything its conservation proof reads
(issue 13, item 3): each set's tally and its payment keys, taken from the parse's own
tokenizer pass through ``iter_835``'s tap, are exactly what a read of their own gives —
over generated files of every shape, repeated interchanges and payments among them.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest

from gateway.daemon.parse import parse_file
from gateway.routing.read_sets import read_sets
from gateway.store.models import FileStatus, ReceivedFile
from gateway.synth.x12_shapes import generate, make_pool
from gateway.x12.read.payment_keys import payment_keys

POOL = make_pool(3)


@pytest.mark.parametrize("seed", range(40))
def test_the_parse_gives_the_same_sets_and_keys_as_reads_of_their_own(seed):
    shape = generate(seed, POOL, poison_rate=0.0, duplicate_rate=0.5)
    sha = hashlib.sha256(shape.data).hexdigest()
    received = ReceivedFile(1, "pbm", shape.name, shape.name, len(shape.data), None, sha,
                            datetime.now(UTC), FileStatus.RECEIVED)
    parsed = parse_file(io.BytesIO(shape.data), received)
    assert parsed.refusal() is None and parsed.sets is not None
    alone = read_sets(io.BytesIO(shape.data), file=sha, file_name=shape.name)
    assert list(parsed.sets) == alone
    assert [s.keys for s in alone] == payment_keys(io.BytesIO(shape.data), file=sha,
                                                   file_name=shape.name)
