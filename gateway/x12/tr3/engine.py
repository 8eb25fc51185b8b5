"""What outlives one file: the compiled guides, their count slots, the automata and lists.

An automaton's fast patterns depend on the interchange's delimiters and, for code-list
elements, on which codes are in effect on the group's date; so there is one automaton per
(element separator, component separator, code-list era). A file normally needs one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date

from gateway.x12.tr3.code_lists import Binding, CodeLists, binding_of
from gateway.x12.tr3.elements import INVALID_CODE, ElementError, check_segment
from gateway.x12.tr3.fast_match import Accepted, Delims, segment_pattern
from gateway.x12.tr3.runs import run_pattern
from gateway.x12.tr3.tables import Element, Guide, MapDirectory, Node
from gateway.x12.tr3.transitions import Automaton, Slots


class Engine:
    def __init__(self, maps: MapDirectory, lists: CodeLists) -> None:
        self.maps = maps
        self.lists = lists
        self.slots = Slots()
        self._automata: dict[tuple[str, str, str, int], Automaton] = {}
        self._bound: dict[int, list[tuple[Element, Binding]]] = {}

    def register(self, guide: Guide) -> None:
        """Make ``guide``'s nodes countable (new slots forget the automata's states)."""
        if self.slots.add(guide):
            for automaton in self._automata.values():
                automaton.refresh()

    def automaton(self, delims: Delims, on: date | None) -> Automaton:
        key = (delims.element, delims.component, delims.end, self.lists.era(on))
        if key not in self._automata:
            patterns = _FastPatterns(delims, on, self)
            self._automata[key] = Automaton(self.slots, patterns, patterns.run)
        return self._automata[key]

    def accepted(self, node: Node, spec: Element, on: date | None) -> Accepted | None:
        """The codes the fast path may accept for ``spec`` (None: no list is bound to it)."""
        binding = binding_of(node, spec)
        listed = self.lists.get(binding.list_name) if binding else None
        if binding is not None and listed is not None:
            return listed.accepted(on, pyx12=binding.pyx12)
        if not spec.external or node.guide is None:
            return None
        codes = node.guide.external.get(spec.external)
        return None if codes is None else Accepted(codes)

    def element_errors(self, node: Node, elements: list[str], component: str,
                       on: date | None) -> list[ElementError]:
        """pyx12's element checks, then the code lists' (with their dates)."""
        guide = node.guide
        assert guide is not None

        def in_list(name: str, value: str) -> bool:
            listed = self.lists.get("rarc") if name == "remark_code" else None
            if listed is not None:
                return value in listed.dates
            return value in guide.external.get(name, frozenset())

        errors = check_segment(node, elements, component, in_list, guide.icvn or "00401")
        bound = self._bound_elements(node)
        out = []
        for error in errors:
            binding = next((b for spec, b in bound if spec.seq == error.element
                            and error.component is None), None)
            listed = self.lists.get(binding.list_name) if binding else None
            if error.code == INVALID_CODE and listed is not None and not listed.complete:
                error = dataclasses.replace(error, warning=True, message=(
                    f"{error.message}: not on the loaded {listed.name.upper()} list (as of "
                    f"{listed.as_of}, incomplete); load the current list to be sure"))
            out.append(error)
        return out + self._dated(node, elements, component, on, bound)

    def _dated(self, node: Node, elements: list[str], component: str, on: date | None,
               bound: list[tuple[Element, Binding]]) -> list[ElementError]:
        out = []
        for spec, binding in bound:
            listed = self.lists.get(binding.list_name)
            value = elements[spec.seq] if spec.seq < len(elements) else ""
            if listed is None or not value or component in value:
                continue
            if binding.when is not None:
                at, wanted = binding.when
                if (elements[at] if at < len(elements) else "") != wanted:
                    continue
            effect = listed.in_effect(value, on)
            where = f"{node.id}{spec.seq:02d}"
            if effect is False:
                start, stop = listed.dates[value]
                out.append(ElementError(
                    INVALID_CODE, spec.seq, None, where,
                    f"{where}: {listed.name.upper()} {value} is not in effect on {on} (the "
                    f"group's date): its dates are {start or '?'} to {stop or 'now'}",
                    kind="code-out-of-date", warning=True))
            elif effect is None and listed.complete and not binding.pyx12:
                out.append(ElementError(
                    INVALID_CODE, spec.seq, None, where,
                    f"{where}: {value} is not on the {listed.title} (as of {listed.as_of})",
                    kind="code-unknown", warning=True))
        return out

    def _bound_elements(self, node: Node) -> list[tuple[Element, Binding]]:
        found = self._bound.get(id(node))
        if found is None:
            found = self._bound[id(node)] = [
                (spec, b) for spec in node.elements if isinstance(spec, Element)
                and (b := binding_of(node, spec)) is not None]
        return found


class _FastPatterns:
    """Each node's compiled fast pattern for one automaton (built on first use), and the run
    pattern of the loop a node starts (see runs.py)."""

    def __init__(self, delims: Delims, on: date | None, engine: Engine) -> None:
        self.delims = delims
        self.on = on
        self.engine = engine
        self._sources: dict[int, str] = {}
        self._patterns: dict[int, tuple[Callable[[str], object], set[str]]] = {}
        self._runs: dict[int, Callable[[str, int, int], re.Match[str] | None] | None] = {}

    def __call__(self, node: Node) -> tuple[Callable[[str], object], set[str]]:
        """The node's pattern (its ``fullmatch``) and the set of texts it accepted so far."""
        found = self._patterns.get(id(node))
        if found is None:
            found = (re.compile(self.source(node), re.S).fullmatch, set())
            self._patterns[id(node)] = found
        return found

    def source(self, node: Node) -> str:
        found = self._sources.get(id(node))
        if found is None:
            assert node.guide is not None
            found = self._sources[id(node)] = segment_pattern(
                node, self.delims, node.guide.icvn or "00401",
                lambda n, spec: self.engine.accepted(n, spec, self.on))
        return found

    def run(self, node: Node) -> Callable[[str, int, int], re.Match[str] | None] | None:
        """The run pattern's ``match`` when ``node`` is the first segment of a loop."""
        if id(node) not in self._runs:
            loop = node.parent
            source = (run_pattern(loop, self.source, self.delims.end)
                      if loop is not None and loop.first_segment() is node else None)
            self._runs[id(node)] = None if source is None else re.compile(source, re.S).match
        return self._runs[id(node)]
