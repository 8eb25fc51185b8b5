"""Claims reconciliation and audit support (issue 11).

    facts.py       the ledger's rows, read out of routed NCPDP and 835 files (no PHI)
    ledger.py      the claims ledger in the message store (ledger_sqlite.py, ledger_postgres.py)
    recorder.py    the pipeline's hook: each routed file into the ledger
    config.py      rules as data: PBMs, CLP01 patterns, DIR, PLB categories, report schedule
    matching.py    the sort-merge of claims and payments, and pairing within a prescription
    outcomes.py    each claim's outcome, variance and age
    report.py      a reconciliation run and its summary
    documents.py   the report as CSV, JSON and HTML (page.py draws the HTML and its charts)
    publish.py     scheduled reports through the delivery queue
    audit.py       the audit pack
    site.py, pharmacies.py   what a run needs of a deployment (store, roster, rules)
"""
