"""``gateway reconcile`` and ``gateway audit-pack``: claims matched to payments, on demand.

Both read the daemon's configuration (``--config``): its store (the claims ledger), its
roster (``--pharmacy`` may be the pharmacy id, its NPI or its NCPDP id) and its
``mappings/reconcile.toml`` rules.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from gateway.cli.codes import EXIT_OK
from gateway.cli.run import add_config_argument
from gateway.config.settings import load_settings
from gateway.reconcile.audit import read_rx_list, write_audit_pack
from gateway.reconcile.documents import FORMATS
from gateway.reconcile.ledgers import open_ledger
from gateway.reconcile.site import Site, load_site
from gateway.service.reconciliation import Period, reconciliation, resolve_pharmacy
from gateway.store import open_configured


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser(
        "reconcile", help="match a pharmacy's claims to what its PBMs paid",
        description="Every claim of the period (by date of service) with its outcome: paid, "
        "short- or over-paid, unpaid (with age), reversed, paid twice, rejected, or a payment "
        "without a claim; PLB items, DIR and payments per PBM.")
    add_config_argument(report)
    report.add_argument("--pharmacy", required=True, help="pharmacy id, NPI or NCPDP id")
    report.add_argument("--pbm", help="only this PBM (an id of mappings/reconcile.toml)")
    report.add_argument("--from", dest="start", type=_date, required=True, metavar="DATE")
    report.add_argument("--to", dest="end", type=_date, required=True, metavar="DATE")
    report.add_argument("--as-of", type=_date, default=None, metavar="DATE",
                        help="judge against payments made by this date (default today)")
    report.add_argument("--format", choices=FORMATS, default="csv")
    report.add_argument("--out", type=Path, help="file to write (default standard output)")
    report.set_defaults(handler=run_reconcile)

    audit = subparsers.add_parser(
        "audit-pack", help="the full trail of the prescriptions a PBM audit letter lists",
        description="For each Rx of the list: the claim as submitted and adjudicated, every "
        "payment and adjustment with file, date and trace number, and what is missing. "
        "Writes audit.csv and audit.html into --out.")
    add_config_argument(audit)
    audit.add_argument("--pharmacy", required=True, help="pharmacy id, NPI or NCPDP id")
    audit.add_argument("--pbm", required=True, help="the auditing PBM")
    audit.add_argument("--rx-list", type=Path, required=True, metavar="FILE",
                       help="CSV: rx_number[,date_of_service] per line (a header is allowed)")
    audit.add_argument("--as-of", type=_date, default=None, metavar="DATE")
    audit.add_argument("--out", type=Path, required=True, help="directory for the bundle")
    audit.set_defaults(handler=run_audit_pack)


def run_reconcile(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    site = load_site(settings)
    _pharmacy(site, args.pharmacy)
    period = Period(args.pharmacy, args.start, args.end, args.as_of or date.today(), args.pbm)
    with open_configured(settings, create=False) as store:
        report = reconciliation(store, site, period)
    try:
        data = report.render(args.format)
    finally:
        report.close()
    if args.out is None:
        sys.stdout.buffer.write(data)
    else:
        args.out.write_bytes(data)
        summary = report.summary
        print(f"{args.out}: {summary.claims} claims of {summary.scope.pharmacy}, "
              + ", ".join(f"{n} {name}" for name, t in summary.by_outcome.items()
                          if (n := t.count)), file=sys.stderr)
    return EXIT_OK


def run_audit_pack(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    site = load_site(settings)
    pharmacy = _pharmacy(site, args.pharmacy)
    wanted = read_rx_list(args.rx_list)
    with open_configured(settings, create=False) as store, open_ledger(store) as ledger:
        written = write_audit_pack(ledger, pharmacy, args.pbm, wanted, args.out,
                                   as_of=args.as_of or date.today(),
                                   title=f"Audit support: {site.name(pharmacy)} ({pharmacy}), "
                                         f"{args.pbm}")
    for path in written:
        print(path)
    return EXIT_OK


def _pharmacy(site: Site, named: str) -> str:
    """The roster's pharmacy id; an identifier it does not know is used as sent (the ledger
    keeps such rows under it), with a warning."""
    pharmacy, known = resolve_pharmacy(site, named)
    if not known:
        print(f"gateway: warning: {named!r} is not a pharmacy of the roster; reporting the "
              "rows recorded under that identifier", file=sys.stderr)
    return pharmacy


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None
