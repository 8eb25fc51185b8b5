-- The claims ledger (issue 11): facts of every routed NCPDP and 835 file, for reconciliation
-- and audit support. Never PHI: no patient or cardholder names, member ids or birth dates —
-- the raw file (files.sha256 payload, byte_offset) stays the legal record.
-- Amounts are integer cents (bigint); rows of a file are (file_id, seq). Pharmacy and Rx
-- number sort in the "C" collation: byte order, the order the reconciler's merge compares in.

-- One row per file taken into the ledger. Ingest is a redo: rows of a file still
-- 'ingesting' (a crash) are deleted and written again; a 'complete' file is not re-read.
CREATE TABLE ledger_files (
    file_id      bigint PRIMARY KEY REFERENCES files (id),
    kind         text    NOT NULL CHECK (kind IN ('ncpdp', '835')),
    state        text    NOT NULL CHECK (state IN ('ingesting', 'complete')),
    rows         bigint NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);

CREATE TABLE ledger_requests (
    file_id             bigint  NOT NULL,
    seq                 bigint  NOT NULL,
    byte_offset         bigint  NOT NULL,
    transaction_code    text    NOT NULL,
    pharmacy            text COLLATE "C" NOT NULL,
    service_provider_id text    NOT NULL,
    pbm                 text    NOT NULL,
    bin                 text    NOT NULL,
    pcn                 text    NOT NULL,
    group_id            text,
    rx_number           text COLLATE "C" NOT NULL,
    fill_number         bigint,
    date_of_service     date,
    ndc                 text,
    quantity            text,
    days_supply         bigint,
    ingredient_cost     bigint,
    dispensing_fee      bigint,
    gross_amount_due    bigint,
    usual_and_customary bigint,
    patient_paid        bigint,
    reference           text,
    txn                 bigint  NOT NULL,
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX ledger_requests_key ON ledger_requests (pharmacy, rx_number, file_id, seq);

CREATE TABLE ledger_responses (
    file_id              bigint  NOT NULL,
    seq                  bigint  NOT NULL,
    byte_offset          bigint  NOT NULL,
    transaction_code     text    NOT NULL,
    pharmacy             text COLLATE "C" NOT NULL,
    service_provider_id  text    NOT NULL,
    pbm                  text    NOT NULL,
    rx_number            text COLLATE "C" NOT NULL,
    date_of_service      date,
    reference            text,
    txn                  bigint  NOT NULL,
    header_status        text    NOT NULL,
    status               text,
    authorization_number text,
    reject_codes         text,
    total_paid           bigint,
    patient_pay          bigint,
    ingredient_cost_paid bigint,
    dispensing_fee_paid  bigint,
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX ledger_responses_key ON ledger_responses (pharmacy, rx_number, file_id, seq);

CREATE TABLE ledger_payments (
    file_id                    bigint  NOT NULL,
    set_seq                    bigint  NOT NULL,
    control_number             text    NOT NULL,
    pbm                        text    NOT NULL,
    payer_name                 text    NOT NULL,
    payer_id                   text,
    payee_npi                  text,
    payee_ncpdp_id             text,
    payee_tin                  text,
    trace_number               text,
    amount                     bigint  NOT NULL,
    credit_debit               text    NOT NULL,
    method                     text    NOT NULL,
    payment_date               date,
    interchange_control_number text    NOT NULL,
    PRIMARY KEY (file_id, set_seq)
);

CREATE TABLE ledger_claim_payments (
    file_id                    bigint  NOT NULL,
    seq                        bigint  NOT NULL,
    set_seq                    bigint  NOT NULL,
    byte_offset                bigint  NOT NULL,
    pharmacy                   text COLLATE "C" NOT NULL,
    provider_id                text    NOT NULL,
    pbm                        text    NOT NULL,
    claim_id                   text    NOT NULL,
    rx_number                  text COLLATE "C" NOT NULL,
    fill_number                bigint,
    date_of_service            date,
    status                     text    NOT NULL,
    billed                     bigint  NOT NULL,
    paid                       bigint  NOT NULL,
    patient_responsibility     bigint,
    payer_claim_control_number text,
    ndc                        text,
    adjustments                text    NOT NULL,
    dir_amount                 bigint  NOT NULL,
    trace_number               text,
    payment_date               date,
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX ledger_claim_payments_key
    ON ledger_claim_payments (pharmacy, rx_number, file_id, seq);
CREATE INDEX ledger_claim_payments_paid ON ledger_claim_payments (pharmacy, payment_date);

CREATE TABLE ledger_service_lines (
    file_id           bigint  NOT NULL,
    claim_seq         bigint  NOT NULL,
    line              bigint  NOT NULL,
    product_qualifier text    NOT NULL,
    product_id        text    NOT NULL,
    service_date      date,
    billed            bigint  NOT NULL,
    paid              bigint  NOT NULL,
    units             text,
    adjustments       text    NOT NULL,
    PRIMARY KEY (file_id, claim_seq, line)
);

CREATE TABLE ledger_provider_adjustments (
    file_id            bigint  NOT NULL,
    seq                bigint  NOT NULL,
    set_seq            bigint  NOT NULL,
    pharmacy           text COLLATE "C" NOT NULL,
    provider_id        text    NOT NULL,
    pbm                text    NOT NULL,
    fiscal_period_date date,
    reason             text    NOT NULL,
    reference          text,
    amount             bigint  NOT NULL,
    trace_number       text,
    payment_date       date,
    PRIMARY KEY (file_id, seq)
);
CREATE INDEX ledger_provider_adjustments_paid
    ON ledger_provider_adjustments (pharmacy, payment_date);

-- Scheduled reconciliation reports already queued: one per pharmacy, period and format.
CREATE TABLE ledger_reports (
    pharmacy     text        NOT NULL,
    period_start date        NOT NULL,
    period_end   date        NOT NULL,
    format       text        NOT NULL,
    delivery_id  bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pharmacy, period_start, period_end, format)
);
