"""The walker's steps, memoized: a lazily built automaton over (guide node, counts).

Where a segment lands and what the walk reports depend only on where the walk stands (the
previous segment's node), on the counts (saturated, see :mod:`.walker`), and on the segment's
id and match key (its qualifier, e.g. the ``QC`` of ``NM1*QC``). So a *state* is the pair
(node, counts) and the first walk from a state with a given id and key is remembered as a
:class:`Step`: its target state, what it reported, and the fast pattern of the target node.
The next identical situation costs one or two dict lookups. Saturated counts keep the number
of states small (a claim's shape, not its position in the file); a cap on their number keeps
memory bounded on hostile input (beyond it, steps are computed and not kept).

The slots are shared by every guide in use (pyx12's counter is one table keyed by path, and
the envelope loops' paths are common to all guides); adding a guide adds slots and empties
the automaton, whose states would otherwise have counts of the wrong length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway.x12.tr3.tables import Guide, Node
from gateway.x12.tr3.walker import Counts, Walk, WalkError

MAX_STATES = 20_000
# Envelope and HL segments always take the exact path (their checks are stateful).
UNMEMOIZED_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "HL"})


Fast = tuple[Callable[[str], object], "State", set[str], Callable[[str, int, int], object] | None]
"""A clean step as the hot loop reads it: (the target node's fast pattern, the target state,
the texts that pattern already accepted for that node — a repeated segment such as
``DTM*472*20260105`` is then a set lookup, not a regex run —, and the run pattern's
``match`` when the target starts a loop whose iterations runs.py can take at once)."""
KNOWN_TEXTS = 1024  # remembered texts per node (then only the pattern is used)


class ByElement(dict[str, Fast]):
    """Clean steps of one segment id keyed by its element 01 (``NM1*QC``: "QC")."""


class ByComponent(dict[str, Fast]):
    """Clean steps keyed by the first component of element 01 (``SVC*N4:...``: "N4")."""


class ByKey(dict[str, Fast]):
    """Clean steps keyed by any other match key (ENT02, HL03, several positions)."""


@dataclass(eq=False)
class State:
    """Where the walk stands: a guide node and the saturated counts of every slot.

    ``row`` holds the *clean* steps from here (the segment lands on a node and the walk
    reports nothing), as the hot loop reads them: per segment id a ``Fast`` tuple, or the
    tuples by match key. ``slow`` keeps the other steps, by (segment id, key).
    """

    node: Node
    counts: tuple[int, ...]
    row: dict[str, Fast | ByElement | ByComponent | ByKey] = field(default_factory=dict)
    slow: dict[tuple[str, str], Step] = field(default_factory=dict)


@dataclass(eq=False)
class Step:
    target: State | None  # None: the segment is not in the guide here (state unchanged)
    found: Node | None
    errors: tuple[WalkError, ...]
    fast: Callable[[str], object] | None  # the target's fast pattern (None: no target)


class Slots:
    """One count slot per distinct path of every guide in use, with caps and loop ranges."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.caps: list[int] = []
        self._by_path: dict[str, int] = {}
        self._below: dict[str, tuple[tuple[int, int], ...]] = {}
        self.guides: set[str] = set()

    def add(self, guide: Guide) -> bool:
        """Give every node of ``guide`` its slot; True when new slots were made."""
        if guide.map_file in self.guides:
            return False
        self.guides.add(guide.map_file)
        grew = False
        for node in guide.nodes[1:]:
            slot = self._by_path.get(node.path)
            if slot is None:
                slot = self._by_path[node.path] = len(self.paths)
                self.paths.append(node.path)
                self.caps.append(1)
                grew = True
            node.slot = slot
            if node.max < 2147483647:
                self.caps[slot] = max(self.caps[slot], node.max + 1)
        self._below.clear()
        return grew

    def slot(self, path: str) -> int:
        return self._by_path[path]

    def below(self, node: Node) -> tuple[tuple[int, int], ...]:
        return self.below_path(node.path)

    def below_path(self, path: str) -> tuple[tuple[int, int], ...]:
        """Slot ranges of the paths under ``path`` (pyx12's ``reset_to_node``)."""
        ranges = self._below.get(path)
        if ranges is None:
            root = path.split("/")
            inside = sorted(i for i, p in enumerate(self.paths)
                            if len(p.split("/")) > len(root) and p.split("/")[:len(root)] == root)
            merged: list[list[int]] = []
            for i in inside:
                if merged and merged[-1][1] == i:
                    merged[-1][1] = i + 1
                else:
                    merged.append([i, i + 1])
            ranges = self._below[path] = tuple((a, b) for a, b in merged)
        return ranges


