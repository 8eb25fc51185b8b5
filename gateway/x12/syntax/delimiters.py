"""The delimiters of one X12 interchange, read from its fixed-length ISA segment.

X12 has no fixed delimiters: every interchange declares its own in the ISA, whose 16 elements
have fixed widths so that the ISA is always 106 characters: the element separator is the
character right after ``ISA`` (position 3), the component separator is ISA16 (position 104)
and the segment terminator is the character after ISA16 (position 105). The repetition
separator is ISA11 from version 00402 on (before that ISA11 is the standards id, ``U``).

Many senders put a line break after each terminator (``~`` CR LF). The break is not part of
the standard but must be kept for a byte-identical copy, so it is recorded as the *suffix*.
A bare newline can also be the terminator itself (ISA16 followed directly by LF).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ISA_LENGTH = 106
LINE_BREAKS = "\r\n"
BOM = "\xef\xbb\xbf"  # UTF-8 byte order mark, as latin-1 text
ISA_LOOKAHEAD = 256  # enough text to read any ISA, even one a few characters too long
LEADING_BLANKS = " \t\r\n\f\v\x00"


def isa_start(head: bytes | str) -> int:
    """Where the first ISA starts: after a UTF-8 byte order mark and blank space, the bytes
    every reader of the file (tokenizer, splitter, acknowledger) skips the same way."""
    text = head if isinstance(head, str) else head.decode("latin-1")
    return len(text) - len(text.removeprefix(BOM).lstrip(LEADING_BLANKS))


@dataclass(frozen=True)
class Delimiters:
    """``element`` ``*``, ``component`` ``:``, ``repetition`` ``^`` (None before 00402),
    ``terminator`` ``~``, and ``suffix``: the line break the ISA was followed by.

    The one delimiter class of the gateway: the tokenizer reads with it, the splitter cuts
    bytes with it (the ``*_bytes`` views, made once), the writers (parts, 999, TA1) write
    with it. The defaults are what our own acknowledgments use.
    """

    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    terminator: str = "~"
    suffix: str = ""
    element_bytes: bytes = field(init=False, repr=False, compare=False)
    component_bytes: bytes = field(init=False, repr=False, compare=False)
    terminator_bytes: bytes = field(init=False, repr=False, compare=False)
    end_bytes: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, text in (("element", self.element), ("component", self.component),
                           ("terminator", self.terminator), ("end", self.end)):
            object.__setattr__(self, f"{name}_bytes", text.encode("latin-1"))

    @property
    def end(self) -> str:
        """What normally follows a segment's last element: terminator plus line break."""
        return self.terminator + self.suffix

    def segment(self, *elements: str) -> str:
        """One segment's text, trailing empty elements dropped, terminator and suffix added."""
        return self.element.join(elements).rstrip(self.element) + self.end

    def segment_bytes(self, *elements: str) -> bytes:
        """One segment as bytes, every element kept, terminated the way the original was."""
        return self.element_bytes.join(e.encode("latin-1") for e in elements) + self.end_bytes

    def non_ascii(self) -> str | None:
        """The name of the first delimiter that is not ASCII (X12 delimiters come from the
        basic and extended character sets, which are ASCII), else None."""
        for name in ("element", "component", "repetition", "terminator"):
            value = getattr(self, name)
            if value is not None and not value.isascii():
                return name
        return None


