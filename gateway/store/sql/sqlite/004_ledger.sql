-- The claims ledger (issue 11): facts of every routed NCPDP and 835 file, for reconciliation
-- and audit support. Never PHI: no patient or cardholder names, member ids or birth dates —
-- the raw file (files.sha256 payload, byte_offset) stays the legal record.
-- Amounts are integer cents; dates ISO text (YYYY-MM-DD); rows of a file are (file_id, seq).
-- Pharmacy and Rx number sort in BINARY (byte) order, the order the reconciler merges in.

-- One row per file taken into the ledger. Ingest is a redo: rows of a file still
-- 'ingesting' (a crash) are deleted and written again; a 'complete' file is not re-read.
CREATE TABLE ledger_files (
    file_id      INTEGER PRIMARY KEY REFERENCES files (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('ncpdp', '835')),
    state        TEXT    NOT NULL CHECK (state IN ('ingesting', 'complete')),
    rows         INTEGER NOT NULL DEFAULT 0,
    started_at   REAL    NOT NULL,
    completed_at REAL
);

CREATE TABLE ledger_requests (
    file_id             INTEGER NOT NULL,
    seq                 INTEGER NOT NULL,
    byte_offset         INTEGER NOT NULL,
    transaction_code    TEXT    NOT NULL,
    pharmacy            TEXT    NOT NULL,
    service_provider_id TEXT    NOT NULL,
    pbm                 TEXT    NOT NULL,
    bin                 TEXT    NOT NULL,
    pcn                 TEXT    NOT NULL,
    group_id            TEXT,
    rx_number           TEXT    NOT NULL,
    fill_number         INTEGER,
    date_of_service     TEXT,
    ndc                 TEXT,
    quantity            TEXT,
    days_supply         INTEGER,
    ingredient_cost     INTEGER,
    dispensing_fee      INTEGER,
    gross_amount_due    INTEGER,
    usual_and_customary INTEGER,
    patient_paid        INTEGER,
    reference           TEXT,
    txn                 INTEGER NOT NULL,
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX ledger_requests_key ON ledger_requests (pharmacy, rx_number, file_id, seq);

CREATE TABLE ledger_responses (
    file_id              INTEGER NOT NULL,
    seq                  INTEGER NOT NULL,
    byte_offset          INTEGER NOT NULL,
    transaction_code     TEXT    NOT NULL,
    pharmacy             TEXT    NOT NULL,
    service_provider_id  TEXT    NOT NULL,
    pbm                  TEXT    NOT NULL,
    rx_number            TEXT    NOT NULL,
    date_of_service      TEXT,
    reference            TEXT,
    txn                  INTEGER NOT NULL,
    header_status        TEXT    NOT NULL,
    status               TEXT,
    authorization_number TEXT,
    reject_codes         TEXT,
    total_paid           INTEGER,
    patient_pay          INTEGER,
    ingredient_cost_paid INTEGER,
    dispensing_fee_paid  INTEGER,
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX ledger_responses_key ON ledger_responses (pharmacy, rx_number, file_id, seq);

CREATE TABLE ledger_payments (
    file_id                    INTEGER NOT NULL,
    set_seq                    INTEGER NOT NULL,
    control_number             TEXT    NOT NULL,
    pbm                        TEXT    NOT NULL,
    payer_name                 TEXT    NOT NULL,
    payer_id                   TEXT,
    payee_npi                  TEXT,
    payee_ncpdp_id             TEXT,
    payee_tin                  TEXT,
    trace_number               TEXT,
    amount                     INTEGER NOT NULL,
    credit_debit               TEXT    NOT NULL,
    method                     TEXT    NOT NULL,
    payment_date               TEXT,
    interchange_control_number TEXT    NOT NULL,
    PRIMARY KEY (file_id, set_seq)
);

CREATE TABLE ledger_claim_payments (
    file_id                    INTEGER NOT NULL,
    seq                        INTEGER NOT NULL,
    set_seq                    INTEGER NOT NULL,
    byte_offset                INTEGER NOT NULL,
    pharmacy                   TEXT    NOT NULL,
    provider_id                TEXT    NOT NULL,
    pbm                        TEXT    NOT NULL,
    claim_id                   TEXT    NOT NULL,
    rx_number                  TEXT    NOT NULL,
    fill_number                INTEGER,
    date_of_service            TEXT,
    status                     TEXT    NOT NULL,
    billed                     INTEGER NOT NULL,
    paid                       INTEGER NOT NULL,
    patient_responsibility     INTEGER,
    payer_claim_control_number TEXT,
    ndc                        TEXT,
    adjustments                TEXT    NOT NULL,
    dir_amount                 INTEGER NOT NULL,
    trace_number               TEXT,
    payment_date               TEXT,
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX ledger_claim_payments_key
    ON ledger_claim_payments (pharmacy, rx_number, file_id, seq);
CREATE INDEX ledger_claim_payments_paid ON ledger_claim_payments (pharmacy, payment_date);

CREATE TABLE ledger_service_lines (
    file_id           INTEGER NOT NULL,
    claim_seq         INTEGER NOT NULL,
    line              INTEGER NOT NULL,
    product_qualifier TEXT    NOT NULL,
    product_id        TEXT    NOT NULL,
    service_date      TEXT,
    billed            INTEGER NOT NULL,
    paid              INTEGER NOT NULL,
    units             TEXT,
    adjustments       TEXT    NOT NULL,
    PRIMARY KEY (file_id, claim_seq, line)
);

CREATE TABLE ledger_provider_adjustments (
    file_id            INTEGER NOT NULL,
    seq                INTEGER NOT NULL,
    set_seq            INTEGER NOT NULL,
    pharmacy           TEXT    NOT NULL,
    provider_id        TEXT    NOT NULL,
    pbm                TEXT    NOT NULL,
    fiscal_period_date TEXT,
    reason             TEXT    NOT NULL,
    reference          TEXT,
    amount             INTEGER NOT NULL,
    trace_number       TEXT,
    payment_date       TEXT,
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX ledger_provider_adjustments_paid
    ON ledger_provider_adjustments (pharmacy, payment_date);

-- Scheduled reconciliation reports already queued: one per pharmacy, period and format.
CREATE TABLE ledger_reports (
    pharmacy     TEXT    NOT NULL,
    period_start TEXT    NOT NULL,
    period_end   TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    delivery_id  INTEGER NOT NULL,
    created_at   REAL    NOT NULL,
    PRIMARY KEY (pharmacy, period_start, period_end, format)
);
