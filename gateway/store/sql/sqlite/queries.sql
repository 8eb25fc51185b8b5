-- Statements of the SQLite message store (named parameters; :now is Unix epoch seconds).
-- Every read-then-write runs inside BEGIN IMMEDIATE (see sqlite_connection.py). The names are
-- those of sql/postgres/queries.sql: sqlstore.py runs either file's statements.

-- name: insert_file
-- The first copy of these bytes from this partner; nothing when it is a duplicate.
INSERT INTO files (partner, remote_path, original_name, size, mtime, sha256, received_at,
                   status)
VALUES (:partner, :remote_path, :original_name, :size, :mtime, :sha256, :now, 'received')
ON CONFLICT (partner, sha256) WHERE duplicate_of IS NULL DO NOTHING
RETURNING *;

-- name: insert_duplicate
INSERT INTO files (partner, remote_path, original_name, size, mtime, sha256, received_at,
                   status, duplicate_of)
SELECT :partner, :remote_path, :original_name, :size, :mtime, :sha256, :now,
       'duplicate', first_copy.id
  FROM files first_copy
 WHERE first_copy.partner = :partner AND first_copy.sha256 = :sha256
   AND first_copy.duplicate_of IS NULL
RETURNING *;

-- name: insert_generated_file
-- A document the gateway made itself (a reconciliation report): kept like a received file
-- and recorded routed at once, so the pipeline never parses it. Nothing when the same bytes
-- were recorded before.
INSERT INTO files (partner, remote_path, original_name, size, mtime, sha256, received_at,
                   status)
VALUES (:partner, :remote_path, :original_name, :size, NULL, :sha256, :now,
        'routed')
ON CONFLICT (partner, sha256) WHERE duplicate_of IS NULL DO NOTHING
RETURNING *;

-- name: first_copy
SELECT * FROM files
 WHERE partner = :partner AND sha256 = :sha256 AND duplicate_of IS NULL;

-- name: get_file
SELECT * FROM files WHERE id = :id;

-- name: list_files
SELECT * FROM files
 WHERE (:status IS NULL OR status = :status) AND (:partner IS NULL OR partner = :partner)
 ORDER BY id DESC LIMIT :limit;

-- name: files_from_path
SELECT * FROM files WHERE partner = :partner AND remote_path = :remote_path
 ORDER BY id DESC LIMIT 5;

-- name: set_file_status
UPDATE files SET status = :status, error = :error WHERE id = :id RETURNING *;

-- name: insert_document
INSERT INTO documents (file_id, ordinal, kind, routing_keys, source_start, source_end,
                       payload_sha256, created_at)
VALUES (:file_id, :ordinal, :kind, :routing_keys, :source_start, :source_end,
        :payload_sha256, :now)
ON CONFLICT (file_id, ordinal) DO NOTHING
RETURNING *;

-- name: insert_document_key
INSERT INTO document_keys (document_id, key, value) VALUES (:document_id, :key, :value);

-- name: document_by_ordinal
SELECT * FROM documents WHERE file_id = :file_id AND ordinal = :ordinal;

-- name: get_document
SELECT * FROM documents WHERE id = :id;

-- name: documents_of_file
SELECT * FROM documents WHERE file_id = :file_id ORDER BY ordinal;

-- name: documents_with_key
SELECT d.* FROM documents d
 WHERE d.id IN (SELECT document_id FROM document_keys WHERE value = :value)
 ORDER BY d.id DESC LIMIT :limit;

-- name: insert_delivery
INSERT INTO deliveries (document_id, destination, format, idempotency_key, output_name,
                        payload_sha256, state, due_at, enqueued_at, created_at)
VALUES (:document_id, :destination, :format, :idempotency_key, :output_name,
        :payload_sha256, :state, CASE WHEN :held THEN NULL ELSE :now END, :now, :now)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING *;

-- name: delivery_by_key
SELECT * FROM deliveries WHERE idempotency_key = :idempotency_key;

-- name: get_delivery
SELECT * FROM deliveries WHERE id = :id;

