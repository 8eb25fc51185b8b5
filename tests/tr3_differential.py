"""The differential harness: the compiled validator against pyx12, finding for finding.

Both validators see the same file and the same structural findings. Each side's findings are
reduced to a comparable key — (kind, pyx12's code, segment number, element, component) —
and the two multisets must be equal, except for the cases listed in :data:`KNOWN`, each a
documented pyx12 defect (or a check pyx12 does not make) with the rule that recognises it.
The rules are precise on purpose: an unexplained difference fails the test.

pyx12 reports envelope defects at the *header* (ST, GS, ISA) of the envelope they belong to,
whatever segment they were found at; the gateway's structural checks and the compiled
validator report them where they are. So envelope keys are compared at the header's number.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyx12.error_handler
import pyx12.x12file

from gateway.errors import InputError
from gateway.x12.read.reader import read_835
from gateway.x12.syntax.findings import Finding, Level
from gateway.x12.syntax.tokenizer import iter_segments
from gateway.x12.tr3 import Tr3Validator
from gateway.x12.tr3.pyx12_reference import Tr3Validator as Reference
from gateway.x12.tr3.pyx12_reference import pyx12_can_run
from gateway.x12.tr3.reporting import ELEMENT_CODES, READER_CODES

Key = tuple[str, str, int | None, int | None, int | None]

# Our codes -> pyx12's kind and code.
_WALK = {"tr3-unexpected-segment": "1", "tr3-not-used-segment": "2",
         "tr3-missing-segment": "3", "tr3-missing-loop": "3", "tr3-loop-repeats": "4",
         "tr3-segment-repeats": "5"}
_READER = {code: pyx12_code for code, _, pyx12_code, _ in READER_CODES.values()}
_ELEMENT = {code: pyx12_code for pyx12_code, code in ELEMENT_CODES.items()}
# Element defects pyx12 reports as a segment error 8 naming no element.
PER_SEGMENT = {"tr3-syntax-rule", "tr3-too-many-elements", "tr3-missing-composite",
               "tr3-not-used-composite", "tr3-too-many-components"}
_ENVELOPE_SEGMENTS = {"ISA": "isa", "IEA": "isa", "GS": "gs", "GE": "gs", "ST": "st", "SE": "st"}
# Structural findings that are pyx12 envelope defects: (kind, pyx12 code).
_STRUCTURAL = {"se-count": ("st", "4"), "se-control": ("st", "3"), "ge-count": ("gs", "5"),
               "ge-control": ("gs", "4"), "iea-count": ("isa", "021"),
               "iea-control": ("isa", "001")}


@dataclass
class Context:
    """What the rules may look at: the file's envelopes and both sides' raw findings."""

    envelopes: Envelopes
    structural: list[Finding]
    pyx12: list[Finding]
    crash_at: int | None  # the segment pyx12 raised an exception at, if it did
    first_set: int | None  # the first ST pyx12 took as one (its error tree starts there)
    isa12: str = ""


@dataclass(frozen=True)
class Known:
    """A documented difference: which side(s) it removes keys from, why, and the rule."""

    name: str
    sides: tuple[str, ...]  # "pyx12" (pyx12 wrong or silent) and/or "ours" (pyx12 lacks it)
    reason: str
    applies: Callable[[Key, Context], bool]
    surplus_only: bool = False  # explains only what one side has more of than the other


class Envelopes:
    """The ISA/GS/ST header numbers of a file, to place envelope keys like pyx12 does."""

    def __init__(self, data: bytes) -> None:
        self.headers: list[tuple[int, str]] = []  # (segment number, ISA|GS|ST)
        self.ids: dict[int, str] = {}
        self.trailers: dict[int, int] = {}  # header number -> its trailer's number
        self.split_trailers: set[int] = set()  # headers whose trailer has a component
        open_at: dict[str, int] = {}
        closer = {"IEA": "ISA", "GE": "GS", "SE": "ST"}
        component = ":"
        for number, _, elements, _, _ in iter_segments(io.BytesIO(data), findings=[]):
            self.ids[number] = elements[0]
            if elements[0] == "ISA" and len(elements) > 16:
                component = elements[16][:1] or ":"
            if elements[0] in ("ISA", "GS", "ST"):
                self.headers.append((number, elements[0]))
                open_at[elements[0]] = number
            elif elements[0] in closer and closer[elements[0]] in open_at:
                header = open_at.pop(closer[elements[0]])
                self.trailers[header] = number
                if any(component in e for e in elements[1:3]):
                    self.split_trailers.add(header)

    def ends_before(self, header: int | None, number: int) -> bool:
        """Does the envelope opened at ``header`` close before segment ``number``?"""
        return header is not None and self.trailers.get(header, number) < number

    def header(self, number: int | None, kind: str) -> int | None:
        """The number of the last ISA/GS/ST (``kind``) at or before segment ``number``."""
        wanted = kind.upper()
        found = None
        for at, seg_id in self.headers:
            if number is not None and at > number:
                break
            if seg_id == wanted:
                found = at
        return found


def pyx12_keys(findings: Iterable[Finding], envelopes: Envelopes) -> Counter[Key]:
    out: Counter[Key] = Counter()
    for f in findings:
        parts = f.code.split("-")
        number = f.location.segment_number
        if f.code == "pyx12-rarc-unknown":
            out[("ele", "7", number, f.element_position, f.component_position)] += 1
        elif f.code.startswith("pyx12-seg-"):
            out[("seg", parts[2], number, None, None)] += 1
        elif f.code.startswith("pyx12-ele-"):
            out[("ele", parts[2], number, f.element_position, f.component_position)] += 1
        elif parts[1] in ("isa", "gs", "st") and parts[2] == "ele":
            element = int((f.location.element or "00")[-2:])
            out[(f"{parts[1]}-ele", parts[3], number, element, None)] += 1
        elif parts[1] in ("isa", "gs", "st"):
            out[(parts[1], parts[2], number, None, None)] += 1
        elif f.code == "tr3-unsupported-version":
            out[("group", "unsupported", number, None, None)] += 1
        else:
            out[("file", f.code, None, None, None)] += 1
    return out


def our_keys(findings: Iterable[Finding], envelopes: Envelopes) -> Counter[Key]:
    out: Counter[Key] = Counter()
    for f in findings:
        number = f.location.segment_number
        seg_id = envelopes.ids.get(number or 0, "")
        if f.code in _WALK:
            out[("seg", _WALK[f.code], number, None, None)] += 1
        elif f.code in _READER:
            out[("seg", _READER[f.code], number, None, None)] += 1
        elif f.code in PER_SEGMENT and seg_id not in _ENVELOPE_SEGMENTS:
            out[("seg", "8", number, None, None)] += 1
        elif f.code in PER_SEGMENT:
            out[("envelope-8", "8", number, f.element_position, None)] += 1
        elif f.code in _ELEMENT and seg_id in _ENVELOPE_SEGMENTS:
            kind = _ENVELOPE_SEGMENTS[seg_id]
            out[(f"{kind}-ele", _ELEMENT[f.code], envelopes.header(number, kind),
                 f.element_position, None)] += 1
        elif f.code in _ELEMENT:
            out[("ele", _ELEMENT[f.code], number, f.element_position,
                 f.component_position)] += 1
        elif f.code in ("tr3-code-out-of-date", "tr3-code-unknown"):
            out[("code-list", f.code, number, f.element_position, None)] += 1
        elif f.code == "tr3-duplicate-isa13":
            out[("isa", "025", number, None, None)] += 1
        elif f.code == "tr3-duplicate-gs06":
            out[("gs", "6", number, None, None)] += 1
        elif f.code == "tr3-duplicate-st02":
            out[("st", "23", number, None, None)] += 1
        elif f.code == "tr3-unsupported-version":
            out[("group", "unsupported", number, None, None)] += 1
        elif f.code in _STRUCTURAL:
            kind, code = _STRUCTURAL[f.code]
            out[(kind, code, envelopes.header(number, kind), None, None)] += 1
    return out


_ENVELOPE_KINDS = ("isa", "gs", "st")
_PAIRING = {"missing-se", "missing-ge", "missing-iea", "outside-envelope", "truncated"}


def _after_unknown_guide(key: Key, ctx: Context) -> bool:
    """Keys at or after pyx12's first unknown group, and of the envelopes still open there."""
    first = min((f.location.segment_number or 0 for f in ctx.pyx12
                 if f.code == "tr3-unsupported-version"), default=None)
    if first is None or key[0] == "group":
        return False
    if key[0] in _ENVELOPE_KINDS or key[0].endswith("-ele"):
        return not ctx.envelopes.ends_before(key[2], first)
    return key[2] is not None and key[2] >= first


