"""The fast path: one regular expression per guide segment that accepts only valid segments.

Checking every element of every segment in Python costs microseconds a segment; a 100 MB
central-pay file has ~4 million of them. So each segment node gets one compiled pattern,
matched against the segment's text in C: when it matches, the segment has no element defect
at all and nothing else runs; when it does not, :mod:`.elements` checks the segment exactly
and reports what is wrong. The pattern therefore only has to be *sound* — accept nothing that
:func:`.elements.check_segment` (or the segment-level checks: trailing separator, empty
segment) would report — not complete: a rare valid form (a date of 29 February, an amount
like ``.5``, a value with trailing spaces, a syntax combination too wide to enumerate) simply
takes the exact path.

How a pattern is built: each element position is "absent" or a value pattern (codes as a
trie of literals, numbers and dates as digit patterns, text as the character set with its
length); usage decides which of the two are allowed (R present, N absent, S either); syntax
rules only relate presences, so positions tied by rules form small blocks whose allowed
presence patterns are enumerated (a block too wide is narrowed to a simpler sufficient form);
a segment may end after any position when nothing after it is required (a position either
holds a separator and its value, or the segment has ended: no position is ever skipped, so
values cannot slide into the wrong position).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from gateway.x12.tr3.tables import Composite, Element, Node

# X12's extended character set for 00501 (pyx12 charset "E"), as regex class members.
_EXTENDED_5 = "A-Z0-9!\"&'()*+,\\-./:;?= a-z%~@\\[\\]_{}\\\\|<>^`#$"
_EXTENDED_4 = "A-Z0-9!\"&'()*+,\\-./:;?= a-z%~@\\[\\]_{}\\\\|<>#$"
_NEVER = "(?!)"  # a value this path does not accept (the exact path decides)
_MAX_BLOCK = 6  # presence patterns of a block of rules: at most 2**6 alternatives
_DAY_31 = "(?:0[1-9]|[12][0-9]|3[01])"
_DAY_30 = "(?:0[1-9]|[12][0-9]|30)"
_DAY_28 = "(?:0[1-9]|1[0-9]|2[0-8])"
# CCYYMMDD from 1800 on; 29 February is left to the exact path.
_DATE = ("(?:1[89]|[2-9][0-9])[0-9]{2}(?:(?:0[13578]|1[02])" + _DAY_31 +
         "|(?:0[469]|11)" + _DAY_30 + "|02" + _DAY_28 + ")")
_HHMM = "(?:[01][0-9]|2[0-3])[0-5][0-9]"



@dataclass(frozen=True)
class Accepted:
    """What the fast path may accept for an element checked against a code list: these
    ``codes``, or (``codes`` None) any well-formed value except the ``excluded`` ones."""

    codes: frozenset[str] | None
    excluded: frozenset[str] = frozenset()


CodesFor = Callable[[Node, Element], Accepted | None]
"""The code list bound to an element (pyx12's external list or one of the gateway's), if any."""


@dataclass(frozen=True)
class Delims:
    element: str
    component: str
    terminator: str = "~"  # never in a value (see _charset)
    end: str = "~"  # what follows a segment in the file (terminator, line break): runs use it


def segment_pattern(node: Node, delims: Delims, icvn: str, codes_for: CodesFor) -> str:
    """The regex source accepting valid texts of ``node`` (``_NEVER`` when it cannot).

    The text is the segment's elements joined by the element separator, no terminator.
    """
    sep = re.escape(delims.element)
    values = [_position_value(node, spec, delims, icvn, codes_for) for spec in node.elements]
    allowed = [_allowed(spec, value) for spec, value in zip(node.elements, values, strict=True)]
    blocks = _blocks(node, allowed)
    if blocks is None:
        return _NEVER
    body, may_end = _tail(blocks, values, sep)
    if may_end:  # no element at all is pyx12's "empty segment"
        body = f"(?={sep}){body}"
    # Never a separator last: a trailing separator is pyx12's segment error SEG1, and a
    # segment of only separators is empty.
    return f"{re.escape(node.id)}{body}(?<!{sep})"


def _tail(blocks: list[tuple[int, int, list[tuple[bool, ...]]]], values: list[str], sep: str
          ) -> tuple[str, bool]:
    """The nested pattern of all blocks, and whether the segment may end before the first.

    Each block is written inside the previous one — ``(?:block1(?:block2(?:...|)|)|)`` — so a
    position can only be left out by ending the segment there (leftover text then fails the
    match): values can never slide into the wrong position. Inside a block, the allowed
    presence patterns share their common beginnings (see :func:`_block`), so the regex engine
    reads each value once, whatever pattern the segment turns out to follow."""
    text, may_end = "", True
    for first, _, patterns in reversed(blocks):
        block = _block(first, patterns, values, sep, may_end)
        if block is None:
            return _NEVER, False
        block_may_end = may_end and tuple(False for _ in patterns[0]) in patterns
        text = _optional(f"{block}{text}") if block_may_end else f"{block}{text}"
        may_end = block_may_end
    return text, may_end


class _Branch(dict[tuple[int, bool], "_Branch"]):
    """A prefix tree of presence patterns: each step is (position, present?); ``ends`` marks
    where the segment may end (nothing after it), ``full`` a complete pattern."""

    ends = False
    full = False


def _block(first: int, patterns: list[tuple[bool, ...]], values: list[str], sep: str,
           may_end: bool) -> str | None:
    """One block's allowed presence patterns as one prefix-shared alternation.

    A pattern is a path of steps, one per position: a separator, then the value when present.
    When nothing after the block is required (``may_end``), a pattern may also stop after its
    last present value: ``(?!sep)`` then says the segment really ends there."""
    if not patterns:
        return None
    root = _Branch()
    for pattern in patterns:
        node = root
        for offset, present in enumerate(pattern):
            node = node.setdefault((first + offset, present), _Branch())
            if present and may_end and not any(pattern[offset + 1:]) and \
                    offset < len(pattern) - 1:
                node.ends = True
        node.full = True
    return _render(root, values, sep)


def _render(node: _Branch, values: list[str], sep: str) -> str:
    """A branch: every step starts with the separator, so it is read once for all of them."""
    steps = [(values[position - 1] if present else "") + _render(child, values, sep)
             for (position, present), child in sorted(node.items(), key=lambda i: not i[0][1])]
    alternatives = [sep + _either(steps)] if steps else []
    if node.ends:
        alternatives.append(f"(?!{sep})")
    if node.full:
        alternatives.append("")
    return _either(alternatives)


def _either(alternatives: list[str]) -> str:
    if len(alternatives) == 1:
        return alternatives[0]
    if len(alternatives) == 2 and alternatives[1] == "":
        return _optional(alternatives[0])
    return f"(?:{'|'.join(alternatives)})"


def _optional(pattern: str) -> str:
    """``pattern`` or nothing. Written as a branch with an empty alternative, not ``(?:...)?``:
    Python's regex engine runs a branch without the repeat bookkeeping a ``?`` on a group
    costs — 1.5x faster over a claim, where most trailing elements are optional groups."""
    return f"(?:{pattern}|)"


def _allowed(spec: Element | Composite, value: str) -> tuple[bool, bool]:
    """(may be absent, may be present) for a position, from its usage and value pattern."""
    can_be_present = value != _NEVER and spec.usage != "N"
    can_be_absent = spec.usage != "R"
    return can_be_absent, can_be_present


def _position_value(node: Node, spec: Element | Composite, delims: Delims, icvn: str,
                    codes_for: CodesFor) -> str:
    if isinstance(spec, Element):
        return _value(node, spec, delims, icvn, codes_for)
    parts = [_value(node, child, delims, icvn, codes_for) for child in spec.children]
    if not parts or any(p == _NEVER for p in parts[:1]):
        return _NEVER
    comp = re.escape(delims.component)
    # Written components are all non-empty; trailing ones may be omitted when optional.
    text = ""
    for index in range(len(parts) - 1, 0, -1):
        part = parts[index]
        required = spec.children[index].usage == "R"
        inner = f"{comp}{part}{text}" if part != _NEVER else ""
        if required:
            if not inner:
                return _NEVER
            text = inner
        else:
            text = _optional(inner) if inner else ""
    return f"{parts[0]}{text}"


def _value(node: Node, spec: Element, delims: Delims, icvn: str, codes_for: CodesFor) -> str:
    """A pattern for valid non-empty values of one simple element (sound, maybe partial)."""
    if spec.regex is not None or spec.data_ele in ("1250", "1251") or node.id in ("DTP", "HL"):
        return _NEVER
    listed = codes_for(node, spec)
    if spec.external and listed is None:
        return _NEVER
    if listed is not None and listed.codes is None:  # any well-formed value but a few
        excluded = _trie(c for c in listed.excluded if c)
        shape = _by_type(spec, delims, icvn)
        if excluded == _NEVER or shape == _NEVER:
            return shape
        # The value ends at a delimiter (in a run, the terminator) or at the end of the text.
        ends = "".join(re.escape(d) for d in (delims.element, delims.component, delims.terminator))
        return f"(?!{excluded}(?:[{ends}]|\\Z)){shape}"
    if spec.codes or listed is not None:
        codes = set(spec.codes) | set(listed.codes or () if listed is not None else ())
        return _trie(c for c in codes if _plain_valid(spec, c, delims, icvn))
    return _by_type(spec, delims, icvn)


def _by_type(spec: Element, delims: Delims, icvn: str) -> str:
    low, high = spec.min, spec.max
    if spec.type in ("AN", "ID"):
        chars = _charset(delims, icvn)
        if high < 1 or low > high:
            return _NEVER
        no_space = chars.replace("\\ ", "").replace(" ", "")
        return f"[{chars}]{{{max(low, 1) - 1},{high - 1}}}[{no_space}]"  # no trailing space
    if spec.type.startswith("N"):
        return f"-?[0-9]{{{max(low, 1)},{high}}}" if low <= high else _NEVER
    if spec.type == "R":
        if low > 1 or high < 3:
            return f"-?[0-9]{{{max(low, 1)},{high}}}" if low <= high else _NEVER
        return f"-?[0-9]{{1,{high - 2}}}" + _optional("\\.[0-9]{1,2}")
    if spec.type in ("DT", "D8") and low <= 8 <= high:
        return _DATE
    if spec.type == "TM":
        forms = {4: _HHMM, 6: _HHMM + "[0-5][0-9]", 7: _HHMM + "[0-5][0-9][0-9]",
                 8: _HHMM + "[0-5][0-9][0-9]{2}"}
        allowed = [forms[n] for n in sorted(forms) if low <= n <= high]
        return f"(?:{'|'.join(allowed)})" if allowed else _NEVER
    if spec.type == "RD8" and low <= 17 <= high:
        return f"{_DATE}-{_DATE}"
    return _NEVER


@lru_cache(maxsize=64)
def _charset(delims: Delims, icvn: str) -> str:
    """The character class of AN/ID values, minus the interchange's own delimiters (Python's
    re has no class subtraction, so the members are listed). No value holds the terminator
    (the scanner splits on it): leaving it out keeps a run's value from reaching into the
    next segment, which would cost backtracking at every value that ends a segment."""
    base = _EXTENDED_5 if icvn == "00501" else _EXTENDED_4
    members = {c for c in map(chr, range(32, 127)) if re.fullmatch(f"[{base}]", c)}
    members -= {delims.element, delims.component, delims.terminator}
    return "".join(re.escape(c) for c in sorted(members))


def _plain_valid(spec: Element, code: str, delims: Delims, icvn: str) -> bool:
    """Would this code pass every element check (length, characters, type) unchanged?"""
    if not code or any(d in code for d in (delims.element, delims.component, delims.terminator)):
        return False
    length = len(code.replace("-", "").replace(".", "")) if (
        spec.type == "R" or spec.type.startswith("N")) else len(code)
    if not spec.min <= length <= spec.max or code[-1] == " ":
        return False
    return _compiled(_by_type(spec, delims, icvn)).fullmatch(code) is not None


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _trie(codes: Iterable[str]) -> str:
    """An alternation of literal codes with shared prefixes factored out."""
    words = sorted(set(codes))
    if not words:
        return _NEVER
    return _trie_of(words)


def _trie_of(words: list[str]) -> str:
    ends = "" in words
    groups: dict[str, list[str]] = {}
    for word in words:
        if word:
            groups.setdefault(word[0], []).append(word[1:])
    last = [first for first, rest in groups.items() if rest == [""]]  # codes ending here
    branches = [re.escape(first) + _trie_of(rest) for first, rest in groups.items()
                if rest != [""]]
    if len(last) > 1:  # one class, not an alternation: a RARC trie is a third as long
        branches.insert(0, "[" + "".join(re.escape(c) for c in last) + "]")
    else:
        branches[:0] = [re.escape(c) for c in last]
    if not branches:
        return ""
    inner = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return _optional(inner) if ends else inner


def _blocks(node: Node, allowed: list[tuple[bool, bool]]
            ) -> list[tuple[int, int, list[tuple[bool, ...]]]] | None:
    """Positions as blocks (first, last, allowed presence patterns), or None if none fit."""
    rules = [r for r in node.syntax if not _settled(r, allowed)]
    allowed = list(allowed)
    spans = _spans(rules, len(allowed))
    for lo, hi in spans:
        if hi - lo + 1 > _MAX_BLOCK:  # narrow: every position of a wide block must be absent
            for p in range(lo, hi + 1):
                allowed[p - 1] = (allowed[p - 1][0], False)
    blocks = []
    position = 1
    span_at = {lo: hi for lo, hi in spans}
    while position <= len(allowed):
        last = span_at.get(position, position)
        patterns = [p for p in product((False, True), repeat=last - position + 1)
                    if _fits(p, position, allowed, rules)]
        if not patterns:
            return None
        blocks.append((position, last, patterns))
        position = last + 1
    return blocks


def _settled(rule: tuple[object, ...], allowed: list[tuple[bool, bool]]) -> bool:
    """A rule no allowed presence pattern can break (e.g. its trigger is never present)."""
    kind, positions = rule[0], [int(p) for p in rule[1:]]  # type: ignore[call-overload]
    if len(positions) < 2 or any(p > len(allowed) for p in positions):
        return False
    never = [not allowed[p - 1][1] for p in positions]
    always = [not allowed[p - 1][0] for p in positions]
    if kind == "R":
        return any(always)
    if kind == "E":
        return sum(not n for n in never) <= 1
    if kind == "P":
        return all(never) or all(always)
    if kind in ("C", "L"):
        if never[0]:
            return True
        return all(always[1:]) if kind == "C" else any(always[1:])
    return False


def _spans(rules: list[tuple[object, ...]], count: int) -> list[tuple[int, int]]:
    """Merged [first, last] position ranges covered by the rules."""
    ranges = sorted((min(int(p) for p in r[1:]), max(int(p) for p in r[1:]))  # type: ignore
                    for r in rules)
    merged: list[list[int]] = []
    for lo, hi in ranges:
        hi = min(hi, count)
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged if lo <= count]


def _fits(pattern: tuple[bool, ...], first: int, allowed: list[tuple[bool, bool]],
          rules: list[tuple[object, ...]]) -> bool:
    for offset, present in enumerate(pattern):
        may_be_absent, may_be_present = allowed[first + offset - 1]
        if (present and not may_be_present) or (not present and not may_be_absent):
            return False
    present_at = {first + i for i, present in enumerate(pattern) if present}
    last = first + len(pattern) - 1
    for rule in rules:
        positions = [int(p) for p in rule[1:]]  # type: ignore[call-overload]
        if positions and first <= min(positions) and max(positions) <= last and \
                not _rule_holds(str(rule[0]), positions, present_at):
            return False
    return True


def _rule_holds(kind: str, positions: list[int], present_at: set[int]) -> bool:
    present = [p in present_at for p in positions]
    if kind == "P":
        return all(present) or not any(present)
    if kind == "R":
        return any(present)
    if kind == "E":
        return sum(present) <= 1
    if kind == "C":
        return not present[0] or all(present[1:])
    if kind == "L":
        return not present[0] or any(present[1:])
    return False
