-- The claims ledger's statements, PostgreSQL. The names are those of sql/sqlite/ledger.sql;
-- gateway/reconcile/ledger.py runs either file's. copy_* are COPY FROM STDIN (batched ingest),
-- in the column order of gateway/reconcile/facts.py.

-- name: ledger_file_state
SELECT state FROM ledger_files WHERE file_id = %(file_id)s;

-- name: begin_ledger_file
-- A new ingest, or a redo after a crash: the caller has deleted the file's partial rows.
INSERT INTO ledger_files (file_id, kind, state, rows, started_at)
VALUES (%(file_id)s, %(kind)s, 'ingesting', 0, now())
ON CONFLICT (file_id) DO UPDATE SET state = 'ingesting', rows = 0, started_at = now();

-- name: complete_ledger_file
UPDATE ledger_files SET state = 'complete', rows = %(rows)s, completed_at = now()
 WHERE file_id = %(file_id)s;

-- name: delete_requests
DELETE FROM ledger_requests WHERE file_id = %(file_id)s;

-- name: delete_responses
DELETE FROM ledger_responses WHERE file_id = %(file_id)s;

-- name: delete_payments
DELETE FROM ledger_payments WHERE file_id = %(file_id)s;

-- name: delete_claim_payments
DELETE FROM ledger_claim_payments WHERE file_id = %(file_id)s;

-- name: delete_service_lines
DELETE FROM ledger_service_lines WHERE file_id = %(file_id)s;

-- name: delete_provider_adjustments
DELETE FROM ledger_provider_adjustments WHERE file_id = %(file_id)s;

-- name: copy_requests
COPY ledger_requests (
    file_id, seq, byte_offset, transaction_code, pharmacy, service_provider_id, pbm, bin, pcn,
    group_id, rx_number, fill_number, date_of_service, ndc, quantity, days_supply,
    ingredient_cost, dispensing_fee, gross_amount_due, usual_and_customary, patient_paid,
    reference, txn)
FROM STDIN;

-- name: copy_responses
COPY ledger_responses (
    file_id, seq, byte_offset, transaction_code, pharmacy, service_provider_id, pbm, rx_number,
    date_of_service, reference, txn, header_status, status, authorization_number, reject_codes,
    total_paid, patient_pay, ingredient_cost_paid, dispensing_fee_paid)
FROM STDIN;

-- name: copy_payments
COPY ledger_payments (
    file_id, set_seq, control_number, pbm, payer_name, payer_id, payee_npi, payee_ncpdp_id,
    payee_tin, trace_number, amount, credit_debit, method, payment_date,
    interchange_control_number)
FROM STDIN;

-- name: copy_claim_payments
COPY ledger_claim_payments (
    file_id, seq, set_seq, byte_offset, pharmacy, provider_id, pbm, claim_id, rx_number,
    fill_number, date_of_service, status, billed, paid, patient_responsibility,
    payer_claim_control_number, ndc, adjustments, dir_amount, trace_number, payment_date)
FROM STDIN;

-- name: copy_service_lines
COPY ledger_service_lines (
    file_id, claim_seq, line, product_qualifier, product_id, service_date, billed, paid, units,
    adjustments)
FROM STDIN;

-- name: copy_provider_adjustments
COPY ledger_provider_adjustments (
    file_id, seq, set_seq, pharmacy, provider_id, pbm, fiscal_period_date, reason, reference,
    amount, trace_number, payment_date)
FROM STDIN;

-- name: stream_requests
-- The claims of a period, in the merge order (the index ledger_requests_key).
SELECT * FROM ledger_requests
 WHERE (%(pharmacy)s::text IS NULL OR pharmacy = %(pharmacy)s) AND (%(pbm)s::text IS NULL OR pbm = %(pbm)s)
   AND date_of_service BETWEEN %(start)s::date AND %(end)s::date
   AND file_id IN (SELECT file_id FROM ledger_files WHERE state = 'complete')
 ORDER BY pharmacy, rx_number, file_id, seq;