def _after_crash(key: Key, ctx: Context) -> bool:
    if ctx.crash_at is None:
        return False
    if key[0] == "file":
        return key[1] == "tr3-incomplete"
    number = key[2]
    if key[0] in _ENVELOPE_KINDS or key[0].endswith("-ele"):
        return True  # the envelope open at the crash is never closed by pyx12
    return number is not None and number >= ctx.crash_at


KNOWN: list[Known] = [
    Known("pyx12-crash", ("pyx12", "ours"),
          "pyx12 raises on some inputs — too many components in a composite (IndexError), an "
          "SE with no ST before it (AttributeError), a GE01 that is not a number (ValueError)"
          " — and validates nothing after; we report the defect and go on",
          _after_crash),
    Known("envelope-pairing", ("pyx12", "ours"),
          "pairing ISA/GS/ST with their trailers is the structural checks' job (missing-se, "
          "missing-ge, missing-iea, outside-envelope); pyx12's reader cascades one missing "
          "trailer into several control-number and count errors on other envelopes",
          lambda key, ctx: key[0] in _ENVELOPE_KINDS and key[1] in (
              "001", "021", "023", "024", "2", "3", "4", "5")
          and any(f.code in _PAIRING for f in ctx.structural)),
    Known("outside-any-set", ("ours",),
          "pyx12 loses a segment defect found before the file's first ST: its error tree "
          "has no set to hang it on (the AttributeError is swallowed)",
          lambda key, ctx: key[0] in ("seg", "ele") and key[2] is not None
          and (ctx.first_set is None or key[2] < ctx.first_set)),
    Known("envelope-segment-8", ("ours",),
          "pyx12 loses a segment-level element defect (too many elements, a syntax rule, a "
          "composite) of an ISA, GS, ST, SE, GE or IEA: its envelope error nodes take no value "
          "and the TypeError is swallowed",
          lambda key, ctx: key[0] == "envelope-8"),
    Known("trailer-with-component", ("ours",),
          "pyx12 reads a trailer's count or control number with a trailing component "
          "separator (SE01 '45:') as the number itself; the structural checks take the "
          "element as written and report the mismatch (both report the element as an invalid "
          "composite)",
          lambda key, ctx: key[0] in _ENVELOPE_KINDS and key[2] in ctx.envelopes.split_trailers
          and key[1] in ("001", "021", "3", "4", "5"), surplus_only=True),
    Known("gateway-code-lists", ("ours",),
          "pyx12 checks no CARC, no LQ02 remark code and no code's dates; the gateway's lists "
          "(gateway/x12/tr3/code_lists) add warnings for a code outside its dates or missing "
          "from a complete list",
          lambda key, ctx: key[0] == "code-list"),
    Known("pyx12-refuses-file", ("pyx12", "ours"),
          "pyx12 refuses the whole file unless it starts with a 106-character ISA of version "
          "00401 or 00501 (it reads the ISA at fixed positions); the scanner says why "
          "(not-x12, missing-isa, isa-*) and we validate what it can read",
          lambda key, ctx: any(f.code == "pyx12-not-x12" for f in ctx.pyx12)),
    Known("pyx12-stops-at-unknown-guide", ("pyx12", "ours"),
          "pyx12 stops at the first group whose GS01/GS08 it has no map for (EngineError: Map "
          "not found); we report the group and validate the rest of the file",
          _after_unknown_guide),
]


