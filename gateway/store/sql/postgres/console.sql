-- Statements of the operator console and the operator CLI (PostgreSQL; same names as
-- sql/sqlite/console.sql). Searches page newest first: LIMIT, OFFSET. Times given as Unix
-- seconds (since, until, idle_before, created_before) are converted with to_timestamp.

-- name: search_files
SELECT f.* FROM files f
 WHERE (%(status)s::text IS NULL OR f.status = %(status)s)
   AND (%(partner)s::text IS NULL OR f.partner = %(partner)s)
   AND (%(since)s::float8 IS NULL OR f.received_at >= to_timestamp(%(since)s))
   AND (%(until)s::float8 IS NULL OR f.received_at < to_timestamp(%(until)s))
   AND (%(pharmacy)s::text IS NULL OR f.id IN (
        SELECT d.file_id FROM document_keys k JOIN documents d ON d.id = k.document_id
         WHERE k.key IN ('pharmacy_id', 'npi', 'ncpdp_id', 'tin', 'payee_npi')
           AND k.value = %(pharmacy)s))
   AND (%(trace_number)s::text IS NULL OR f.id IN (
        SELECT d.file_id FROM document_keys k JOIN documents d ON d.id = k.document_id
         WHERE k.key = 'trace_number' AND k.value = %(trace_number)s))
   AND (%(amount)s::text IS NULL OR f.id IN (
        SELECT d.file_id FROM document_keys k JOIN documents d ON d.id = k.document_id
         WHERE k.key = 'amount' AND k.value = %(amount)s))
 ORDER BY f.id DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: search_deliveries
SELECT dl.*, d.file_id, f.partner FROM deliveries dl
  JOIN documents d ON d.id = dl.document_id
  JOIN files f ON f.id = d.file_id
 WHERE (%(state)s::text IS NULL OR dl.state = %(state)s)
   AND (%(destination)s::text IS NULL OR dl.destination = %(destination)s)
   AND (%(partner)s::text IS NULL OR f.partner = %(partner)s)
   AND (%(file_id)s::bigint IS NULL OR d.file_id = %(file_id)s)
   AND (%(since)s::float8 IS NULL OR dl.created_at >= to_timestamp(%(since)s))
   AND (%(until)s::float8 IS NULL OR dl.created_at < to_timestamp(%(until)s))
   AND (%(pharmacy)s::text IS NULL OR dl.destination = %(pharmacy)s OR dl.document_id IN (
        SELECT document_id FROM document_keys
         WHERE key IN ('pharmacy_id', 'npi', 'ncpdp_id', 'tin', 'payee_npi')
           AND value = %(pharmacy)s))
 ORDER BY dl.id DESC LIMIT %(limit)s OFFSET %(offset)s;

-- name: file_counts
SELECT partner, status, count(*) AS count, max(received_at) AS last_received_at FROM files
 WHERE (%(since)s::float8 IS NULL OR received_at >= to_timestamp(%(since)s))
 GROUP BY partner, status ORDER BY partner, status;

-- name: last_documents_by_pharmacy
SELECT k.value AS pharmacy_id, d.*, f.partner, f.received_at FROM (
       SELECT value, max(document_id) AS document_id FROM document_keys
        WHERE key = 'pharmacy_id' GROUP BY value) k
  JOIN documents d ON d.id = k.document_id
  JOIN files f ON f.id = d.file_id;

-- name: recent_alerts
SELECT * FROM events WHERE action IN ('alert', 'alert-resolved')
 ORDER BY id DESC LIMIT %(limit)s;

-- name: resend
-- Back to pending now (delivered ones too: the operator asked), optionally elsewhere.
UPDATE deliveries
   SET state = 'pending', destination = coalesce(%(destination)s, destination), due_at = now(),
       enqueued_at = now(), attempts = 0, lease_token = NULL, last_error = NULL
 WHERE id = %(id)s AND state IN ('pending', 'delivered', 'failed', 'dead')
RETURNING *;

-- name: pause_partner
INSERT INTO partner_pauses (partner, paused_by, paused_at, reason)
VALUES (%(partner)s, %(actor)s, now(), %(reason)s)
ON CONFLICT (partner) DO NOTHING
RETURNING *;

-- name: resume_partner
DELETE FROM partner_pauses WHERE partner = %(partner)s RETURNING *;

-- name: partner_pauses
SELECT * FROM partner_pauses ORDER BY partner;

-- name: insert_user
INSERT INTO users (name, password_hash, role, disabled, created_at, updated_at)
VALUES (%(name)s, %(password_hash)s, %(role)s, false, now(), now())
ON CONFLICT (name) DO NOTHING
RETURNING *;

-- name: get_user
SELECT * FROM users WHERE name = %(name)s;

-- name: list_users
SELECT * FROM users ORDER BY name;

-- name: update_user
UPDATE users
   SET password_hash = coalesce(%(password_hash)s, password_hash),
       role = coalesce(%(role)s, role), disabled = coalesce(%(disabled)s::boolean, disabled),
       updated_at = now()
 WHERE name = %(name)s
RETURNING *;

-- name: insert_session
INSERT INTO console_sessions (token_sha256, user_name, csrf_token, created_at, seen_at)
VALUES (%(token_sha256)s, %(user_name)s, %(csrf_token)s, now(), now())
RETURNING *;

-- name: get_session
SELECT * FROM console_sessions WHERE token_sha256 = %(token_sha256)s;

-- name: touch_session
UPDATE console_sessions SET seen_at = now() WHERE token_sha256 = %(token_sha256)s RETURNING *;

-- name: delete_session
DELETE FROM console_sessions WHERE token_sha256 = %(token_sha256)s RETURNING token_sha256;

-- name: delete_user_sessions
DELETE FROM console_sessions WHERE user_name = %(name)s RETURNING token_sha256;

-- name: delete_stale_sessions
DELETE FROM console_sessions
 WHERE seen_at < to_timestamp(%(idle_before)s) OR created_at < to_timestamp(%(created_before)s)
RETURNING token_sha256;
