"""Runs: many complete iterations of a loop (claims) checked by one regular expression.

Per segment, even the fast path costs a few dict lookups and a regex call in Python. Most of
an 835 is claims, one 2100 loop iteration after another, and a clean claim leaves the walk
exactly where it found it: the counts of the 2100 subtree are reset when the next CLP starts
the next iteration, nothing outside the subtree changes (its own count is saturated), so the
state after "claim body + next CLP" is the state after the previous CLP. A run pattern is the
guide's grammar of one iteration, compiled from the loop tree:

    (?: BODY T  CLP T )++       BODY: the loop's other children in order, each
                                  (?:pattern T){min,max} — R at least once, S optional,
                                  up to max use; a child loop (?:first T body){min,max}

matched over the file's text of the segments that follow a CLP (T what ends each segment:
the terminator and its line break; see raw.py), a window at a time. A match covers whole
claims, each followed by its successor's CLP, and the walk goes on from the same state — for
a loop that may repeat without limit (2100), whose own count then stays saturated; a bounded
loop (1000B: once; 2110: 999 times) counts every iteration. A loop holding such a loop (2000,
the LX group of claims) gets no run: its claims run already, and one of its iterations would
rarely fit a window. Anything else — the last claim of a group, a defect — fails to match
and takes the per-segment path as before.

The pattern is only built for a loop whose grammar is deterministic the way pyx12's walker
is: at every point the next segment's id and qualifier name one place in the loop (no
optional child shares a label with what may follow it, nothing inside a child loop with what
follows the loop), so the one way the pattern places a segment is the way the walker does.
Repeats are bounded by the guide's maximum; same-position siblings (NM1*QC, NM1*IL...) are
taken in the map's order only, a valid other order simply takes the per-segment path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gateway.x12.tr3.map_compiler import MAXINT
from gateway.x12.tr3.tables import Node

Label = tuple[str, frozenset[str] | None]  # segment id, qualifier codes (None: any)


@dataclass(frozen=True)
class _Item:
    """One child of a loop body as the determinism check sees it."""

    first: frozenset[Label]
    inner: frozenset[Label]  # labels after the first segment (child loops only)
    optional: bool
    repeats: bool


def run_pattern(loop: Node, source: Callable[[Node], str], end: str) -> str | None:
    """The regex source of a run of ``loop``'s iterations (None: not safe or not possible)."""
    first = loop.first_segment()
    if first is None or loop.kind != "loop" or loop.max < MAXINT:
        return None  # a bounded loop's count goes up with each iteration: not the same state
    if any(node.id in _CHECKED_ONE_BY_ONE for node in [first, *_segments_below(loop)]):
        return None  # HL numbering and envelope rules are checked segment by segment
    if any(inner.max >= MAXINT for inner in _loops_below(loop)):
        return None  # the inner loop runs (2100 in 2000): an outer iteration rarely fits a window
    if not _deterministic(loop, frozenset({_label(first)})):
        return None
    body = _body(loop, source, re.escape(end))
    if body is None or source(first) == _NEVER:
        return None
    return f"(?:{body}{source(first)}{re.escape(end)})++"


_NEVER = "(?!)"
_CHECKED_ONE_BY_ONE = frozenset({"HL", "ISA", "IEA", "GS", "GE", "ST", "SE"})


def _body(loop: Node, source: Callable[[Node], str], term: str) -> str | None:
    parts = []
    for child in loop.children[1:]:
        if child.usage == "N":
            continue
        low, high = (1 if child.usage == "R" else 0), child.max
        if child.is_segment:
            text = source(child)
            if text == _NEVER:
                if low:
                    return None
                continue
            item = f"{text}{term}"
        else:
            first = child.first_segment()
            inner = _body(child, source, term) if first is not None else None
            if first is None or inner is None or source(first) == _NEVER:
                if low:
                    return None
                continue
            item = f"{source(first)}{term}{inner}"
        parts.append(f"(?:{item})" + ("" if (low, high) == (1, 1) else _repeat(low, high)))
    return "".join(parts)


def _repeat(low: int, high: int) -> str:
    """Possessive: the grammar is deterministic, so nothing is lost by never giving back."""
    if high >= MAXINT:
        return "*+" if low == 0 else "++"
    return f"{{{low},{high}}}+"


def _label(node: Node) -> Label:
    return node.id, (None if node.key is None else node.key[2])


def _overlap(one: frozenset[Label], other: frozenset[Label]) -> bool:
    for seg_id, codes in one:
        for other_id, other_codes in other:
            if seg_id == other_id and (codes is None or other_codes is None
                                       or codes & other_codes):
                return True
    return False


def _item(child: Node) -> _Item | None:
    if child.is_segment:
        return _Item(frozenset({_label(child)}), frozenset(), child.usage != "R", child.max > 1)
    first = child.first_segment()
    if first is None:
        return None
    inner = frozenset(_label(n) for n in _segments_below(child) if n is not first)
    return _Item(frozenset({_label(first)}), inner, child.usage != "R", child.max > 1)


def _segments_below(loop: Node) -> list[Node]:
    out = []
    for child in loop.children:
        out.extend([child] if child.is_segment else _segments_below(child))
    return out


def _loops_below(loop: Node) -> list[Node]:
    out = []
    for child in loop.children:
        if child.is_loop:
            out.extend([child, *_loops_below(child)])
    return out


def _deterministic(loop: Node, follow: frozenset[Label]) -> bool:
    """Can the next segment's label always tell where it belongs, as the walker decides?"""
    items = []
    for child in loop.children[1:]:
        if child.usage == "N":
            continue
        item = _item(child)
        if item is None:
            return False
        items.append((child, item))
    for index, (child, item) in enumerate(items):
        later: frozenset[Label] = frozenset()
        for _, after in items[index + 1:]:
            later |= after.first
            if not after.optional:
                break
        else:
            later |= follow
        if (item.optional or item.repeats) and _overlap(item.first, later):
            return False
        if child.is_loop:
            again = item.first if item.repeats else frozenset()
            if _overlap(item.inner, later | again) or not _deterministic(child, later | again):
                return False
    return True
