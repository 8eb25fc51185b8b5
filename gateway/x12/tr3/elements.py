"""The element checks of one segment, exactly as pyx12 makes them (its ``is_valid_errors``).

For every position of the segment's definition: too many elements or components, required
elements missing, "not used" ones present, lengths (numbers counted without sign and decimal
point), control characters, trailing spaces, codes (inline or an external list), data types
(dates, times, numbers, the character set), then the segment's syntax rules (P paired,
R at least one, E at most one, C and L conditional). The order of checks, and which check
stops the others, is pyx12's: the validator's findings must be pyx12's findings.

Where pyx12 is wrong we say so and do better, and the differential tests list each case:

* syntax rules, too many elements and composite-level errors are reported by pyx12 as a
  segment error (IK304 8) that names no element; we name the element (IK4; ``kind`` says
  which of these it is) and, for a syntax rule, the element that triggered it;
* too many components in a composite crashes pyx12 (IndexError); we report it;
* a range of dates with two hyphens crashes pyx12 (ValueError); we report an invalid date.

This module runs only for segments the fast path (:mod:`.fast_match`) could not accept, so it
is written to be obviously right rather than fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gateway.x12.tr3.tables import Composite, Element, Node

# IK403 codes, as pyx12 uses them.
MISSING = "1"
CONDITIONAL_MISSING = "2"
TOO_MANY = "3"
TOO_SHORT = "4"
TOO_LONG = "5"
INVALID_CHARACTER = "6"
INVALID_CODE = "7"
INVALID_DATE = "8"
INVALID_TIME = "9"
EXCLUSION = "10"  # also "not used" element present

_CONTROL = {
    "\x07": "BEL", "\x09": "HT", "\x0a": "LF", "\x0b": "VT", "\x0c": "FF", "\x0d": "CR",
    "\x1c": "FS", "\x1d": "GS", "\x1e": "RS", "\x1f": "US", "\x01": "SOH", "\x02": "STX",
    "\x03": "ETX", "\x04": "EOT", "\x05": "ENQ", "\x06": "ACK", "\x11": "DC1", "\x12": "DC2",
    "\x13": "DC3", "\x14": "DC4", "\x15": "NAK", "\x16": "SYN", "\x17": "ETB",
}
_NUMBER = re.compile(r"-?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"-?[0-9]*(?:\.[0-9]+)?", re.ASCII)
# X12's extended character set (pyx12's charset "E"; 00501 adds ^ and `).
_NOT_EXTENDED_5 = re.compile(r"""[^A-Z0-9!"&'()*+,\-./:;?= a-z%~@\[\]_{}\\|<>^`#$]""")
_NOT_EXTENDED_4 = re.compile(r"""[^A-Z0-9!"&'()*+,\-./:;?= a-z%~@\[\]_{}\\|<>#$]""")
_NOT_DIGITS = re.compile(r"[^0-9]")
_SHOWN_TYPES = ("ID", "R")  # values safe to echo in a message: codes and amounts, never names

CodeCheck = Callable[[str, str], bool]  # (external list name, value) -> is it on the list?


@dataclass(frozen=True)
class ElementError:
    """One element-level defect; ``element``/``component`` are positions (IK401)."""

    code: str
    element: int | None
    component: int | None
    refdes: str
    message: str
    # Set for the defects pyx12 reports as a segment error 8 that names no element:
    # syntax-rule, too-many-elements, missing-composite, not-used-composite, too-many-components
    kind: str | None = None
    trigger: int | None = None  # the element whose presence made a syntax rule apply
    warning: bool = False  # reported, but rejects nothing (code lists: see code_lists.py)


def check_segment(node: Node, elements: list[str], component: str, in_list: CodeCheck,
                  icvn: str) -> list[ElementError]:
    """Every element defect of one data segment against its guide ``node``."""
    split = node.id != "ISA"  # pyx12 never splits ISA16 (it *is* the separator)
    values = [e.split(component) if split else [e] for e in elements[1:]]
    definition = node.elements
    errors: list[ElementError] = []
    if len(values) > len(definition):
        position = len(definition) + 1
        errors.append(ElementError(
            TOO_MANY, position, None, f"{node.id}{position:02d}",
            f"{node.id} has {len(values)} elements, the guide defines {len(definition)}",
            kind="too-many-elements"))
    type_list: list[str] = []
    for index, spec in enumerate(definition):
        parts = values[index] if index < len(values) else None
        if isinstance(spec, Composite):
            errors += _check_composite(spec, parts, in_list, icvn)
            continue
        if spec.data_ele == "1250" and index < len(values):
            type_list += sorted(spec.codes)
        types = _types_for(node, spec, index, values, type_list)
        errors += _check_element(spec, parts, in_list, icvn, types)
    for rule in node.syntax:
        error = _check_rule(node.id, rule, values)
        if error is not None:
            errors.append(error)
    return errors


