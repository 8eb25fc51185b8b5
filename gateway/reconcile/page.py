"""The reconciliation report as one HTML page a pharmacy can read, charts included.

Charts are drawn by matplotlib (a bare Figure: no pyplot, no display, no global state) as
SVG and inlined, with text kept as text (``svg.fonttype = none``), a fixed hash salt and no
date, so the same report renders the same bytes (a re-run delivery overwrites rather than
differs). The page loads nothing from the network: no scripts, fonts or images outside it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure

from gateway.reconcile.html_table import page_head, table
from gateway.reconcile.outcomes import BUCKETS, OUTCOMES, ClaimOutcome
from gateway.reconcile.report import ZERO, Summary


def render_page(summary: Summary, attention: Sequence[ClaimOutcome], title: str) -> str:
    """The page of a report, given by its parts (documents.Report renders its html here, so
    this module does not import that one back)."""
    scope = summary.scope
    claims = [t for name, t in summary.by_outcome.items() if name != "unmatched-payment"]
    expected = sum((t.expected for t in claims), ZERO)
    paid = sum((t.paid for t in claims), ZERO)
    dir_total = sum((t.dir_total for t in summary.by_pbm.values()), ZERO)
    parts = [
        page_head(title),
        f"<p class=\"note\">Claims with a date of service from {scope.start} to {scope.end}, "
        f"judged against the payments made by {scope.as_of}. Amounts in dollars.</p>",
        "<h2>Totals</h2>",
        table(("claims", "expected", "paid", "variance", "DIR (claims + PLB)"),
               [(f"{summary.claims:,}", expected, paid, paid - expected, dir_total)],
               table_id="totals"),
        "<h2>Outcomes</h2>",
        table(("outcome", "claims", "expected", "paid", "variance"),
               [(name, t.count, t.expected, t.paid, t.variance)
                for name in OUTCOMES if (t := summary.by_outcome[name]).count]),
        "<div class=\"charts\">",
        _figure("chart-aging", _aging_chart(summary)),
        _figure("chart-dir-fees", _pbm_chart(summary)),
        "</div>",
        "<h2>Unpaid claims by age (days since the date of service)</h2>",
        table(("age", "claims", "amount expected"),
               [(b, summary.aging[b].count, summary.aging[b].expected) for b in BUCKETS]),
        "<h2>By PBM</h2>",
        table(("PBM", "claims", "expected", "paid", "DIR at claims", "DIR in PLB", "fees",
                "interest", "recoupments", "forwarding balance", "payments", "net paid"),
               [(pbm, t.claims.count, t.claims.expected, t.claims.paid, t.dir_claims,
                 t.dir_plb, t.plb.get("fee", ZERO), t.plb.get("interest", ZERO),
                 t.plb.get("recoupment", ZERO), t.plb.get("forwarding_balance", ZERO),
                 t.payments, t.paid) for pbm, t in sorted(summary.by_pbm.items())]),
    ]
    if summary.payments:
        parts += ["<h2>Payments</h2>", table(
            ("date", "PBM", "trace number", "claims", "claims paid", "PLB", "net"),
            [(p.payment_date, p.pbm, p.trace_number, p.claims, p.claim_paid, p.adjustments,
              p.net) for p in summary.payments])]
    if summary.plb_items:
        parts += ["<h2>Provider-level adjustments (PLB)</h2>", table(
            ("date", "PBM", "trace number", "reason", "reference", "category", "amount"),
            [(i.payment_date, i.pbm, i.trace_number, i.reason, i.reference, i.category,
              i.amount) for i in summary.plb_items])]
    if attention:
        parts += ["<h2>Claims that need attention</h2>", table(
            ("Rx", "fill", "date of service", "PBM", "outcome", "expected", "paid",
             "variance", "age", "adjustments"),
            [(o.rx_number, o.fill_number, o.date_of_service, o.pbm, o.outcome, o.expected,
              o.paid, o.variance, o.age_days, o.adjustments) for o in attention])]
    parts.append("<p class=\"note\">Every claim is in the CSV report; this page lists at most "
                 f"{len(attention)} that need attention.</p></body></html>\n")
    return "\n".join(parts)


def _figure(name: str, figure: Figure) -> str:
    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(out, format="svg", metadata={"Date": None})
    svg = out.getvalue()
    return f"<figure id=\"{name}\">{svg[svg.index('<svg'):]}</figure>"


def _aging_chart(summary: Summary) -> Figure:
    aging = summary.aging
    figure = Figure(figsize=(5.5, 3.2))
    axes = figure.subplots()
    amounts = [float(aging[b].expected) for b in BUCKETS]
    bars = axes.bar(BUCKETS, amounts, color="#c0504d")
    axes.bar_label(bars, labels=[str(aging[b].count) for b in BUCKETS])
    axes.set_title("Unpaid claims by age (count on bars)")
    axes.set_xlabel("days since date of service")
    axes.set_ylabel("amount expected ($)")
    figure.tight_layout()
    return figure


def _pbm_chart(summary: Summary) -> Figure:
    pbms = sorted(summary.by_pbm.items())
    figure = Figure(figsize=(5.5, 3.2))
    axes = figure.subplots()
    names = [pbm for pbm, _ in pbms] or ["(none)"]
    dir_claims = [float(t.dir_claims) for _, t in pbms] or [0.0]
    dir_plb = [float(t.dir_plb) for _, t in pbms] or [0.0]
    fees = [float(t.plb.get("fee", ZERO)) for _, t in pbms] or [0.0]
    axes.bar(names, dir_claims, label="DIR at claims (CARC 295)", color="#4f81bd")
    axes.bar(names, dir_plb, bottom=dir_claims, label="DIR in PLB", color="#9bbb59")
    axes.bar(names, fees, bottom=[a + b for a, b in zip(dir_claims, dir_plb, strict=True)],
             label="fees (PLB)", color="#f79646")
    axes.set_title("DIR and fees by PBM")
    axes.set_ylabel("$")
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure
