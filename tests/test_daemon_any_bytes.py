"""Hypothesis (issue 10, "Must show"): whatever bytes a PBM sends — any byte string, or a
valid random-shape file mutated (bytes flipped, non-ASCII inserted where digits belong, cut
short) — one daemon cycle ends the file in a named final state (routed, duplicate,
quarantined, or the daemon's failed/held), never stuck in ``received`` or ``parsed``, and a
file that was not routed says why with a located reason (a segment or byte offset in the
file, or for an exception inside the daemon the line of the gateway that raised it).

On the main of 2026-12-02 (a4ec468) it fails: an exception inside the daemon leaves the file
``parsed`` or ``received`` ("skipped until restart") — a BOM, a superscript digit in SE01, a
later interchange with other delimiters.
"""

from __future__ import annotations

import itertools
import re

import pytest
from conservation_support import drop, workspace
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.config.settings import load_settings
from gateway.daemon.loop import Daemon
from gateway.synth.x12_shapes import Shape, Truth, generate, make_pool

POOL = make_pool(7)
FINAL = {"routed", "duplicate", "quarantined", "failed", "held"}
LOCATED = re.compile(r"byte \d+|segment \d+|gateway/[\w/]+\.py:\d+")
VALID = [s for s in (generate(seed, POOL, poison_rate=0) for seed in range(40))]
NAMES = itertools.count()
FAST = (Phase.explicit, Phase.reuse, Phase.generate)  # no shrinking: each example is a cycle


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    ws = workspace(tmp_path_factory.mktemp("any-bytes") / "ws", POOL)
    running = Daemon(load_settings(ws.config))
    yield ws, running
    running.close()


def mutated() -> st.SearchStrategy[bytes]:
    """A valid file with a few bytes replaced, inserted or removed, or cut short."""
    poison = st.sampled_from([b"\xc2\xb9", b"\xc2\xb5", b"\xba", b"\x00", b"~", b"*", b"\r\n",
                              b"ISA", b"9", b"-", b"\xef\xbb\xbf"])

    unicode_digits = st.sampled_from(["¹", "²", "³", "٣", "５"]).map(str.encode)

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(VALID)).data)
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(data)))
            how = draw(st.sampled_from(["insert", "replace", "delete", "cut", "digit",
                                        "digit"]))
            digits = [i for i in range(len(data)) if 48 <= data[i] <= 57]
            if how == "digit" and digits:  # a digit Python's int() reads, X12 does not allow
                at = digits[draw(st.integers(0, len(digits) - 1))]
                data[at : at + 1] = draw(unicode_digits)
            elif how == "cut":
                del data[at:]
            elif how == "delete":
                del data[at : at + draw(st.integers(1, 8))]
            else:
                piece = draw(poison | st.binary(min_size=1, max_size=3))
                data[at : at + (len(piece) if how == "replace" else 0)] = piece
        return bytes(data)

    return build()


def final_state(ws, running: Daemon, data: bytes) -> None:
    name = f"any-{next(NAMES):05d}.835"
    drop(ws, [Shape(name, data, Truth((), quarantined=False))])
    running.cycle(force=True)
    (received,) = [f for f in running.store.list_files(limit=1 << 20)
                   if f.original_name == name]
    if received.duplicate_of is not None:  # the same bytes again: the first copy's fate
        received = running.store.get_file(received.duplicate_of)
    assert received.status.value in FINAL, (received.status, received.error)
    if received.status.value in ("quarantined", "failed"):
        assert received.error and LOCATED.search(received.error), received.error


@settings(max_examples=40, deadline=None, phases=FAST,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.binary(max_size=300) | st.binary(max_size=300).map(lambda b: b"ISA*" + b))
def test_any_byte_string_ends_in_a_final_state(daemon, data):
    final_state(*daemon, data)


@settings(max_examples=60, deadline=None, phases=FAST,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated())
def test_a_mutated_valid_file_ends_in_a_final_state(daemon, data):
    final_state(*daemon, data)
