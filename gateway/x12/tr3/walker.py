"""Which loop and segment of the guide a data segment is: pyx12's map walker, over our tables.

Given the node of the previous segment and the counts of everything seen so far, find the
node the next segment is (a later sibling, a repeat, the first segment of a child loop, or,
popping out loop by loop, something further up), and report what the walk stepped over:
required segments and loops that are missing, segments and loops used more often than the
guide allows, a segment the guide has no place for here. This is the semantics of pyx12's
``walk_tree.walk_errors``, kept exactly — including its order of checks and its habit of
buffering a "missing" verdict until the walk has moved past the position where the segment
could still appear — because the validator must report what pyx12 reports.

Counts live in a plain list indexed by each node's ``slot`` (one slot per distinct path, see
:mod:`.map_compiler`). Only two questions are ever asked of a count, "more than the maximum?"
and "none yet?", so a count is kept saturated at ``cap[slot]`` (maximum + 1, or 1 when the
maximum is unbounded): counts then take few values, which is what lets
:mod:`.transitions` memoize whole steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.x12.tr3.tables import Node

# The five things a walk can report (pyx12's IK304 codes).
NOT_FOUND = "1"
NOT_USED = "2"
MISSING = "3"
LOOP_OVER_MAX = "4"
SEGMENT_OVER_MAX = "5"


@dataclass(frozen=True)
class WalkError:
    """One verdict of a walk: ``code`` above, ``node`` the guide node it is about.

    For MISSING, ``node`` is the missing segment, or the first segment of the missing loop
    (``loop`` is then the loop); for NOT_FOUND it is the node the walk started from.
    """

    code: str
    node: Node
    loop: Node | None = None


class Counts:
    """The counts of one walk position: slots, their caps, and what a reset clears."""

    def __init__(self, values: list[int], caps: Sequence[int],
                 below: Callable[[Node], Sequence[tuple[int, int]]]) -> None:
        self.values = values
        self.caps = caps
        self.below = below  # slot ranges of every node under a loop (what entering it resets)

    def get(self, node: Node) -> int:
        return self.values[node.slot]

    def increment(self, node: Node) -> None:
        slot = node.slot
        if self.values[slot] < self.caps[slot]:
            self.values[slot] += 1

    def reset_below(self, loop: Node) -> None:
        values = self.values
        for start, stop in self.below(loop):
            values[start:stop] = [0] * (stop - start)


class Walk:
    """One call of the walker (pyx12 keeps this state on ``walk_tree`` between calls)."""

    def __init__(self, counts: Counts, matches: Callable[[Node], bool]) -> None:
        self.counts = counts
        self.matches = matches  # does the data segment match this segment node?
        self.errors: list[WalkError] = []
        self.pending: list[WalkError] = []  # "missing" verdicts not yet final

    def run(self, start: Node) -> Node | None:
        """The node the data segment is, or None (NOT_FOUND reported; position unchanged)."""
        pos = start.pos
        loop = start if start.kind != "segment" else start.loop()
        while True:
            found = self._scan(loop, pos, start)
            if found is not None:
                return found
            if loop.kind == "root":
                self.errors.append(WalkError(NOT_FOUND, start))
                return None
            pos = loop.pos
            loop = loop.loop()

    def _scan(self, loop: Node, pos: int, start: Node) -> Node | None:
        for child in loop.children:
            if child.pos < pos:
                continue
            if child.kind == "segment":
                found = self._try_segment(loop, child, start)
            else:
                found = self._goto(child) if self._loop_matches(child) else None
            if found is not None:
                return found
        return None

    def _try_segment(self, loop: Node, child: Node, start: Node) -> Node | None:
        if self.matches(child):
            if loop.kind == "loop" and self._loop_matches(loop):
                return self._goto(loop)  # its first segment again: a new iteration
            self.counts.increment(child)
            self._check_segment_use(child)
            self.pending = [m for m in self.pending if not _same_node(m.node, child)]
            self._flush(child.pos)
            return child
        if child.usage == "R" and self.counts.get(child) < 1:
            self.pending.append(WalkError(MISSING, child))
        return None

    def _loop_matches(self, loop: Node) -> bool:
        """Does the segment start ``loop`` (or, for a wrapper of loops, one of them)?"""
        first = loop.first_node()
        if first is None:
            return False
        if first.kind == "loop":
            return any(c.kind == "loop" and self._loop_matches(c) for c in loop.children)
        if self.matches(first):
            return True
        if loop.usage == "R" and self.counts.get(loop) < 1:
            self.pending.append(WalkError(MISSING, first, loop))
        return False

    def _goto(self, loop: Node) -> Node | None:
        """Enter ``loop`` (and the loops under it) down to the segment that matched."""
        first = loop.first_segment()
        if first is not None and self.matches(first):
            self._check_loop_use(loop)
            self.counts.increment(first)
            self._flush(None)
            return first
        for child in loop.children:
            if child.kind == "loop":
                found = self._goto(child)
                if found is not None:
                    return found
        return None

    def _check_segment_use(self, node: Node) -> None:
        if node.usage == "N":
            self.errors.append(WalkError(NOT_USED, node))
        elif self.counts.get(node) > node.max:
            self.errors.append(WalkError(SEGMENT_OVER_MAX, node))

    def _check_loop_use(self, loop: Node) -> None:
        if loop.usage == "N":
            self.errors.append(WalkError(NOT_USED, loop))
            return
        self.counts.reset_below(loop)
        self.counts.increment(loop)
        if self.counts.get(loop) > loop.max:
            self.errors.append(WalkError(LOOP_OVER_MAX, loop))

    def _flush(self, pos: int | None) -> None:
        """Missing verdicts become errors, except those at ``pos`` (still possible there)."""
        keep = []
        for missing in self.pending:
            if missing.node.pos != pos:
                self.errors.append(missing)
            else:
                keep.append(missing)
        self.pending = keep


def _same_node(one: Node, other: Node) -> bool:
    """pyx12's node equality: same id under a parent of the same id (not identity), so a
    match of NM1*IL clears a pending "NM1*QC missing" of the same loop."""
    return one.id == other.id and one.parent is not None and other.parent is not None \
        and one.parent.id == other.parent.id


def force_loop_start(counts: Counts, loop: Node, first: Node) -> None:
    """What pyx12 does at every ISA and GS: a fresh loop, its first segment counted once."""
    counts.reset_below(loop)
    counts.increment(loop)
    counts.increment(first)
