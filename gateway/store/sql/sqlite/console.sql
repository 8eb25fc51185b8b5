-- Statements of the operator console and the operator CLI (SQLite; same names as
-- sql/postgres/console.sql). Searches page newest first: LIMIT :limit OFFSET :offset.

-- name: search_files
SELECT f.* FROM files f
 WHERE (:status IS NULL OR f.status = :status)
   AND (:partner IS NULL OR f.partner = :partner)
   AND (:since IS NULL OR f.received_at >= :since)
   AND (:until IS NULL OR f.received_at < :until)
   AND (:pharmacy IS NULL OR f.id IN (
        SELECT d.file_id FROM document_keys k JOIN documents d ON d.id = k.document_id
         WHERE k.key IN ('pharmacy_id', 'npi', 'ncpdp_id', 'tin', 'payee_npi')
           AND k.value = :pharmacy))
   AND (:trace_number IS NULL OR f.id IN (
        SELECT d.file_id FROM document_keys k JOIN documents d ON d.id = k.document_id
         WHERE k.key = 'trace_number' AND k.value = :trace_number))
   AND (:amount IS NULL OR f.id IN (
        SELECT d.file_id FROM document_keys k JOIN documents d ON d.id = k.document_id
         WHERE k.key = 'amount' AND k.value = :amount))
 ORDER BY f.id DESC LIMIT :limit OFFSET :offset;

-- name: search_deliveries
SELECT dl.*, d.file_id, f.partner FROM deliveries dl
  JOIN documents d ON d.id = dl.document_id
  JOIN files f ON f.id = d.file_id
 WHERE (:state IS NULL OR dl.state = :state)
   AND (:destination IS NULL OR dl.destination = :destination)
   AND (:partner IS NULL OR f.partner = :partner)
   AND (:file_id IS NULL OR d.file_id = :file_id)
   AND (:since IS NULL OR dl.created_at >= :since)
   AND (:until IS NULL OR dl.created_at < :until)
   AND (:pharmacy IS NULL OR dl.destination = :pharmacy OR dl.document_id IN (
        SELECT document_id FROM document_keys
         WHERE key IN ('pharmacy_id', 'npi', 'ncpdp_id', 'tin', 'payee_npi')
           AND value = :pharmacy))
 ORDER BY dl.id DESC LIMIT :limit OFFSET :offset;

-- name: file_counts
SELECT partner, status, count(*) AS count, max(received_at) AS last_received_at FROM files
 WHERE (:since IS NULL OR received_at >= :since)
 GROUP BY partner, status ORDER BY partner, status;

-- name: last_documents_by_pharmacy
SELECT k.value AS pharmacy_id, d.*, f.partner, f.received_at FROM (
       SELECT value, max(document_id) AS document_id FROM document_keys
        WHERE key = 'pharmacy_id' GROUP BY value) k
  JOIN documents d ON d.id = k.document_id
  JOIN files f ON f.id = d.file_id;

-- name: recent_alerts
SELECT * FROM events WHERE action IN ('alert', 'alert-resolved') ORDER BY id DESC LIMIT :limit;

-- name: resend
-- Back to pending now (delivered ones too: the operator asked), optionally elsewhere.
UPDATE deliveries
   SET state = 'pending', destination = coalesce(:destination, destination), due_at = :now,
       enqueued_at = :now, attempts = 0, lease_token = NULL, last_error = NULL
 WHERE id = :id AND state IN ('pending', 'delivered', 'failed', 'dead')
RETURNING *;

-- name: pause_partner
INSERT INTO partner_pauses (partner, paused_by, paused_at, reason)
VALUES (:partner, :actor, :now, :reason)
ON CONFLICT (partner) DO NOTHING
RETURNING *;

-- name: resume_partner
DELETE FROM partner_pauses WHERE partner = :partner RETURNING *;

-- name: partner_pauses
SELECT * FROM partner_pauses ORDER BY partner;

-- name: insert_user
INSERT INTO users (name, password_hash, role, disabled, created_at, updated_at)
VALUES (:name, :password_hash, :role, 0, :now, :now)
ON CONFLICT (name) DO NOTHING
RETURNING *;

-- name: get_user
SELECT * FROM users WHERE name = :name;

-- name: list_users
SELECT * FROM users ORDER BY name;

-- name: update_user
UPDATE users
   SET password_hash = coalesce(:password_hash, password_hash), role = coalesce(:role, role),
       disabled = coalesce(:disabled, disabled), updated_at = :now
 WHERE name = :name
RETURNING *;

-- name: insert_session
INSERT INTO console_sessions (token_sha256, user_name, csrf_token, created_at, seen_at)
VALUES (:token_sha256, :user_name, :csrf_token, :now, :now)
RETURNING *;

-- name: get_session
SELECT * FROM console_sessions WHERE token_sha256 = :token_sha256;

-- name: touch_session
UPDATE console_sessions SET seen_at = :now WHERE token_sha256 = :token_sha256 RETURNING *;

-- name: delete_session
DELETE FROM console_sessions WHERE token_sha256 = :token_sha256 RETURNING token_sha256;

-- name: delete_user_sessions
DELETE FROM console_sessions WHERE user_name = :name RETURNING token_sha256;

-- name: delete_stale_sessions
DELETE FROM console_sessions WHERE seen_at < :idle_before OR created_at < :created_before
RETURNING token_sha256;
