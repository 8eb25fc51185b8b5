"""A seeded mutator of X12 files for the differential tests: same seed, same file.

It damages a valid file the ways real partners do, one to three times: a segment dropped,
repeated or moved, a code replaced by one the guide does not list, an element made too long,
emptied, split into components, or one element too many. The ISA keeps its fixed width
(pyx12 reads delimiters from its exact positions) but its values may change.
"""

from __future__ import annotations

import io
import random

from gateway.synth.x12_835 import Spec, write_835
from gateway.synth.x12_writer import Delimiters

MUTATIONS = ("drop", "repeat", "swap", "move", "bad-code", "too-long", "empty-element",
             "extra-element", "components", "bad-date", "bad-amount", "isa-value")
_CODES = ("ZZ", "99", "X", "ABC", "00", "1", "Q9", "CX")


def base_files(seed: int) -> list[bytes]:
    """Small valid 835s from our generator: both shapes, PLBs, reversals, other delimiters."""
    rng = random.Random(seed)
    files = []
    odd = Delimiters(element="|", component=">", repetition="!", terminator="~", suffix="\n")
    for number in range(12):
        spec = Spec(shape=("multi-st", "single-st")[number % 2], payees=1 + number % 3,
                    claims=2 + number % 4, seed=rng.randrange(10_000), plb_rate=0.7,
                    reversal_rate=0.2, denial_rate=0.2, compound_rate=0.4, dir_rate=0.4,
                    delimiters=odd if number % 5 == 4 else Delimiters())
        out = io.StringIO()
        write_835(out, spec)
        files.append(out.getvalue().encode("latin-1"))
    return files


ENVELOPE = ("ISA", "GS", "ST", "SE", "GE", "IEA")


def mutate(data: bytes, seed: int, *, body_only: bool = False) -> bytes:
    """``data`` with 1-3 seeded mutations (the file stays decodable as latin-1).

    ``body_only`` leaves the envelope segments (ISA, GS, ST, SE, GE, IEA) untouched.
    """
    rng = random.Random(seed)
    text = data.decode("latin-1")
    element, component, terminator = text[3], text[104], text[105]
    suffix = "\n" if text[106:107] == "\n" else ""
    segments = [s.lstrip("\r\n") for s in text.split(terminator)]
    segments = [s for s in segments if s]
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(MUTATIONS[:-1] if body_only else MUTATIONS)
        _apply(rng, kind, segments, element, component, body_only)
    return (terminator + suffix).join(segments).encode("latin-1") + (
        terminator + suffix).encode("latin-1")


def _apply(rng: random.Random, kind: str, segments: list[str], sep: str, comp: str,
           body_only: bool) -> None:
    at = rng.randrange(1, len(segments))  # never the ISA itself (index 0) for structure
    while body_only and segments[at].split(sep)[0] in ENVELOPE:
        at = rng.randrange(1, len(segments))
    if kind == "drop":
        del segments[at]
    elif kind == "repeat":
        segments.insert(at, segments[at])
    elif kind == "swap" and at + 1 < len(segments) and not (
            body_only and segments[at + 1].split(sep)[0] in ENVELOPE):
        segments[at], segments[at + 1] = segments[at + 1], segments[at]
    elif kind == "move":
        moved = segments.pop(at)
        segments.insert(rng.randrange(1, len(segments) + 1), moved)
    elif kind == "isa-value":
        _isa_value(rng, segments, sep)
    else:
        segments[at] = _element_mutation(rng, kind, segments[at], sep, comp)


def _element_mutation(rng: random.Random, kind: str, segment: str, sep: str, comp: str) -> str:
    parts = segment.split(sep)
    if len(parts) < 2:
        return segment
    index = rng.randrange(1, len(parts))
    if kind == "bad-code":
        parts[index] = rng.choice(_CODES)
    elif kind == "too-long":
        parts[index] = (parts[index] or "A") + rng.choice(("A" * 60, "9" * 25, "X" * 5))
    elif kind == "empty-element":
        parts[index] = ""
        if index == len(parts) - 1 and len(parts) > 2:
            parts.pop()  # an empty last element would only be a trailing separator
    elif kind == "extra-element":
        parts.append(rng.choice(("X", "1", "ZZ")))
    elif kind == "components":
        parts[index] = f"{parts[index]}{comp}{rng.choice(('X', '1', ''))}"
    elif kind == "bad-date":
        parts[index] = rng.choice(("20260230", "20261301", "2026010", "99999999"))
    elif kind == "bad-amount":
        parts[index] = rng.choice(("12.3.4", "1,000", "-", ".5", "1.", "A12"))
    return sep.join(parts)


def _isa_value(rng: random.Random, segments: list[str], sep: str) -> None:
    """Change one fixed-width ISA value, keeping its width (ISA01..ISA15)."""
    parts = segments[0].split(sep)
    index = rng.randrange(1, 16)
    width = len(parts[index])
    parts[index] = rng.choice(("X", "9", " ", "Z")) * width
    segments[0] = sep.join(parts)
