"""The random-shape 835 generator: deterministic, readable, and its truth is what the reader
reads (so the conservation tests compare the daemon against something true)."""

from __future__ import annotations

import io

import pytest

from gateway.errors import InputError
from gateway.synth.x12_shapes import BOM, generate, make_pool
from gateway.x12.read.reader import read_835

POOL = make_pool(7)


def test_the_same_seed_gives_the_same_file_and_truth():
    assert generate(12, POOL) == generate(12, POOL)
    assert generate(12, POOL).data != generate(13, POOL).data


def test_the_shapes_the_issue_names_all_occur():
    shapes = [generate(seed, POOL) for seed in range(120)]
    assert any(s.data.startswith(BOM) for s in shapes)
    assert any(b"\r\n" in s.data for s in shapes)
    assert any(s.data.count(b"ISA") > 1 for s in shapes)
    assert any(len({s.data[i + 3] for i in range(len(s.data)) if s.data.startswith(b"ISA", i)})
               > 1 for s in shapes)  # another element separator in a later interchange
    assert any(s.truth.quarantined for s in shapes)
    assert any(s.truth.claims("duplicate") for s in shapes)
    assert any(s.truth.claims("held") for s in shapes)
    repeated_st02 = [s for s in shapes if len({t.st02 for t in s.truth.sets}) < len(s.truth.sets)]
    assert repeated_st02
    assert {t.shape for s in shapes for t in s.truth.sets} == {"pharmacy", "central"}


@pytest.mark.parametrize("seed", range(60))
def test_what_the_reader_reads_is_the_truth(seed):
    shape = generate(seed, POOL)
    findings: list = []
    try:
        sets = list(read_835(io.BytesIO(shape.data), file_name=shape.name, findings=findings))
    except InputError:
        assert shape.truth.quarantined
        return
    if shape.truth.quarantined:
        assert any(f.fatal for f in findings), shape.truth.poison
        return
    assert not [f for f in findings if f.fatal]
    assert [r.payment.amount for r in sets] == [t.payment for t in shape.truth.sets]
    assert [r.control_number for r in sets] == [t.st02 for t in shape.truth.sets]
    read = [(c.claim_id, c.payer_claim_control_number, c.paid) for r in sets for c in r.claims]
    assert read == [(c.claim_id, c.ccn, c.paid) for t in shape.truth.sets for c in t.claims]
