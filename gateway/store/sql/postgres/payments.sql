-- Statements of the duplicate-payment registry (gateway/store/payment_keys.py), PostgreSQL.

-- name: claim_payment_key
-- The key's owner: this set when it is the first to carry it, else the earlier one (the
-- no-op update makes RETURNING give the existing row, under the row lock: two daemons
-- claiming at once get the same owner).
INSERT INTO payment_keys (partner, kind, value, file_id, owner_set, first_seen)
VALUES (%(partner)s, %(kind)s, %(value)s, %(file_id)s, %(owner_set)s, now())
ON CONFLICT (partner, kind, value) DO UPDATE SET partner = payment_keys.partner
RETURNING file_id, owner_set;

-- name: forget_payment_keys
-- A file that was quarantined after routing gives its keys up: its sets were never sent.
DELETE FROM payment_keys WHERE file_id = %(file_id)s RETURNING file_id;