def _types_for(node: Node, spec: Element, index: int, values: list[list[str]],
               type_list: list[str]) -> list[str]:
    """The date/time types a DTP03 or a 1251 "date time period" must be one of."""
    if node.id == "DTP" and index == 2:
        qualifier = values[1] if len(values) > 1 else [""]
        return qualifier[:1] if qualifier[0] in ("RD8", "D8", "D6", "DT", "TM") and not any(
            qualifier[1:]) else []
    if spec.data_ele == "1251":
        return type_list
    return []


def _present(parts: list[str] | None) -> bool:
    return parts is not None and any(parts)


def _check_composite(spec: Composite, parts: list[str] | None, in_list: CodeCheck,
                     icvn: str) -> list[ElementError]:
    where = f"{spec.refdes}"
    if not _present(parts) and spec.usage in ("N", "S"):
        return []
    if spec.usage == "R" and not _present(parts):
        return [ElementError(MISSING, spec.seq, None, where,
                             f"required composite {spec.refdes} ({spec.name}) is missing",
                             kind="missing-composite")]
    assert parts is not None
    if spec.usage == "N":
        return [ElementError(EXCLUSION, spec.seq, None, where,
                             f"composite {spec.refdes} ({spec.name}) is not used in this guide",
                             kind="not-used-composite")]
    errors = []
    count = len(spec.children)
    if len(parts) > count:
        errors.append(ElementError(
            TOO_MANY, spec.seq, count + 1, where,
            f"composite {spec.refdes} has {len(parts)} components, the guide defines {count}",
            kind="too-many-components"))
    for index, child in enumerate(spec.children):
        errors += _check_element(child, [parts[index]] if index < len(parts) else None,
                                 in_list, icvn, [])
    return errors


def _check_element(spec: Element, parts: list[str] | None, in_list: CodeCheck, icvn: str,
                   types: list[str]) -> list[ElementError]:
    if parts is not None and len(parts) > 1:
        return [_error(spec, INVALID_CHARACTER, "holds components but is not a composite")]
    value = "" if parts is None else parts[0]
    if value == "":
        return _check_empty(spec)
    if spec.usage == "N":
        return [_error(spec, EXCLUSION, "is not used in this guide but is present")]
    errors = _check_length(spec, value)
    control = next((name for char, name in _CONTROL.items() if char in value), None)
    if control is not None:
        return [*errors, _error(spec, INVALID_CHARACTER, f"contains a control character "
                                f"<{control}>")]
    if spec.type in ("AN", "ID") and value[-1] == " " and len(value.rstrip()) >= spec.min:
        errors.append(_error(spec, INVALID_CHARACTER, "has trailing spaces"))
    if (spec.codes or spec.external) and value not in spec.codes and not (
            spec.external and in_list(spec.external, value)):
        errors.append(_error(spec, INVALID_CODE, f"{_shown(spec, value)} is not a valid code"))
    if not valid_type(value, spec.type, icvn):
        errors.append(_type_error(spec, spec.type, value))
    if types and not any(valid_type(value, t, "00401") for t in types):
        if "TM" in types:
            errors.append(_error(spec, INVALID_TIME, "is not a valid time"))
        elif any(t in types for t in ("RD8", "DT", "D8", "D6")):
            errors.append(_error(spec, INVALID_DATE, "is not a valid date"))
    if spec.regex is not None and not spec.regex.search(value):
        errors.append(_error(spec, INVALID_CODE, "does not have the form the guide requires"))
    return errors


def _check_empty(spec: Element) -> list[ElementError]:
    if spec.usage in ("N", "S"):
        return []
    parent = spec.composite
    if spec.usage == "R" and (spec.seq != 1 or parent is None or parent.usage == "R"):
        return [_error(spec, MISSING, "is required but missing")]
    return []


def _check_length(spec: Element, value: str) -> list[ElementError]:
    numeric = spec.type == "R" or spec.type.startswith("N")
    length = len(value.replace("-", "").replace(".", "")) if numeric else len(value)
    errors = []
    if length < spec.min:
        errors.append(_error(spec, TOO_SHORT, f"is too short ({length} < {spec.min})"))
    if length > spec.max:
        errors.append(_error(spec, TOO_LONG, f"is too long ({length} > {spec.max})"))
    return errors


