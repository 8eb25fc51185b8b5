"""The PSAO itself (``partners/psao.toml``): who it is in X12 envelopes and on 835s.

The splitter needs this to re-envelope each pharmacy's part (ISA06/GS02 are the PSAO), to
recognise a central-pay 835 whose payee is the PSAO, and to tell the PSAO's own provider-level
adjustments (PLB01 = the PSAO's NPI or TIN) from a pharmacy's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gateway.config.problems import Problems
from gateway.config.tables import read_toml, text, unknown_keys

_ISA_ID = re.compile(r"^[A-Za-z0-9 ._-]{1,15}$")


@dataclass(frozen=True)
class Psao:
    """The PSAO's identifiers. ``identifiers`` is every id an 835 may name it by."""

    name: str
    isa_qualifier: str
    isa_id: str
    gs_id: str
    npi: str | None = None
    tin: str | None = None
    other_ids: tuple[str, ...] = ()

    @property
    def identifiers(self) -> frozenset[str]:
        return frozenset(i for i in (self.npi, self.tin, self.isa_id, *self.other_ids) if i)


def load_psao(path: Path) -> Psao:
    """Read and validate psao.toml; every problem is reported at once."""
    problems = Problems(path)
    data = read_toml(path, problems) or {}
    unknown_keys(
        data, {"name", "isa_qualifier", "isa_id", "gs_id", "npi", "tin", "other_ids"}, "", problems
    )
    values = {k: text(data, k, "", problems) for k in ("name", "isa_qualifier", "isa_id")}
    gs_id = text(data, "gs_id", "", problems, required=False) or values["isa_id"]
    npi = text(data, "npi", "", problems, required=False)
    tin = text(data, "tin", "", problems, required=False)
    if values["isa_qualifier"] and not re.fullmatch(r"[0-9A-Z]{2}", values["isa_qualifier"]):
        problems.add(None, "isa_qualifier", f"{values['isa_qualifier']!r} is not an ISA05 code",
                     'use "ZZ" (mutually defined), "30" (TIN) or "XX" (NPI)')
    if values["isa_id"] and not _ISA_ID.match(values["isa_id"]):
        problems.add(None, "isa_id", f"{values['isa_id']!r} is not 1-15 plain characters",
                     "use the id your PBMs put in ISA08")
    if npi and not (len(npi) == 10 and npi.isdigit()):
        problems.add(None, "npi", f"{npi!r} is not 10 digits", "use the PSAO's NPI")
    if tin and not (len(tin) == 9 and tin.isdigit()):
        problems.add(None, "tin", f"{tin!r} is not 9 digits", "use the PSAO's EIN")
    other = data.get("other_ids", [])
    if not isinstance(other, list) or not all(isinstance(i, str) for i in other):
        problems.add(None, "other_ids", "is not a list of strings", 'write other_ids = ["..."]')
        other = []
    problems.raise_if_any()
    return Psao(
        name=values["name"] or "", isa_qualifier=values["isa_qualifier"] or "",
        isa_id=values["isa_id"] or "", gs_id=gs_id or "", npi=npi, tin=tin,
        other_ids=tuple(other),
    )
