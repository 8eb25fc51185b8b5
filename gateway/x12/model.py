"""Which transaction set of which file: the identity every name and key is derived from.

ST02 is unique only inside its functional group, GS06 only inside its interchange, and ISA13
only per sender — a file may legally repeat any of them (two groups both numbering their
sets 0001; the same interchange sent twice). Keying parts by ST02 made two sets overwrite one
another (issue 10, items 1 and 8). A set is therefore identified by where it is — its
interchange's ordinal in the file and its own ordinal — together with the control numbers
that humans and partners quote (ISA13, GS06, ST02). The ordinals alone make it unique in a
file; the control numbers make it recognisable.

Control-number values come from the partner and may hold anything X12 allows in an AN
element (``/``, ``\\``, spaces): in names they are data, passed through
:func:`~gateway.fsutil.safe_name`, never path components, and uniqueness never depends on
them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_UNSAFE = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True, order=True)
class SetIdentity:
    """One ST..SE of one received file.

    ``file`` is the file's identifier — its SHA-256 wherever the file is known by hash (split,
    route, daemon), else its name. ``interchange`` is the ordinal of the set's ISA in the file
    and ``ordinal`` the ordinal of its ST in the file, both counted from 1 in file order.
    """

    file: str
    interchange: int
    isa13: str
    gs06: str
    st02: str
    ordinal: int

    @property
    def key(self) -> str:
        """A stable text form (for hashes and manifest keys); unique per set of a file."""
        return "|".join((self.file, str(self.interchange), self.isa13, self.gs06, self.st02,
                         str(self.ordinal)))

    @property
    def digest(self) -> str:
        """SHA-256 of :attr:`key`: what idempotency and part keys are built from."""
        return hashlib.sha256(self.key.encode()).hexdigest()

    @property
    def stem(self) -> str:
        """A file-name-safe name, unique in the file: ``i002-s0007-<ST02>``.

        The ordinals make it unique; the ST02 is there for people and is reduced to
        ``[A-Za-z0-9]`` (``A/B`` becomes ``A_B``; never a directory)."""
        st02 = _UNSAFE.sub("_", self.st02)[:40] or "_"
        return f"i{self.interchange:03d}-s{self.ordinal:04d}-{st02}"

    def describe(self) -> str:
        """For reports and log-free messages: every control number and both ordinals."""
        return (f"set {self.ordinal} of the file (ST02 {self.st02!r}, GS06 {self.gs06!r}, "
                f"interchange {self.interchange} ISA13 {self.isa13!r})")


class IdentityCounter:
    """Assigns identities while a file is read in order: told of every ISA, GS and ST."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.interchange = 0
        self.sets = 0
        self.isa13 = ""
        self.gs06 = ""

    def open_interchange(self, isa13: str) -> None:
        self.interchange += 1
        self.isa13, self.gs06 = isa13.strip(), ""

    def open_group(self, gs06: str) -> None:
        self.gs06 = gs06

    def open_set(self, st02: str) -> SetIdentity:
        self.sets += 1
        return SetIdentity(self.file, self.interchange, self.isa13, self.gs06, st02, self.sets)
