"""TR3 validation of an X12 file: the one scanner's segments through the compiled guides.

Each segment takes one of two paths. The fast path — a memoized walker step
(:mod:`.transitions`) whose target's pattern (:mod:`.fast_match`) matches the segment's text
— is all a valid segment costs. Everything else (an envelope segment, a situation the
automaton has not met yet, a segment the pattern does not accept) takes the exact path, which
does what pyx12 does for a segment: its reader's checks (leading space, trailing separator,
empty segment, invalid id, control numbers repeated, HL numbering), the walk, and the element
checks (:mod:`.elements`), each defect a :class:`Finding` (:mod:`.reporting`).

Not checked here: envelope pairing, control numbers of trailers, counts (SE01, GE01, IEA01),
missing trailers and 835 balancing — the structural checks do those (gateway.x12.checks) and
``validate_tr3`` puts their findings first.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from gateway.x12.syntax.findings import Finding
from gateway.x12.syntax.tokenizer import Segment, iter_segments
from gateway.x12.tr3.code_lists import CodeLists, group_date, load_code_lists
from gateway.x12.tr3.engine import Engine
from gateway.x12.tr3.fast_match import Delims
from gateway.x12.tr3.raw import RawView
from gateway.x12.tr3.reporting import Reporting, Where
from gateway.x12.tr3.tables import Guide, MapDirectory, Node
from gateway.x12.tr3.transitions import KNOWN_TEXTS, Automaton, ByComponent, ByElement, State
from gateway.x12.tr3.walker import force_loop_start

ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


@dataclass
class Envelope:
    """Where the file is in its envelopes, and what pyx12's reader counts there."""

    icvn: str | None = None
    guide: Guide | None = None  # the current group's guide; None outside or when unknown
    on: date | None = None  # the current group's date (GS04): code lists are checked on it
    skipping: bool = False  # inside a group whose guide is unknown
    isa_ids: set[str | None] = field(default_factory=set)
    gs_ids: set[str | None] = field(default_factory=set)
    st_ids: set[str | None] = field(default_factory=set)
    where: Where = field(default_factory=Where)
    count_base: int = 0  # pyx12's seg_count: 1 at ST, then +1 per body segment ...
    count_from: int = 0  # ... counted from this segment number,
    envelope_since: int = 0  # less the envelope segments seen since.
    hl_count: int = 0
    hl_stack: list[int] = field(default_factory=list)

    def count(self, number: int) -> int:
        return self.count_base + number - self.count_from - self.envelope_since


