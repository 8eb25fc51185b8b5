"""Conservation through the real daemon (issue 10, "Must show"): 200+ generated files of
random shape — several ISA and GS per file with repeated ST02/GS06, a delimiter set of its own
per interchange, BOM, CRLF, both central-pay shapes, pharmacies not in the roster, repeated
interchanges and payments inside a file and across files, poison bytes — go through
``gateway run --once`` in batches of 50. Then, read from the outside (the pharmacies' folders,
the held deliveries' payloads, the files' states, the PBM's 999s):

* no claim is ever lost silently: each is delivered once to its own pharmacy, or in a held
  delivery, or in a quarantined file; a quarantined file has nothing queued and no set
  accepted, a routed file has every set accepted;
* each member pharmacy's folder holds exactly its claims of the generator's truth (set
  equality of CLP01, CLP07 and CLP04) and every other claim is held: this one needs the one
  scanner and set identities of branch x12 (until then the proof quarantines, visibly, the
  files whose sets the splitter cannot yet tell apart).

Both fail on the main of 2026-12-02 (a4ec468): files stay ``parsed`` ("skipped until
restart") and their claims reach nobody.
"""

from __future__ import annotations

from collections import Counter

import pytest
from conservation_support import (
    accepted_sets,
    delivered,
    drop,
    held,
    run_once,
    workspace,
)

from gateway.store.models import FileStatus
from gateway.synth.x12_shapes import ClaimTruth, Shape, combine, generate, make_pool

FILES = 200
BATCH = 50
POOL = make_pool(7)


def batches() -> list[list[Shape]]:
    """200 random files, then files made of interchanges sent before (every set in them a
    duplicate across files), after the batches their originals are in."""
    shapes = [generate(seed, POOL) for seed in range(FILES)]
    out = [shapes[i : i + BATCH] for i in range(0, FILES, BATCH)]
    clean = [s for s in shapes if not s.truth.quarantined]
    out.append([combine(f"resent-{n:03d}.835", clean[n * 7 : n * 7 + 2]) for n in range(6)])
    return out


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    ws = workspace(tmp_path_factory.mktemp("conservation") / "ws", POOL)
    sent = batches()
    for batch in sent:
        drop(ws, batch)
        run_once(ws)
    shapes = [s for batch in sent for s in batch]
    assert len(shapes) >= FILES
    with ws.store() as store:
        files = {f.original_name: f for f in store.list_files(limit=10_000)}
    return ws, shapes, files


def held_of(ws):
    with ws.store() as store:
        return held(store)


def key(claim: ClaimTruth) -> tuple:
    return (claim.claim_id, claim.ccn, claim.paid)


def test_no_claim_is_ever_lost_silently(outcome):
    ws, shapes, files = outcome
    got = delivered(ws)
    held_claims, _ = held_of(ws)
    owner = {key(c): c.npi for s in shapes for t in s.truth.sets for c in t.claims}
    for (npi, *claim), n in got.items():
        assert owner[tuple(claim)] == npi, "a claim reached another pharmacy"
        assert n == 1, "a claim was delivered twice"
    reached = {tuple(claim) for (_, *claim) in got}
    for shape in shapes:
        received = files[shape.name]
        accepted, _ = accepted_sets(ws, shape.name, received.id)
        if shape.truth.quarantined:
            assert received.status is FileStatus.QUARANTINED, shape.truth.poison
        assert received.status in (FileStatus.ROUTED, FileStatus.QUARANTINED), received.error
        if received.status is FileStatus.QUARANTINED:
            assert received.error, shape.name
            assert accepted == 0, f"{shape.name}: a set of a quarantined file was accepted"
            continue
        assert accepted == len(shape.truth.sets), shape.name
        for claim, _ in (pair for fate in ("delivered", "held", "duplicate")
                         for pair in shape.truth.claims(fate)):
            assert key(claim) in reached or held_claims[key(claim)], (
                f"{shape.name}: claim {claim.ccn} is neither delivered nor held")
    poisoned = {key(c) for s in shapes if s.truth.quarantined
                for t in s.truth.sets for c in t.claims}
    assert not poisoned & (reached | set(held_claims)), "a poisoned file's claim went out"


@pytest.mark.xfail(strict=False, reason="needs branch x12 (issue 10, Builds 1-2): one scanner "
                   "(a later interchange with other delimiters, a BOM) and SetIdentity keys "
                   "(repeated ST02/GS06); until then the conservation proof quarantines those "
                   "files instead of losing their money")
def test_each_pharmacy_gets_exactly_its_claims_and_the_rest_is_held(outcome):
    ws, shapes, files = outcome
    held_claims, reasons = held_of(ws)
    expected_delivered: Counter = Counter()
    expected_held: Counter = Counter()
    for shape in shapes:
        for claim, _ in shape.truth.claims("delivered"):
            expected_delivered[(claim.npi, *key(claim))] += 1
        for fate in ("held", "duplicate"):
            for claim, _ in shape.truth.claims(fate):
                expected_held[key(claim)] += 1
    got = delivered(ws)
    assert got - expected_delivered == Counter(), "delivered claims the truth does not send"
    assert expected_delivered - got == Counter(), "claims of the truth that were not delivered"
    assert held_claims == expected_held
    assert any(r.startswith("duplicate interchange") for r in reasons)
    assert any(r.startswith("duplicate payment") for r in reasons)
    for shape in shapes:
        want = FileStatus.QUARANTINED if shape.truth.quarantined else FileStatus.ROUTED
        assert files[shape.name].status is want, (shape.name, files[shape.name].error)


def test_the_run_had_every_shape(outcome):
    """The generator's mix really reached the daemon (a guard on the test itself)."""
    _, shapes, _ = outcome
    assert sum(s.truth.quarantined for s in shapes) >= 5
    assert sum(s.data.startswith(b"\xef\xbb\xbf") for s in shapes) >= 10
    assert sum(len(s.truth.claims("duplicate")) for s in shapes) >= 50
    assert sum(len(s.truth.claims("held")) for s in shapes) >= 50


