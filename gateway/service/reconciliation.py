"""A pharmacy's claims reconciliation for a period: the one implementation behind
``gateway reconcile`` and the console's reconciliation pages.

The caller opens the store (the CLI for one command, the console per request) and passes
the deployment's :class:`~gateway.reconcile.site.Site` (roster and rules); this module
resolves the pharmacy the operator named, checks the period and builds the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gateway.errors import ConfigError
from gateway.reconcile.documents import Report, build_report
from gateway.reconcile.ledger import Scope
from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.site import Site
from gateway.store.base import MessageStore


@dataclass(frozen=True)
class Period:
    """What an operator asks for: a pharmacy (id, NPI or NCPDP id), an optional PBM, the
    dates of service ``start``..``end`` and the day payments are judged by."""

    pharmacy: str
    start: date
    end: date
    as_of: date
    pbm: str | None = None


def resolve_pharmacy(site: Site, named: str) -> tuple[str, bool]:
    """The roster's pharmacy id for ``named`` and whether the roster knows it (an unknown
    identifier is used as sent: the ledger keeps rows under whatever identified them)."""
    pharmacy = site.pharmacy(named)
    return pharmacy, site.roster.by_id(pharmacy) is not None


def reconciliation(store: MessageStore, site: Site, period: Period) -> Report:
    """Run the reconciliation; the caller renders the report and closes it."""
    if period.end < period.start:
        raise ConfigError(f"the period ends ({period.end}) before it starts ({period.start})",
                          fix="give the period's first day as its start and its last as its end")
    pharmacy, _known = resolve_pharmacy(site, period.pharmacy)
    scope = Scope(pharmacy, period.pbm, period.start, period.end, period.as_of)
    title = (f"Claims reconciliation: {site.name(pharmacy)} ({pharmacy})"
             + (f", {period.pbm}" if period.pbm else "") + f", {period.start} to {period.end}")
    with open_ledger(store) as ledger:
        return build_report(ledger, scope, site.rules, title=title)