-- name: stream_responses
-- Responses carry no BIN: the PBM filter applies to the claim they answer, in the merge.
SELECT * FROM ledger_responses
 WHERE (%(pharmacy)s::text IS NULL OR pharmacy = %(pharmacy)s)
   AND date_of_service BETWEEN %(start)s::date AND %(end)s::date
   AND file_id IN (SELECT file_id FROM ledger_files WHERE state = 'complete')
 ORDER BY pharmacy, rx_number, file_id, seq;

-- name: stream_claim_payments
-- Payments of the claims of a period (by date of service), made by the as-of date.
SELECT * FROM ledger_claim_payments
 WHERE (%(pharmacy)s::text IS NULL OR pharmacy = %(pharmacy)s) AND (%(pbm)s::text IS NULL OR pbm = %(pbm)s)
   AND coalesce(date_of_service, payment_date) BETWEEN %(start)s::date AND %(end)s::date
   AND (payment_date IS NULL OR payment_date <= %(as_of)s::date)
   AND file_id IN (SELECT file_id FROM ledger_files WHERE state = 'complete')
 ORDER BY pharmacy, rx_number, file_id, seq;

-- name: payment_shares
-- Each payment of the period as the pharmacy's share: its claims' CLP04 (its PLBs apart).
SELECT pharmacy, pbm, file_id, set_seq, trace_number, payment_date,
       count(*) AS claims, sum(paid) AS paid, sum(dir_amount) AS dir_amount
  FROM ledger_claim_payments
 WHERE (%(pharmacy)s::text IS NULL OR pharmacy = %(pharmacy)s) AND (%(pbm)s::text IS NULL OR pbm = %(pbm)s)
   AND payment_date BETWEEN %(start)s::date AND %(end)s::date AND payment_date <= %(as_of)s::date
   AND file_id IN (SELECT file_id FROM ledger_files WHERE state = 'complete')
 GROUP BY pharmacy, pbm, file_id, set_seq, trace_number, payment_date
 ORDER BY pharmacy, payment_date, file_id, set_seq;

-- name: stream_provider_adjustments
SELECT * FROM ledger_provider_adjustments
 WHERE (%(pharmacy)s::text IS NULL OR pharmacy = %(pharmacy)s) AND (%(pbm)s::text IS NULL OR pbm = %(pbm)s)
   AND payment_date BETWEEN %(start)s::date AND %(end)s::date AND payment_date <= %(as_of)s::date
   AND file_id IN (SELECT file_id FROM ledger_files WHERE state = 'complete')
 ORDER BY pharmacy, payment_date, file_id, seq;

-- name: requests_of_rx
-- The audit pack: everything about one prescription, whatever the date.
SELECT * FROM ledger_requests
 WHERE pharmacy = %(pharmacy)s AND rx_number = %(rx_number)s AND file_id IN (SELECT file_id FROM ledger_files WHERE state = 'complete')
 ORDER BY file_id, seq;

-- name: responses_of_rx
SELECT * FROM ledger_responses
 WHERE pharmacy = %(pharmacy)s AND rx_number = %(rx_number)s AND file_id IN (SELECT file_id FROM ledger_files WHERE state = 'complete')
 ORDER BY file_id, seq;

-- name: claim_payments_of_rx
SELECT * FROM ledger_claim_payments
 WHERE pharmacy = %(pharmacy)s AND rx_number = %(rx_number)s
   AND (payment_date IS NULL OR payment_date <= %(as_of)s::date) AND file_id IN (SELECT file_id FROM ledger_files WHERE state = 'complete')
 ORDER BY file_id, seq;

-- name: lines_of_claim
SELECT * FROM ledger_service_lines
 WHERE file_id = %(file_id)s AND claim_seq = %(claim_seq)s
 ORDER BY line;

-- name: file_names
-- The received files the ledger's rows came from (names and times, for the audit pack).
SELECT id, partner, original_name, received_at FROM files
 WHERE id IN (SELECT file_id FROM ledger_files WHERE state = 'complete');

-- name: reports_of_period
SELECT pharmacy, format FROM ledger_reports
 WHERE period_start = %(start)s::date AND period_end = %(end)s::date;

-- name: report_queued
INSERT INTO ledger_reports (pharmacy, period_start, period_end, format, delivery_id)
VALUES (%(pharmacy)s, %(start)s, %(end)s, %(format)s, %(delivery_id)s)
ON CONFLICT DO NOTHING;
