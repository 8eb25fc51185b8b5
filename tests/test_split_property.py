"""Property: any generated central-pay file splits into valid parts that add up exactly.

Random shape, seed, size, rates and read-block size; every part is validated by pyx12's 835
map (with gateway.x12.tr3's PLB workaround) and by an independent arithmetic check, and the
parts together must be the original: the same claims, and the pharmacies' shares plus the
PSAO's own PLBs equal to each original BPR02.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from split_support import check_parts, generate, write_members

from gateway.config.members import load_roster
from gateway.routing.policy import ProviderPolicy, RosterPolicy
from gateway.x12.split.splitter import split_835
from gateway.x12.split.writers import DirectoryPartWriter
from gateway.x12.tr3.pyx12_reference import Tr3Validator
from gateway.x12.write.control_numbers import MemoryControlNumbers

VALIDATOR = Tr3Validator()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.sampled_from(["single-st", "multi-st"]),
    seed=st.integers(0, 10_000),
    payees=st.integers(1, 5),
    claims=st.integers(0, 30),
    reversal_rate=st.sampled_from([0.0, 0.1, 0.5]),
    plb_rate=st.sampled_from([0.0, 0.5, 1.0]),
    block_size=st.sampled_from([5, 4096, 1 << 20]),
    members=st.none() | st.integers(0, 5),
)
def test_any_generated_file_splits_into_valid_parts_that_add_up(
    shape: str, seed: int, payees: int, claims: int, reversal_rate: float, plb_rate: float,
    block_size: int, members: int | None,
) -> None:
    """``members`` None: no roster; else a roster of the first ``members`` pharmacies, so the
    others are held — held parts must be as valid and count in the balance like the rest."""
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        source, summary = generate(
            directory, shape=shape, seed=seed, payees=payees, claims=claims,
            reversal_rate=reversal_rate, denial_rate=0.1, plb_rate=plb_rate,
        )
        policy = ProviderPolicy() if members is None else RosterPolicy(
            load_roster(write_members(directory, summary.pharmacies[:members]))
        )
        result = split_835(
            source, policy=policy, writer=DirectoryPartWriter(directory / "out"),
            numbers=MemoryControlNumbers(), block_size=block_size,
        )
        if members is not None:
            known = {p.npi for p in summary.pharmacies[:members]}
            assert all((p.owner.npi in known) != p.owner.held for p in result.parts)
        for part in result.parts:
            fatal = [f.message for f in VALIDATOR.validate(part.location) if f.fatal]
            assert fatal == [], (part.owner.key, fatal)
        assert sum(p.claim_count for p in result.parts) == summary.claims
        check_parts(source, result)