class IsaError(Exception):
    """An ISA from which no delimiters can be read; ``code`` names the defect."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def read_isa(text: str) -> tuple[Delimiters, int]:
    """Delimiters from the ISA at the start of ``text``, and the ISA's length in characters.

    ``text`` must hold the whole ISA and what follows (at least a few characters, for the
    line break). The length returned excludes terminator and suffix; it is 105 for a correct
    ISA. A wrong length is not fatal here (``isa_length_ok`` tells the caller) as long as the
    16 elements and the terminator can be found, so that a slightly malformed ISA (unpadded
    sender id) can still be reported precisely and read in collect mode.
    """
    if len(text) < 4 or not text.startswith("ISA"):
        raise IsaError("not-x12", "the interchange does not start with ISA")
    element = text[3]
    if element.isalnum() or element in LINE_BREAKS or element == " ":
        raise IsaError("isa-delimiters", f"ISA element separator {element!r} is not usable")
    # Find the 16th element separator: ISA16 is the one character after it.
    position = 3
    for _ in range(15):
        position = text.find(element, position + 1)
        if position < 0 or position > ISA_LENGTH + 40:
            raise IsaError("isa-length", "the ISA does not have 16 elements")
    component_at = position + 1
    if component_at >= len(text):
        raise IsaError("isa-terminator", "the ISA ends after ISA15: ISA16 and terminator missing")
    component = text[component_at]
    terminator_at = component_at + 1
    if terminator_at >= len(text):
        raise IsaError(
            "isa-terminator",
            "the file ends right after ISA16: no segment terminator follows the ISA",
        )
    terminator = text[terminator_at]
    if terminator.isalnum() or terminator in (element, component, " "):
        raise IsaError(
            "isa-terminator",
            f"the character after ISA16 ({terminator!r}) cannot be a segment terminator",
        )
    suffix = _line_break_after(text, terminator_at + 1, terminator)
    fields = text[:terminator_at].split(element)
    version = fields[12]
    repetition = fields[11] if version >= "00402" and len(fields[11]) == 1 else None
    return Delimiters(element, component, repetition, terminator, suffix), terminator_at


def isa_problems(text: str, delimiters: Delimiters, length: int) -> list[tuple[str, str, str]]:
    """What makes a readable ISA unusable: a non-ASCII delimiter or a non-ASCII character in
    a fixed field (a ``µ`` in the date, a superscript digit in ISA13). Each is ``(code,
    element, message)``; the tokenizer reports them, the envelope reader refuses the first.
    X12's basic and extended character sets are ASCII, and an acknowledgment must be able to
    echo these fields."""
    found = []
    bad = delimiters.non_ascii()
    if bad is not None:
        element = {"element": "ISA", "component": "ISA16", "repetition": "ISA11",
                   "terminator": "ISA"}[bad]
        found.append(("isa-delimiters", element,
                      f"the ISA declares a non-ASCII {bad} separator"))
    fields = text[:length].split(delimiters.element)
    for index, value in enumerate(fields[1:16], 1):
        if index != 11 and not value.isascii():  # ISA11 and ISA16 are delimiters (above)
            found.append(("isa-content", f"ISA{index:02d}",
                          f"ISA{index:02d} holds a non-ASCII character"))
    return found


ISA_FIX = "X12 envelopes are ASCII: ask the sender to correct the ISA"
# TA105 for an unusable ISA element: 010-013 authorization/security, 005-008 sender/receiver,
# 014 date, 015 time, 017 version, 018 control number, 019 ack requested, 020 usage.
ISA_TA105 = {"ISA01": "010", "ISA02": "011", "ISA03": "012", "ISA04": "013", "ISA05": "005",
             "ISA06": "006", "ISA07": "007", "ISA08": "008", "ISA09": "014", "ISA10": "015",
             "ISA12": "017", "ISA13": "018", "ISA14": "019", "ISA15": "020", "ISA11": "026",
             "ISA16": "027", "ISA": "026"}


def ascii_int(text: str) -> int | None:
    """``text`` as a count when it is plain ASCII digits, else None (``'6²'.isdigit()`` is
    True in Python and ``int`` would then raise: counts in X12 are ASCII digits only)."""
    return int(text) if text.isascii() and text.isdigit() else None


def isa_length_ok(length: int) -> bool:
    """True when the ISA (without terminator) has the fixed length of 105 characters."""
    return length == ISA_LENGTH - 1


def _line_break_after(text: str, at: int, terminator: str) -> str:
    """The one line break (CR LF, LF or CR) at ``at``, if any; blank lines are not a suffix."""
    if terminator not in LINE_BREAKS and text.startswith("\r\n", at):
        return "\r\n"
    if at < len(text) and text[at] in LINE_BREAKS and text[at] != terminator:
        return text[at]
    return ""
