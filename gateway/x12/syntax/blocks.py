"""How a block of text splits into segments: the exact split, and the test for the fast one.

The tokenizer (:mod:`gateway.x12.syntax.tokenizer`) splits a whole block on terminator plus
line break in one ``str.split`` when the block is *regular* — every terminator followed by
exactly the interchange's line break and a plain segment id — which one regular expression
pass decides (:func:`plain_ids`). Any other block is split exactly on the terminator alone,
each segment keeping the line breaks after it (:func:`split_exact`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from gateway.x12.syntax.delimiters import LINE_BREAKS, Delimiters


def split_exact(text: str, term: str) -> tuple[list[str], list[str]]:
    """Split on the terminator alone; line breaks after a terminator go to that segment's end."""
    breaks = LINE_BREAKS.replace(term, "")
    pieces = text.split(term)
    parts = [pieces[0]]
    ends: list[str] = []
    for piece in pieces[1:]:
        body = piece.lstrip(breaks)
        ends.append(term + piece[: len(piece) - len(body)])
        parts.append(body)
    return parts, ends


@lru_cache(maxsize=64)
def _id_patterns(
    element: str, terminator: str, end: str
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A regex for a plain valid segment start (id other than ISA, then a separator or the
    terminator) and one that finds any terminator *not* followed by exactly the regular line
    break and such a start."""
    plain_id = rf"(?!ISA)[A-Z][A-Z0-9]{{1,2}}[{re.escape(element + terminator)}]"
    suffix = re.escape(end[len(terminator) :])
    return re.compile(plain_id), re.compile(rf"{re.escape(terminator)}(?!{suffix}{plain_id})")


def plain_ids(text: str, last_end: int, delimiters: Delimiters) -> bool:
    """True when, before ``last_end`` (where the end of the last complete segment starts),
    every terminator is followed by exactly the regular line break and every segment starts
    with a valid id other than ISA: one regex pass in C, which lets the whole block skip the
    per-segment checks (and tells that splitting on terminator + line break was exact)."""
    if last_end <= 0:
        return False
    first, rest = _id_patterns(delimiters.element, delimiters.terminator, delimiters.end)
    end = delimiters.end
    if not first.match(text, 0, last_end + len(end)):
        return False
    return rest.search(text, 0, last_end) is None
