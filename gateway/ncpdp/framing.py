"""The framing characters of NCPDP Telecommunication and Batch, and a readable rendering.

On the wire a D.0 transmission is a fixed header followed by segments; every segment starts
with RS, every field (including the segment id ``AM..``) with FS, every transaction (claim
group) with GS. Batch files wrap each record in STX ... ETX. Nothing else delimits anything,
so the codec works on ``str`` decoded as Latin-1: a one-to-one map of bytes to characters,
which keeps offsets equal to byte offsets and makes round trips exact for any byte.
"""

from __future__ import annotations

STX = "\x02"  # 880-K4 text indicator: first byte of a batch record
ETX = "\x03"  # 880-K4 text indicator: last byte of a batch record
FS = "\x1c"  # field separator: before every field
GS = "\x1d"  # group separator: before every transaction of a transmission
RS = "\x1e"  # segment separator: before every segment

ENCODING = "latin-1"  # bytes <-> str one-to-one; see the module docstring

_TOKENS = {
    STX: "<STX>",
    ETX: "<ETX>",
    FS: "<FS>",
    GS: "<GS>",
    RS: "<RS>",
    "\r": "<CR>",
    "\n": "<LF>",
}


def render_visible(data: bytes) -> str:
    """Control characters as ``<FS>``, ``<GS>``, ``<RS>``, ``<STX>``, ``<ETX>`` (others ``<0xNN>``).

    Line structure follows the message: each batch record starts a line, each segment an
    indented line, each group separator its own line. For operators and bug reports only; the
    result is not wire format.
    """
    out: list[str] = []
    for char in data.decode(ENCODING):
        token = _TOKENS.get(char)
        if token is None:
            out.append(char if " " <= char <= "~" else f"<0x{ord(char):02X}>")
        elif char == RS:
            out.append("\n  " + token)
        elif char == GS:
            out.append("\n" + token)
        elif char == ETX:
            out.append(token + "\n")
        elif char in "\r\n" and out and out[-1].endswith("\n"):
            out[-1] = out[-1][:-1] + token + ("\n" if char == "\n" else "")
        elif char == "\n":
            out.append(token + "\n")
        elif char == STX and out and not out[-1].endswith("\n"):
            out.append("\n" + token)
        else:
            out.append(token)
    return "".join(out)
