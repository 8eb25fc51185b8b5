"""TR3 validation with pyx12: the deep stage a partner's configuration can switch on.

pyx12 (4.0.0) checks a file against the implementation guide's XML map: loop structure,
segment usage and repeats, element lengths, types and code lists. We drive its building
blocks ourselves (X12Reader, the maps, walk_tree, err_handler) instead of calling
``x12n_document``, because that function keeps its error tree to itself, writes the
acknowledgment with a defective 999 visitor and raises on an unknown version. Owning the
loop lets us read the error tree programmatically and turn it into :class:`Finding` objects
that our own TA1/999 writers use.

The known pyx12 4.0.0 defects (see the 835 reference) are handled here:

1. its 999 for a 5010 835 is truncated — we never use its 999 visitor (gateway.x12.write.ack
   writes ours);
2. it rejects an 835 with more than one PLB ("Loop FOOTER exceeded max count") — we give it
   a corrected map in memory: the 835's FOOTER is a *wrapper* (not an X12 loop, it has no
   repeat of its own), and the walker re-enters it for every PLB, so its repeat is lifted to
   ">1"; PLB's own rules (max use, syntax, codes) are still enforced;
3. its reader stops silently at an empty segment (``~~``) — callers run the structural
   checks first (``validate_tr3`` takes their findings) and pyx12 is not run when they found
   an envelope that pyx12 would misread;
4. ``EngineError: Map not found`` for an unknown GS01/GS08 — becomes a fatal group finding;
5. its RARC list is stale — RARC code-list errors are downgraded to warnings.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

import pyx12.error_handler
import pyx12.errors
import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.x12file
from pyx12.map_if._segment import apply_segment_errors
from pyx12.map_walker import apply_walk_errors, walk_tree

from gateway.errors import Location
from gateway.x12.syntax.findings import Finding, Level

# TA105 code for an error in each ISA element (ISA01..ISA16).
_ISA_ELEMENT_TA105 = {
    1: "010", 2: "011", 3: "012", 4: "013", 5: "005", 6: "006", 7: "007", 8: "008",
    9: "014", 10: "015", 11: "016", 12: "017", 13: "018", 14: "019", 15: "020", 16: "027",
}
# Structural findings (gateway.x12.syntax.tokenizer's codes) after which pyx12 would stop silently
# or misread the rest; so would any fatal interchange-level finding (a bad ISA).
_MISLEADING_CODES = frozenset({"empty-segment", "bad-segment-id", "truncated"})
# (segment id, element, component) of the elements coded from the RARC list, per map.
_Remarks = frozenset[tuple[str, int, int | None]]


class Tr3Validator:
    """Validates X12 files against pyx12's TR3 maps; reusable (maps are loaded once each).

    ``validate(source)`` returns the findings; fatal ones reject what their level names.
    """

    def __init__(self) -> None:
        self._param = pyx12.params.params()
        self._index = pyx12.map_index.map_index()
        self._maps: dict[str, Any] = {}
        self._remark_positions: dict[str, _Remarks] = {}

    def validate(
        self,
        source: str | Path | TextIO,
        *,
        file_name: str | None = None,
        structural: list[Finding] | None = None,
    ) -> list[Finding]:
        """Run pyx12 over ``source`` (a path or a text stream) and return its findings.

        ``structural`` are the findings of our own structural checks, run first. When one of
        them shows that pyx12 would stop silently or misread the rest (an empty segment, a
        bad ISA, a truncated file, ...) pyx12 is not run: the structural finding already
        rejects the file. The returned list starts with the structural findings.
        """
        findings = list(structural or ())
        if not pyx12_can_run(findings):
            return findings
        name = file_name or (str(source) if isinstance(source, str | Path) else None)
        errh = pyx12.error_handler.err_handler()
        with _quiet_pyx12(), ExitStack() as stack:
            stream = source if not isinstance(source, str | Path) else stack.enter_context(
                _open_at_isa(Path(source)))
            try:
                map_file = self._walk(stream, errh)
            except _MapNotFound as exc:
                findings += self._collect(errh, name, None)
                findings.append(exc.finding(name))
                return findings
            except pyx12.errors.X12Error as exc:
                findings.append(_finding("pyx12-not-x12", f"pyx12 cannot read it as X12: {exc}",
                                         Level.INTERCHANGE, Location(file=name), x12_code="022"))
                return findings
            except Exception as exc:  # a third-party validator's own failure
                # pyx12 has failed on inputs it did not expect (EngineError, KeyError); what
                # it found so far is kept and the gap is a warning, never a crash.
                findings += self._collect(errh, name, None)
                findings.append(_finding(
                    "tr3-incomplete", f"TR3 validation stopped early ({type(exc).__name__}: "
                    f"{str(exc)[:80]}); the structural checks still apply", Level.GROUP,
                    Location(file=name), x12_code=None, fatal=False))
                return findings
        return findings + self._collect(errh, name, map_file)

    def _map(self, map_file: str) -> Any:
        if map_file not in self._maps:
            loaded = pyx12.map_if.load_map_file(map_file, self._param)
            _lift_wrapper_repeat(loaded)
            self._maps[map_file] = loaded
            self._remark_positions[map_file] = frozenset(_remark_code_positions(loaded))
        return self._maps[map_file]

    def _walk(self, source: str | TextIO, errh: Any) -> str | None:
        """Feed every segment through pyx12's map walker into ``errh``; return the map used."""
        src = pyx12.x12file.X12Reader(source)
        control = self._map(f"x12.control.{'00501' if src.icvn == '00501' else '00401'}.xml")
        node = control.getnodebypath("/ISA_LOOP/ISA")
        walker = walk_tree()
        icvn = map_file = None
        tx_map: Any = None
        for seg in src:
            seg_id = seg.get_seg_id()
            if seg_id == "ISA":
                node = control.getnodebypath("/ISA_LOOP/ISA")
                walker.forceWalkCounterToLoopStart("/ISA_LOOP", "/ISA_LOOP/ISA")
                icvn = seg.get_value("ISA12")
                errh.add_isa_loop(seg, src)
            elif seg_id == "GS":
                walker.forceWalkCounterToLoopStart("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
                fic, vriic = seg.get_value("GS01"), seg.get_value("GS08")
                wanted = self._index.get_filename(icvn, vriic, fic)
                if wanted is None:
                    errh.add_gs_loop(seg, src)
                    raise _MapNotFound(fic, vriic, src.get_cur_line(), src.get_gs_id())
                map_file, tx_map = wanted, self._map(wanted)
                node = tx_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
                errh.add_gs_loop(seg, src)
            else:
                found, _, _, walk_errors = walker.walk_errors(
                    node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id()
                )
                apply_walk_errors(errh, walk_errors)
                if found is None:  # not in the map: the walker has already reported it
                    errh.handle_errors(src.pop_errors())
                    continue
                node = found
                if seg_id in ("IEA", "GE", "SE"):
                    errh.handle_errors(src.pop_errors())
                    close = {"IEA": errh.close_isa_loop, "GE": errh.close_gs_loop,
                             "SE": errh.close_st_loop}[seg_id]
                    close(node, seg, src)
                elif seg_id == "ST":
                    errh.add_st_loop(seg, src)
                else:
                    errh.add_seg(node, seg, src.get_seg_count(), src.get_cur_line(),
                                 src.get_ls_id())
            errh.handle_errors(src.pop_errors())
            apply_segment_errors(node, seg, errh)
        src.cleanup()  # reports missing trailers (SE, GE, IEA)
        errh.handle_errors(src.pop_errors())
        src.close()
        return map_file

    def _collect(self, errh: Any, file: str | None, map_file: str | None) -> list[Finding]:
        """Turn pyx12's error tree (ISA > GS > ST > segment > element) into findings."""
        remarks = self._remark_positions.get(map_file or "", frozenset())
        out: list[Finding] = []
        for isa in errh.children:
            where = Location(file=file, segment_number=isa.cur_line_isa, segment_id="ISA")
            for code, text in isa.errors:
                out.append(_finding(f"pyx12-isa-{code}", text, Level.INTERCHANGE, where,
                                    x12_code=code))
            for ele in isa.elements:
                for code, text, _ in ele.errors:
                    out.append(_finding(f"pyx12-isa-ele-{code}", text, Level.INTERCHANGE,
                                        _at(where, f"ISA{ele.ele_pos:02d}"),
                                        x12_code=_ISA_ELEMENT_TA105.get(ele.ele_pos, "022")))
            for gs in isa.children:
                out += _group_findings(gs, file, remarks)
        return out


def _group_findings(gs: Any, file: str | None, remarks: _Remarks) -> list[Finding]:
    gs06 = gs.gs_control_num
    where = Location(file=file, segment_number=gs.cur_line_gs, segment_id="GS")
    out = [
        _finding(f"pyx12-gs-{code}", text, Level.GROUP, where, x12_code=code, group=gs06)
        for code, text in gs.errors
    ]
    for ele in gs.elements:
        for code, text, _ in ele.errors:
            out.append(_finding(f"pyx12-gs-ele-{code}", text, Level.GROUP,
                                _at(where, f"GS{ele.ele_pos:02d}"), x12_code="6", group=gs06))
    for st in gs.children:
        st02 = st.trn_set_control_num
        st_where = Location(file=file, segment_number=st.cur_line_st, segment_id="ST")
        for code, text in st.errors:
            out.append(_finding(f"pyx12-st-{code}", text, Level.TRANSACTION, st_where,
                                x12_code=code, group=gs06, st02=st02))
        for ele in st.elements:
            for code, text, _ in ele.errors:
                out.append(_finding(f"pyx12-st-ele-{code}", text, Level.TRANSACTION,
                                    _at(st_where, f"ST{ele.ele_pos:02d}"), x12_code="5",
                                    group=gs06, st02=st02))
        for seg in st.children:
            out += _segment_findings(seg, file, remarks, gs06, st02)
    return out


def _segment_findings(seg: Any, file: str | None, remarks: _Remarks, gs06: str | None,
                      st02: str | None) -> list[Finding]:
    where = Location(file=file, segment_number=seg.cur_line, segment_id=seg.seg_id)
    common = {"group": gs06, "st02": st02, "position": seg.seg_count, "loop": seg.ls_id}
    out = [
        _finding(f"pyx12-seg-{code}", text + (f" ({value})" if value else ""), Level.SEGMENT,
                 where, x12_code=code if str(code).isdigit() else "8", **common)
        for code, text, value in seg.errors
    ]
    for ele in seg.elements:
        element = f"{seg.seg_id}{ele.ele_pos:02d}" + (
            f"-{ele.subele_pos}" if ele.subele_pos else ""
        )
        stale_list = (seg.seg_id, ele.ele_pos, ele.subele_pos) in remarks
        for code, text, _ in ele.errors:
            rarc = stale_list and code == "7"
            out.append(_finding(
                "pyx12-rarc-unknown" if rarc else f"pyx12-ele-{code}",
                text + (" — pyx12's RARC list is out of date; check the current list" if rarc
                        else ""),
                Level.SEGMENT, _at(where, element), x12_code=code, fatal=not rarc,
                element=ele.ele_pos, component=ele.subele_pos, **common,
            ))
    return out


def _finding(code: str, message: str, level: Level, where: Location, *, x12_code: str | None,
             fatal: bool = True, group: str | None = None, st02: str | None = None,
             position: int | None = None, loop: str | None = None, element: int | None = None,
             component: int | None = None) -> Finding:
    return Finding(
        code=code, message=message, level=level, location=where, fatal=fatal,
        transaction_set=st02, group_control_number=group, segment_position=position,
        loop_id=loop, element_position=element, component_position=component,
        x12_code=x12_code,
    )


def _at(where: Location, element: str) -> Location:
    return Location(file=where.file, segment_number=where.segment_number,
                    segment_id=where.segment_id, element=element)


class _MapNotFound(Exception):
    """pyx12 has no map for the group's GS01/GS08 (its own EngineError, made a finding)."""

    def __init__(self, fic: str | None, vriic: str | None, line: int, gs06: str | None) -> None:
        self.fic, self.vriic, self.line, self.gs06 = fic, vriic, line, gs06
        self.map_file = None
        super().__init__(f"no TR3 map for GS01={fic} GS08={vriic}")

    def finding(self, file: str | None) -> Finding:
        # AK905 2: functional group version not supported (1 when the GS01 itself is unknown).
        known_fic = self.fic in ("HP", "HC", "HB", "HS", "HI", "HN", "HR", "BE", "RA", "FA")
        return _finding(
            "tr3-unsupported-version",
            f"no implementation guide for GS01 {self.fic!r} / GS08 {self.vriic!r}: the group "
            "cannot be validated; ask the partner which guide they follow",
            Level.GROUP, Location(file=file, segment_number=self.line, segment_id="GS",
                                  element="GS08"),
            x12_code="2" if known_fic else "1", group=self.gs06,
        )


def _lift_wrapper_repeat(loaded_map: Any) -> None:
    """Let a wrapper of repeatable segments (835 FOOTER: PLB) be re-entered (defect 2).

    Only wrappers whose every child is a segment allowed more than once are touched, so a
    duplicated header (BHT, N1*PR) is still caught.
    """
    for node in _walk_nodes(loaded_map):
        if getattr(node, "base_name", None) != "loop" or node.type != "wrapper":
            continue
        children = list(_walk_nodes(node))[1:]
        if children and all(_repeatable_segment(c) or c.parent is not node for c in children):
            node.repeat = ">1"


def _repeatable_segment(node: Any) -> bool:
    return getattr(node, "base_name", None) == "segment" and node.get_max_repeat() > 1


def _remark_code_positions(loaded_map: Any) -> Iterator[tuple[str, int, int | None]]:
    """(segment id, element, component) of every element coded from the RARC list."""
    for node in _walk_nodes(loaded_map):
        if getattr(node, "base_name", None) == "element" and node.external_codes == "remark_code":
            parent = node.parent
            if parent.is_composite():
                yield parent.parent.id, parent.seq, node.seq
            else:
                yield parent.id, node.seq, None


def pyx12_can_run(structural: list[Finding]) -> bool:
    """False when a structural finding means pyx12 would stop silently or misread the file."""
    return not any(_misleads_pyx12(f) for f in structural)


def _misleads_pyx12(finding: Finding) -> bool:
    return finding.fatal and (
        finding.level is Level.INTERCHANGE or finding.code in _MISLEADING_CODES
    )


@contextmanager
def _open_at_isa(path: Path) -> Iterator[TextIO]:
    """The file as text from its ISA on (pyx12 needs the ISA first: defect 6).

    Latin-1 maps every byte to one character, so a stray non-ASCII byte is reported by the
    element checks instead of crashing pyx12's own ASCII decoding.
    """
    with open(path, "rb") as raw:
        head = raw.read(4096)
        start = len(head) - len(head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\f\v\x00"))
        raw.seek(start)
        text = io.TextIOWrapper(raw, encoding="latin-1", newline="")
        try:
            yield text
        finally:
            text.detach()


def _walk_nodes(node: Any) -> Iterator[Any]:
    """Every node of a pyx12 map (loops and the root keep their children in ``pos_map``)."""
    yield node
    if getattr(node, "pos_map", None):
        children = [child for pos in sorted(node.pos_map) for child in node.pos_map[pos]]
    else:
        children = getattr(node, "children", None) or []
    for child in children:
        yield from _walk_nodes(child)


@contextmanager
def _quiet_pyx12() -> Iterator[None]:
    """pyx12 logs every error it finds; we return them as findings instead."""
    logger = logging.getLogger("pyx12")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def validate_tr3(source: str | Path | TextIO, *, file_name: str | None = None,
                 structural: list[Finding] | None = None) -> list[Finding]:
    """One-shot :meth:`Tr3Validator.validate` (loads the maps each call)."""
    return Tr3Validator().validate(source, file_name=file_name, structural=structural)