class Run:
    """One pass over one file's segments."""

    def __init__(self, engine: Engine, report: Reporting) -> None:
        self.engine = engine
        self.maps = engine.maps
        self.report = report
        self.env = Envelope()
        self.delims = Delims("*", ":")
        self.automaton: Automaton | None = None
        self.state: State | None = None

    def run(self, segments: Iterator[Segment], raw: RawView) -> None:
        """Validate every segment: the fast path, else :meth:`exact`.

        A segment is done when its memoized clean step from the current state exists and the
        text was seen before or the target node's pattern accepts it; when that target starts
        a loop with a run pattern (a CLP), one match over the file's text (``raw``) takes all
        the whole claims that follow, and the scanner's segments it covered are passed over.
        The loop is written for those cases (locals, tuples, no attribute chains): it is what
        a valid file costs.
        """
        exact = self.exact
        state = self.state
        # The current state's clean steps (transitions.State.row), read duck-typed: a
        # transitions.Fast tuple, or a ByElement/ByComponent dict of them.
        row: dict[str, Any] = state.row if state is not None else {}
        component = self.delims.component
        for segment in segments:
            elements = segment[2]
            entry: Any = row.get(elements[0])
            if entry is not None:
                kind = entry.__class__
                if kind is not tuple:
                    try:
                        if kind is ByElement:
                            entry = entry.get(elements[1])
                        elif kind is ByComponent:
                            entry = entry.get(elements[1].partition(component)[0])
                        else:
                            entry = None
                    except IndexError:  # no element 01 to key on
                        entry = None
                if entry is not None:
                    text = segment[3].join(elements)
                    known = entry[2]
                    clean = text in known
                    if not clean and entry[0](text) is not None:
                        clean = True
                        if len(known) < KNOWN_TEXTS:
                            known.add(text)
                    if clean:
                        state = entry[1]
                        row = state.row
                        if entry[3] is not None and segment[4] == self.delims.end:
                            end = segment[4]
                            covered = raw.run(entry[3], segment[1] + len(text) + len(end), end)
                            if covered:  # whole iterations: the walk is where it was
                                next(islice(segments, covered - 1, None))
                        continue
            self.state = state
            exact(segment)
            state = self.state
            row = state.row if state is not None else {}
            component = self.delims.component
        self.state = state
        self.report.close()

    def exact(self, segment: Segment) -> None:
        """Everything pyx12 does for one segment, each defect reported."""
        number, _, elements, _, _ = segment
        env = self.env
        seg_id = elements[0]
        if seg_id == "ISA":
            self._use_delimiters(segment)
        if seg_id in ENVELOPE and seg_id != "ST":
            env.envelope_since += 1
        elif seg_id == "ST":
            env.count_base, env.count_from, env.envelope_since = 1, number, 0
        env.where.position = env.count(number)
        loop = self.state.node.guide_loop_id() if self.state is not None else None
        if seg_id.startswith(" "):
            self.report.reader_defect(segment, "leading-space", env.where, loop)
            elements = [seg_id.lstrip(), *elements[1:]]
            seg_id = elements[0]
        if len(elements) > 1 and elements[-1] == "":
            self.report.reader_defect(segment, "trailing-separator", env.where, loop)
        if _is_empty(elements, self.delims.component):
            self.report.reader_defect(segment, "empty", env.where, loop)
        if not _SEGMENT_ID.fullmatch(seg_id):
            self.report.reader_defect(segment, "bad-id", env.where, loop)
        if seg_id == "ISA":
            self._isa(segment, elements)
        elif seg_id == "GS":
            self._gs(segment, elements)
        elif env.skipping and seg_id != "GE":
            return  # inside a group no guide is known for: its GE ends the skip
        else:
            env.skipping = False
            if seg_id == "ST":
                self._st(segment, elements)
            elif seg_id == "HL":
                self._hl(segment, elements)
            self._walk(segment, elements)

    def _use_delimiters(self, segment: Segment) -> None:
        elements = segment[2]
        component = elements[16][:1] if len(elements) > 16 and elements[16] else ":"
        terminator = segment[4][:1] or "~"
        self.delims = Delims(segment[3], component, terminator, segment[4] or terminator)
        self._switch_automaton()

    def _switch_automaton(self) -> None:
        """Use the automaton of the current delimiters and group date (the state carries)."""
        self.automaton = self.engine.automaton(self.delims, self.env.on)
        if self.state is not None:
            self.state = self.automaton.state(self.state.node, self.state.counts)

    def _isa(self, segment: Segment, elements: list[str]) -> None:
        env = self.env
        isa13 = elements[13] if len(elements) > 13 else None
        if isa13 in env.isa_ids:
            self.report.envelope_defect(segment, "duplicate-isa13", env.where)
        env.isa_ids.add(isa13)
        env.gs_ids = set()
        env.icvn = elements[12] if len(elements) > 12 else None
        env.where.gs06 = env.where.st02 = None
        env.guide, env.skipping = None, False
        control = self.maps.control(env.icvn)
        self._check_elements(segment, elements, self._force(control, "/ISA_LOOP", "ISA"))

    def _gs(self, segment: Segment, elements: list[str]) -> None:
        env = self.env
        gs06 = elements[6] if len(elements) > 6 else None
        env.where.gs06, env.where.st02 = gs06, None
        if gs06 in env.gs_ids:
            self.report.envelope_defect(segment, "duplicate-gs06", env.where)
        env.gs_ids.add(gs06)
        env.st_ids = set()
        gs01 = elements[1] if len(elements) > 1 else None
        gs08 = elements[8] if len(elements) > 8 else None
        guide = self.maps.guide_for(env.icvn, gs08, gs01)
        env.guide, env.skipping = guide, guide is None
        env.on = group_date(elements[4] if len(elements) > 4 else None)
        self._switch_automaton()
        if guide is None:
            # Reported, and walked on in the envelope-only map so that its GE closes it.
            self.report.unsupported_guide(segment, gs01, gs08, env.where)
            self._force(self.maps.control(env.icvn), "/ISA_LOOP/GS_LOOP", "GS")
            return
        node = self._force(guide, "/ISA_LOOP/GS_LOOP", "GS")
        self._check_elements(segment, elements, node)

    def _st(self, segment: Segment, elements: list[str]) -> None:
        env = self.env
        st02 = elements[2] if len(elements) > 2 else None
        env.where.st02 = st02
        if st02 in env.st_ids:
            self.report.envelope_defect(segment, "duplicate-st02", env.where)
        env.st_ids.add(st02)
        env.hl_count, env.hl_stack = 0, []

    def _hl(self, segment: Segment, elements: list[str]) -> None:
        """pyx12's reader numbers HL segments and checks each parent is an open HL."""
        env = self.env
        loop = self.state.node.guide_loop_id() if self.state is not None else None
        env.hl_count += 1
        if _int(elements[1] if len(elements) > 1 else None) != env.hl_count:
            self.report.reader_defect(segment, "hl-count", env.where, loop)
        parent = elements[2] if len(elements) > 2 else ""
        if parent != "":
            number = _int(parent)
            if number not in env.hl_stack:
                self.report.reader_defect(segment, "hl-parent", env.where, loop)
            while env.hl_stack and number != env.hl_stack[-1]:
                env.hl_stack.pop()
        env.hl_stack.append(env.hl_count)

    def _force(self, guide: Guide, loop_path: str, first_id: str) -> Node:
        """Restart the walk at an ISA or GS (pyx12's ``forceWalkCounterToLoopStart``)."""
        self.engine.register(guide)
        automaton = self._automaton()
        start = self.state if self.state is not None else automaton.state(guide.root, ())
        counts = automaton.counts(start)
        loop, first = guide.node_at(loop_path), guide.node_at(f"{loop_path}/{first_id}")
        force_loop_start(counts, loop, first)
        self.state = automaton.state(first, counts.values)
        return first

    def _automaton(self) -> Automaton:
        if self.automaton is None:
            self.automaton = self.engine.automaton(self.delims, self.env.on)
        return self.automaton

    def _walk(self, segment: Segment, elements: list[str]) -> None:
        if self.state is None:  # nothing before the first ISA reaches here
            return
        self.engine.register(self.env.guide or self.maps.control(self.env.icvn))
        automaton = self._automaton()
        self.state = automaton.state(self.state.node, self.state.counts)
        step = automaton.step(self.state, elements, self.delims.component)
        for error in step.errors:
            self.report.walk_error(segment, error, self.env.where)
        if step.target is None or step.found is None:
            return
        self.state = step.target
        if step.fast is not None and step.fast(segment[3].join(elements)) is not None:
            return
        self._check_elements(segment, elements, step.found)

    def _check_elements(self, segment: Segment, elements: list[str], node: Node) -> None:
        for error in self.engine.element_errors(node, elements, self.delims.component,
                                                self.env.on):
            self.report.element_error(segment, node, error, self.env.where)