class Automaton:
    """States and memoized steps for one set of delimiters (fast patterns depend on them)."""

    def __init__(self, slots: Slots,
                 fast_for: Callable[[Node], tuple[Callable[[str], object], set[str]]],
                 run_for: Callable[[Node], Callable[[str, int, int], object] | None]) -> None:
        self.slots = slots
        self.fast_for = fast_for
        self.run_for = run_for
        self._states: dict[tuple[int, tuple[int, ...]], State] = {}
        self._size = len(slots.paths)

    def state(self, node: Node, counts: Sequence[int]) -> State:
        """The interned state for (node, counts); counts shorter than the slots are padded."""
        values = tuple(counts) + (0,) * (len(self.slots.paths) - len(counts))
        key = (id(node), values)
        found = self._states.get(key)
        if found is None:
            found = State(node, values)
            if len(self._states) < MAX_STATES:
                self._states[key] = found
        return found

    def refresh(self) -> None:
        """Forget every state after the slots grew (their counts have the old length)."""
        if len(self.slots.paths) != self._size:
            self._states.clear()
            self._size = len(self.slots.paths)

    def counts(self, state: State) -> Counts:
        values = list(state.counts) + [0] * (len(self.slots.paths) - len(state.counts))
        return Counts(values, self.slots.caps, self.slots.below)

    def step(self, state: State, elements: list[str], component: str) -> Step:
        """Walk one segment from ``state`` (memoized by id and match key)."""
        seg_id = elements[0]
        positions = state.node.match_keys.get(seg_id, ())
        container, key = _container(positions, elements, component)
        clean = _clean_step(state.row.get(seg_id), container is not None, key)
        if clean is not None:
            return Step(clean[1], clean[1].node, (), clean[0])
        if (seg_id, key) in state.slow:
            return state.slow[(seg_id, key)]
        counts = self.counts(state)
        walk = Walk(counts, lambda node: matches(node, elements, component))
        found = walk.run(state.node)
        target = None if found is None else self.state(found, counts.values)
        fast, known = (None, set()) if found is None else self.fast_for(found)
        step = Step(target, found, tuple(walk.errors), fast)
        if seg_id in UNMEMOIZED_IDS or len(self._states) >= MAX_STATES:
            return step
        if step.errors or target is None or fast is None:
            state.slow[(seg_id, key)] = step
        elif container is None:
            state.row[seg_id] = (fast, target, known, self.run_for(target.node))
        else:
            keyed = state.row.setdefault(seg_id, container())
            assert isinstance(keyed, dict)
            keyed[key] = (fast, target, known, self.run_for(target.node))
        return step


def _clean_step(entry: Fast | ByElement | ByComponent | ByKey | None, keyed: bool, key: str
                ) -> Fast | None:
    """The memoized clean step in a row entry (under ``key`` when the id is keyed)."""
    if entry is None:
        return None
    if keyed:
        return entry.get(key) if isinstance(entry, dict) else None
    return entry if isinstance(entry, tuple) else None


def _container(positions: Sequence[tuple[int, int | None]], elements: list[str],
               component: str) -> tuple[type[ByElement | ByComponent | ByKey] | None, str]:
    """Which keyed container a segment id's steps go in, and this segment's key there.

    The hot loop in :mod:`.validator` reads the containers with the same keys.
    """
    if not positions:
        return None, ""
    if list(positions) == [(1, None)]:
        return ByElement, elements[1] if len(elements) > 1 else ""
    if list(positions) == [(1, 1)]:
        first = elements[1] if len(elements) > 1 else ""
        return ByComponent, first.partition(component)[0]
    return ByKey, key_of(positions, elements, component)


def key_of(positions: Sequence[tuple[int, int | None]], elements: list[str],
           component: str) -> str:
    """The values at every match-key position, as one string (ByKey's key)."""
    values = []
    for element, part in positions:
        value = elements[element] if element < len(elements) else ""
        if part is not None:
            pieces = value.split(component)
            value = pieces[part - 1] if part <= len(pieces) else ""
        values.append(value)
    return "\x1f".join(values)


def matches(node: Node, elements: list[str], component: str) -> bool:
    """pyx12's ``segment_if.is_match``: same id and, if the node has a key, one of its codes.

    A key on element 01 compares the element as pyx12 formats it (components joined,
    trailing empty ones dropped); a key on a component compares that component.
    """
    if node.id != elements[0]:
        return False
    if node.key is None:
        return True
    element, part, codes = node.key
    if element >= len(elements):
        return False
    value = elements[element]
    if part is None:
        if component in value:
            value = value.rstrip(component)
        return value in codes
    pieces = value.split(component)
    return part <= len(pieces) and pieces[part - 1] in codes