-- name: list_deliveries
SELECT * FROM deliveries
 WHERE (:state IS NULL OR state = :state)
   AND (:destination IS NULL OR destination = :destination)
 ORDER BY id LIMIT :limit;

-- name: deliveries_of_file
SELECT * FROM deliveries
 WHERE document_id IN (SELECT id FROM documents WHERE file_id = :file_id) ORDER BY id;

-- name: queue_depth
SELECT state, destination, count(*) AS count, min(enqueued_at) AS oldest_enqueued_at
  FROM deliveries GROUP BY state, destination ORDER BY destination, state;

-- name: next_due
-- INDEXED BY: without statistics the planner prefers the (state, destination) index and sorts
-- every waiting row on each claim; the partial due-index makes a claim one index probe.
SELECT id, state, leased_by FROM deliveries INDEXED BY deliveries_due
 WHERE state IN ('pending', 'failed', 'leased') AND due_at <= :now
 ORDER BY due_at, id LIMIT 1;

-- name: lease
UPDATE deliveries
   SET state = 'leased', lease_token = :token, leased_by = :worker, due_at = :now + :lease,
       attempts = attempts + 1
 WHERE id = :id
RETURNING *;

-- name: heartbeat
UPDATE deliveries SET due_at = :now + :lease
 WHERE id = :id AND state = 'leased' AND lease_token = :token
RETURNING id;

-- name: ack
UPDATE deliveries
   SET state = 'delivered', due_at = NULL, lease_token = NULL, last_error = NULL,
       output_sha256 = :output_sha256, location = :location, delivered_at = :now
 WHERE id = :id AND state = 'leased' AND lease_token = :token
RETURNING *;

-- name: fail
-- A NULL :retry_in (dead) makes due_at NULL: nobody takes it again.
UPDATE deliveries
   SET state = :state, due_at = :now + :retry_in, lease_token = NULL, last_error = :error
 WHERE id = :id AND state = 'leased' AND lease_token = :token
RETURNING *;

-- name: requeue
-- Back to pending now with a fresh attempt count and age clock (operator retry, replay),
-- to a corrected destination when one is given.
UPDATE deliveries
   SET state = 'pending', destination = coalesce(:destination, destination),
       due_at = :now, enqueued_at = :now, attempts = 0,
       lease_token = NULL, last_error = NULL
 WHERE id = :id
RETURNING *;

-- name: dead_ids
SELECT id FROM deliveries
 WHERE state = 'dead' AND (:destination IS NULL OR destination = :destination) ORDER BY id;

-- name: replayable_ids
SELECT id FROM deliveries
 WHERE document_id IN (SELECT id FROM documents WHERE file_id = :file_id)
   AND state IN ('pending', 'delivered', 'failed', 'dead')
 ORDER BY id;

-- name: lock_delivery
-- BEGIN IMMEDIATE already holds the database's write lock: no row lock to take.
SELECT * FROM deliveries WHERE id = :id;

-- name: release
UPDATE deliveries
   SET state = 'pending', destination = coalesce(:destination, destination), due_at = :now,
       enqueued_at = :now, last_error = NULL
 WHERE id = :id AND state = 'held'
RETURNING *;

-- name: insert_event
INSERT INTO events (at, actor, entity_type, entity_id, action, reason)
VALUES (:now, :actor, :entity_type, :entity_id, :action, :reason)
RETURNING *;

-- name: events
SELECT * FROM events WHERE entity_type = :entity_type AND entity_id = :entity_id ORDER BY id;

-- name: acquire_poll_lease
INSERT INTO poll_leases (partner, holder, expires_at) VALUES (:partner, :holder, :now + :seconds)
ON CONFLICT (partner) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
 WHERE poll_leases.holder = excluded.holder OR poll_leases.expires_at <= :now
RETURNING holder;

-- name: renew_poll_lease
UPDATE poll_leases SET expires_at = :now + :seconds
 WHERE partner = :partner AND holder = :holder
RETURNING holder;

-- name: release_poll_lease
DELETE FROM poll_leases WHERE partner = :partner AND holder = :holder
RETURNING holder;