def _is_empty(elements: list[str], component: str) -> bool:
    """pyx12's empty segment: no element, or only empty elements and components."""
    if elements[0] == "ISA":
        return not any(elements[1:])
    return not any(e.replace(component, "") for e in elements[1:])


def _int(text: str | None) -> int | None:
    try:
        return int(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


DEFAULT_LIMIT = 10_000


class Tr3Validator:
    """Validates X12 files against the TR3 guides; reuse one: guides compile once each."""

    def __init__(self, maps: MapDirectory | None = None, *,
                 code_lists: CodeLists | Path | None = None, limit: int = DEFAULT_LIMIT
                 ) -> None:
        """``code_lists``: the CARC/RARC lists, or a directory of them (default: the ones
        shipped, or $GATEWAY_CODE_LISTS); ``limit``: findings per file before a summary."""
        lists = code_lists if isinstance(code_lists, CodeLists) else load_code_lists(code_lists)
        self.engine = Engine(maps or MapDirectory(), lists)
        self.limit = limit

    def validate(self, source: str | Path | BinaryIO | TextIO, *, file_name: str | None = None,
                 structural: list[Finding] | None = None) -> list[Finding]:
        """The findings of ``source``: ``structural`` ones first, then the guide's."""
        findings = list(structural or ())
        name = file_name or (str(source) if isinstance(source, str | Path) else None)
        scanner: list[Finding] = []
        with _binary(source) as stream:
            run = Run(self.engine, Reporting(name, findings, self.limit + len(findings)))
            raw = RawView(stream)  # the scanner only calls read()
            run.run(iter_segments(cast(BinaryIO, raw), file_name=name, findings=scanner), raw)
        if structural is None:
            findings[:0] = scanner
        return findings


class _binary:
    """The source as a binary stream (a path is opened and closed; text is re-encoded)."""

    def __init__(self, source: str | Path | BinaryIO | TextIO) -> None:
        self.source = source
        self.opened: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if isinstance(self.source, str | Path):
            self.opened = open(self.source, "rb")
            return self.opened
        if isinstance(self.source, io.TextIOBase):
            return io.BytesIO(self.source.read().encode("latin-1"))
        return self.source  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        if self.opened is not None:
            self.opened.close()


def validate_tr3(source: str | Path | BinaryIO | TextIO, *, file_name: str | None = None,
                 structural: list[Finding] | None = None) -> list[Finding]:
    """One-shot :meth:`Tr3Validator.validate`."""
    return Tr3Validator().validate(source, file_name=file_name, structural=structural)
