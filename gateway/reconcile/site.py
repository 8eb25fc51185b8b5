"""What a reconciliation needs of a deployment: its store, its roster and its rules.

From the daemon's gateway.toml: the store URL, the member roster (pharmacy ids, names, the
identifiers that name them) and ``mappings/reconcile.toml`` beside the file (the built-in
rules when there is none).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.configuration import load_configuration
from gateway.config.members import Roster
from gateway.config.settings import Settings
from gateway.reconcile.config import ReconcileConfig, load_reconcile_config
from gateway.reconcile.facts import PharmacyOf
from gateway.reconcile.pharmacies import pharmacy_id_for, roster_pharmacy_of


@dataclass(frozen=True)
class Site:
    store_url: str
    roster: Roster
    rules: ReconcileConfig

    @property
    def pharmacy_of(self) -> PharmacyOf:
        return roster_pharmacy_of(self.roster)

    def pharmacy(self, named: str) -> str:
        """The pharmacy id an operator's ``--pharmacy`` names (id, NPI or NCPDP id)."""
        return pharmacy_id_for(self.roster, named)

    def name(self, pharmacy_id: str) -> str:
        member = self.roster.by_id(pharmacy_id)
        return member.name if member else pharmacy_id


def load_site(settings: Settings, roster: Roster | None = None) -> Site:
    """The deployment's site; a running daemon passes its live roster (reloaded on SIGHUP)
    rather than have the configuration read again."""
    if roster is None:
        roster = load_configuration(settings.partners_dir).roster
    rules = load_reconcile_config(settings.path.parent / "mappings")
    return Site(settings.store_url, roster, rules)
