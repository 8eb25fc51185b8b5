"""Composing legal X12 files the generator alone does not write: several interchanges (each
with its own delimiters), several groups in one interchange, repeated control numbers.

Everything here is what the X12 standard allows: ST02 is unique only inside its group, GS06
inside its interchange, and each interchange declares its own delimiters in its ISA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gateway.synth.x12_835 import Spec, write_835
from gateway.synth.x12_writer import Delimiters

ODD = Delimiters(element="|", repetition="!", component=">", terminator="\n", suffix="")
CRLF = Delimiters(element="^", repetition="{", component="\\", terminator="'", suffix="\r\n")


@dataclass(frozen=True)
class Interchange:
    """One generated interchange as text, and the delimiters it was written with."""

    text: str
    delimiters: Delimiters
    claims: int


def interchange(**spec: object) -> Interchange:
    """One generated interchange (``Spec`` keywords)."""
    import io

    out = io.StringIO()
    summary = write_835(out, Spec(**spec))  # type: ignore[arg-type]
    delimiters = spec.get("delimiters", Delimiters())
    assert isinstance(delimiters, Delimiters)
    return Interchange(out.getvalue(), delimiters, summary.claims)


def segments(item: Interchange) -> list[str]:
    """The interchange's segments, without terminators."""
    d = item.delimiters
    return [s.strip("\r\n") for s in item.text.split(d.terminator) if s.strip("\r\n")]


def join(item: Interchange, parts: list[str]) -> str:
    d = item.delimiters
    return "".join(p + d.terminator + d.suffix for p in parts)


def two_groups(first: Interchange, second: Interchange, gs06: str = "77") -> str:
    """``first`` with ``second``'s functional group added as a second group (GS06 ``gs06``):
    both groups may number their sets alike (ST02 0001, 0002, ...). Same delimiters needed."""
    assert first.delimiters == second.delimiters
    e = first.delimiters.element
    mine, theirs = segments(first), segments(second)
    group = theirs[1:-1]
    old = group[0].split(e)[6]
    group[0] = e.join([*group[0].split(e)[:6], gs06, *group[0].split(e)[7:]])
    group[-1] = group[-1].replace(f"{e}{old}", f"{e}{gs06}")
    iea = mine[-1].split(e)
    return join(first, [*mine[:-1], *group, e.join(["IEA", "2", iea[2]])])


def rename_sets(item: Interchange, names: list[str]) -> Interchange:
    """Every ST02/SE02 of ``item`` replaced, in order, by ``names`` (e.g. ``A/1``, ``A\\1``)."""
    e = item.delimiters.element
    parts = segments(item)
    position = -1
    for i, segment in enumerate(parts):
        fields = segment.split(e)
        if fields[0] == "ST":
            position += 1
        if fields[0] in ("ST", "SE"):
            fields[2] = names[position]
            parts[i] = e.join(fields)
    return Interchange(join(item, parts), item.delimiters, item.claims)


def write(path: Path, *texts: str, bom: bool = False) -> Path:
    data = "".join(texts).encode("latin-1")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def st02s(text: str) -> list[str]:
    return re.findall(r"(?:^|[~\n'])\s*ST[*|^]835[*|^]([^*|^~\n']+)", text)