def _type_error(spec: Element, data_type: str, value: str) -> ElementError:
    if data_type in ("RD8", "DT", "D8", "D6"):
        return _error(spec, INVALID_DATE, "is not a valid date")
    if data_type == "TM":
        return _error(spec, INVALID_TIME, "is not a valid time")
    return _error(spec, INVALID_CHARACTER,
                  f"{_shown(spec, value)} has characters a {data_type} element cannot hold")


def valid_type(value: str, data_type: str, icvn: str) -> bool:
    """pyx12's ``IsValidDataType`` with the extended character set."""
    if not data_type:
        return True
    if data_type[0] == "N":
        return _NUMBER.fullmatch(value) is not None
    if data_type == "R":
        return _DECIMAL.fullmatch(value) is not None
    if data_type in ("ID", "AN"):
        rejected = _NOT_EXTENDED_5 if icvn == "00501" else _NOT_EXTENDED_4
        return rejected.search(value) is None
    if data_type == "RD8":
        start, dash, end = value.partition("-")
        return bool(dash) and "-" not in end and valid_date("D8", start) and \
            valid_date("D8", end)
    if data_type in ("DT", "D8", "D6"):
        return valid_date(data_type, value)
    if data_type == "TM":
        return valid_time(value)
    return data_type == "B"


def valid_date(data_type: str, value: str) -> bool:
    if (data_type == "D8" and len(value) != 8) or (data_type == "D6" and len(value) != 6):
        return False
    if _NOT_DIGITS.search(value) or len(value) not in (6, 8, 12):
        return False
    if len(value) == 6:
        value = ("20" if int(value[:2]) < 50 else "19") + value
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    if year < 1800 or not 1 <= month <= 12:
        return False
    if month in (4, 6, 9, 11):
        last = 30
    elif month == 2:
        last = 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    else:
        last = 31
    return 1 <= day <= last and (len(value) != 12 or valid_time(value[8:12]))


def valid_time(value: str) -> bool:
    if _NOT_DIGITS.search(value) or value[0:2] > "23" or value[2:4] > "59":
        return False
    return len(value) <= 4 or (6 <= len(value) <= 8 and value[4:6] <= "59")


def _check_rule(segment_id: str, rule: tuple[object, ...], values: list[list[str]]
                ) -> ElementError | None:
    kind, positions = str(rule[0]), [int(p) for p in rule[1:]]  # type: ignore[call-overload]
    present = [p for p in positions if p <= len(values) and _present(values[p - 1])]
    names = ", ".join(f"{segment_id}{p:02d}" for p in positions)
    if len(positions) < 2:  # pyx12 fails such a rule whatever the data
        return _rule_error(segment_id, EXCLUSION if kind == "E" else CONDITIONAL_MISSING,
                           positions[0], None, f"{names}: a rule needs two elements")
    if kind == "P" and present and len(present) != len(positions):
        missing = next(p for p in positions if p not in present)
        return _rule_error(segment_id, CONDITIONAL_MISSING, missing, present[0],
                           f"{names}: if any is present, all are required")
    if kind == "R" and not present:
        return _rule_error(segment_id, CONDITIONAL_MISSING, positions[0], None,
                           f"{names}: at least one is required")
    if kind == "E" and len(present) > 1:
        return _rule_error(segment_id, EXCLUSION, present[1], present[0],
                           f"{names}: at most one may be present")
    first, others = positions[0], positions[1:]
    if first in present:
        if kind == "C" and any(p not in present for p in others):
            missing = next(p for p in others if p not in present)
            return _rule_error(segment_id, CONDITIONAL_MISSING, missing, first,
                               f"{names}: {segment_id}{first:02d} requires the others")
        if kind == "L" and not any(p in present for p in others):
            return _rule_error(segment_id, CONDITIONAL_MISSING, others[0], first,
                               f"{names}: {segment_id}{first:02d} requires one of the others")
    return None


def _rule_error(segment_id: str, code: str, element: int, trigger: int | None,
                message: str) -> ElementError:
    return ElementError(code, element, None, f"{segment_id}{element:02d}",
                        f"syntax rule {message}", kind="syntax-rule", trigger=trigger)


def _error(spec: Element, code: str, what: str) -> ElementError:
    parent = spec.composite
    element, component = (parent.seq, spec.seq) if parent is not None else (spec.seq, None)
    return ElementError(code, element, component, spec.refdes,
                        f"{spec.refdes} ({spec.name}) {what}")


def _shown(spec: Element, value: str) -> str:
    """The value itself for codes and amounts; only its length for anything else (PHI)."""
    if spec.type in _SHOWN_TYPES or spec.type.startswith("N"):
        return repr(value[:20])
    return f"the value ({len(value)} characters)"