@dataclass
class Comparison:
    path: str
    pyx12: Counter[Key]
    ours: Counter[Key]
    explained: list[tuple[str, Key]] = field(default_factory=list)

    @property
    def unexplained(self) -> tuple[Counter[Key], Counter[Key]]:
        return self.pyx12 - self.ours, self.ours - self.pyx12


def structural(data: bytes, name: str) -> list[Finding]:
    """The structural findings the CLI passes to TR3 validation (read_835, collect mode)."""
    findings: list[Finding] = []
    try:
        for _ in read_835(io.BytesIO(data), file_name=name, findings=findings):
            pass
    except InputError as exc:
        findings.append(Finding(exc.code, exc.what, Level.INTERCHANGE, exc.location))
    return findings


class Differential:
    """Runs both validators (pyx12 once per distinct file content) and compares."""

    def __init__(self) -> None:
        self.reference = Reference()
        self.compiled = Tr3Validator()
        self._cache: dict[str, list[Finding]] = {}

    def pyx12(self, data: bytes, name: str, found: list[Finding]
              ) -> tuple[list[Finding], int | None, int | None]:
        """pyx12's findings (cached by content), the segment it crashed at if it did, and
        the first ST it accepted."""
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._cache:
            with _watch_pyx12() as seen:
                full = self.reference.validate(io.StringIO(data.decode("latin-1")),
                                               file_name=name, structural=found)
            crashed = any(f.code == "tr3-incomplete" for f in full)
            self._cache[digest] = (full[len(found):], seen["last"] if crashed else None,
                                   seen["first_set"])
        return self._cache[digest]

    def compare(self, data: bytes, name: str) -> Comparison:
        """Both validators on ``data``. pyx12 runs even where the gateway would not run it
        (a structural defect it misreads): those cases are among the known differences."""
        found = structural(data, name)
        envelopes = Envelopes(data)
        ours = self.compiled.validate(io.BytesIO(data), file_name=name, structural=found)
        theirs_raw, crash_at, first_set = self.pyx12(
            data, name, found if pyx12_can_run(found) else [])
        ctx = Context(envelopes, found, theirs_raw, crash_at, first_set,
                      data[84:89].decode("latin-1"))
        comparison = Comparison(name, pyx12_keys(theirs_raw, envelopes),
                                our_keys(ours, envelopes))
        for known in KNOWN:
            for side_name in known.sides:
                side, other = ((comparison.pyx12, comparison.ours) if side_name == "pyx12"
                               else (comparison.ours, comparison.pyx12))
                for key in list(side):
                    if not known.applies(key, ctx):
                        continue
                    explained = side[key] - other[key] if known.surplus_only else side[key]
                    if explained > 0:
                        comparison.explained.append((known.name, key))
                        side[key] -= explained
                        if side[key] <= 0:
                            del side[key]
        return comparison


@contextmanager
def _watch_pyx12() -> Iterator[dict[str, int | None]]:
    """Record the last segment pyx12's reader handed out (where it crashed, if it did) and
    the first ST its error handler opened (before it, pyx12 drops segment errors)."""
    seen: dict[str, int | None] = {"last": 0, "first_set": None}
    reader_iter = pyx12.x12file.X12Reader.__iter__
    add_st_loop = pyx12.error_handler.err_handler.add_st_loop

    def counting(self):  # type: ignore[no-untyped-def]
        for segment in reader_iter(self):
            seen["last"] = self.get_cur_line()
            yield segment

    def opening(self, seg_data, src):  # type: ignore[no-untyped-def]
        if seen["first_set"] is None:
            seen["first_set"] = src.get_cur_line()
        return add_st_loop(self, seg_data, src)

    pyx12.x12file.X12Reader.__iter__ = counting  # type: ignore[method-assign]
    pyx12.error_handler.err_handler.add_st_loop = opening  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        pyx12.x12file.X12Reader.__iter__ = reader_iter  # type: ignore[method-assign]
        pyx12.error_handler.err_handler.add_st_loop = add_st_loop  # type: ignore[method-assign]


def read(path: Path) -> bytes:
    return path.read_bytes()
