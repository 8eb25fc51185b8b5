"""Must show: every 999 written from TR3 findings validates under pyx12's 999 map.

The 999s answer the corpus's 835s and 300 mutated files (tests/tr3_mutator.py), from the
structural findings plus the compiled validator's, written by gateway.x12.write.ack and then
validated by pyx12 itself (its 005010X231A1 map, through the reference wrapper).
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime

import pytest
from tr3_differential import structural
from tr3_mutator import base_files, mutate
from x12_arith import split_segments

from gateway.x12.read.received import read_envelopes
from gateway.x12.tr3 import Tr3Validator
from gateway.x12.tr3.pyx12_reference import Tr3Validator as Pyx12
from gateway.x12.write.ack import write_999
from gateway.x12.write.control_numbers import MemoryControlNumbers

NOW = datetime(2026, 1, 6, 8, 30)


@pytest.fixture(scope="module")
def validators() -> tuple[Tr3Validator, Pyx12]:
    return Tr3Validator(), Pyx12()


def acks_for(data: bytes, validator: Tr3Validator) -> list[str]:
    """The 999 of the file (all its groups), as ``gateway validate --ack 999``."""
    findings = validator.validate(io.BytesIO(data), structural=structural(data, "in.835"))
    interchanges = [i for i in read_envelopes(io.BytesIO(data)) if i.groups]
    if not interchanges:
        return []
    return [write_999(interchanges, findings, numbers=MemoryControlNumbers(),
                      destination="pbm", key="in.835", now=NOW)]


def check(files: list[bytes], validators: tuple[Tr3Validator, Pyx12]) -> Counter[str]:
    compiled, pyx12 = validators
    seen: Counter[str] = Counter()
    for data in files:
        for ack in acks_for(data, compiled):
            assert pyx12.validate(io.StringIO(ack)) == [], ack
            segments, _ = split_segments(ack)
            seen.update(s[0] for s in segments)
            seen.update("IK3 with loop" for s in segments if s[0] == "IK3" and s[3])
    return seen


def test_999s_for_the_corpus_validate_under_pyx12s_999_map(shared_corpus, validators):
    files = [p.read_bytes() for p in sorted((shared_corpus / "x12" / "835").rglob("*"))
             if p.is_file() and "expected997" not in p.name]
    seen = check(files, validators)
    assert seen["AK2"] >= 20 and seen["IK3"] >= 20 and seen["IK4"] >= 10


def test_999s_for_300_mutated_files_validate_under_pyx12s_999_map(validators):
    """The mutations damage the transaction sets, not their envelopes: what a 999 echoes of a
    broken GS06 or ST02 (AK102, AK202) is the envelope's answer, not the guide's."""
    bases = base_files(3)
    seen = check([mutate(bases[n % len(bases)], n, body_only=True) for n in range(300)],
                 validators)
    assert seen["IK3"] >= 300 and seen["IK4"] >= 100 and seen["IK3 with loop"] >= 100
    assert seen["CTX"] >= 1  # syntax-rule triggers were named
