"""Which pharmacy an identifier names, for the ledger: the roster's pharmacy id.

Claims name the pharmacy by 201-B1 (an NPI or NCPDP id), 835s by NM1*82, TS301, PLB01 or the
payee; the roster ties them to one member. An identifier the roster does not know stays as
it was sent, so its rows are kept and reported under it, never dropped.
"""

from __future__ import annotations

from gateway.config.members import Roster
from gateway.reconcile.facts import PharmacyOf


def roster_pharmacy_of(roster: Roster | None) -> PharmacyOf:
    def pharmacy_of(identifier: str) -> str:
        member = roster.by_npi(identifier) or roster.by_ncpdp(identifier) if roster else None
        return member.pharmacy_id if member is not None else identifier

    return pharmacy_of


def pharmacy_id_for(roster: Roster | None, pharmacy: str) -> str:
    """The pharmacy id a user's --pharmacy names: a pharmacy id, an NPI or an NCPDP id."""
    if roster is None:
        return pharmacy
    member = roster.by_id(pharmacy) or roster.by_npi(pharmacy) or roster.by_ncpdp(pharmacy)
    return member.pharmacy_id if member is not None else pharmacy
