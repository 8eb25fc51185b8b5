-- Statements of the PostgreSQL message store (psycopg named parameters; times from now()).
-- The queue statements (claim, heartbeat, ack, fail) are each one autocommit statement.
-- The names are those of sql/sqlite/queries.sql: sqlstore.py runs either file's statements.

-- name: payload_size
SELECT size FROM payloads WHERE sha256 = %(sha256)s;

-- name: insert_payloads
-- The rows of several payloads (postgres_payloads.py); the keys that were not kept yet.
INSERT INTO payloads (sha256, size, stored_at)
SELECT p.sha256, p.size, now() FROM unnest(%(sha256)s::text[], %(size)s::bigint[]) AS p(sha256, size)
ON CONFLICT (sha256) DO NOTHING
RETURNING sha256;

-- name: insert_payload_chunk
INSERT INTO payload_chunks (sha256, seq, data) VALUES (%(sha256)s, %(seq)s, %(data)s);

-- name: payload_chunk
SELECT data FROM payload_chunks WHERE sha256 = %(sha256)s AND seq = %(seq)s;

-- name: insert_file
-- The first copy of these bytes from this partner; nothing when it is a duplicate.
INSERT INTO files (partner, remote_path, original_name, size, mtime, sha256, received_at,
                   status)
VALUES (%(partner)s, %(remote_path)s, %(original_name)s, %(size)s, to_timestamp(%(mtime)s::float8),
        %(sha256)s, now(), 'received')
ON CONFLICT (partner, sha256) WHERE duplicate_of IS NULL DO NOTHING
RETURNING *;

-- name: insert_duplicate
INSERT INTO files (partner, remote_path, original_name, size, mtime, sha256, received_at,
                   status, duplicate_of)
SELECT %(partner)s, %(remote_path)s, %(original_name)s, %(size)s, to_timestamp(%(mtime)s::float8),
       %(sha256)s, now(), 'duplicate', first.id
  FROM files first
 WHERE first.partner = %(partner)s AND first.sha256 = %(sha256)s AND first.duplicate_of IS NULL
RETURNING *;

-- name: insert_generated_file
-- A document the gateway made itself (a reconciliation report): kept like a received file
-- and recorded routed at once, so the pipeline never parses it. Nothing when the same bytes
-- were recorded before.
INSERT INTO files (partner, remote_path, original_name, size, mtime, sha256, received_at,
                   status)
VALUES (%(partner)s, %(remote_path)s, %(original_name)s, %(size)s, NULL, %(sha256)s, now(),
        'routed')
ON CONFLICT (partner, sha256) WHERE duplicate_of IS NULL DO NOTHING
RETURNING *;

-- name: first_copy
SELECT * FROM files
 WHERE partner = %(partner)s AND sha256 = %(sha256)s AND duplicate_of IS NULL;

-- name: get_file
SELECT * FROM files WHERE id = %(id)s;

-- name: list_files
SELECT * FROM files
 WHERE (%(status)s::text IS NULL OR status = %(status)s)
   AND (%(partner)s::text IS NULL OR partner = %(partner)s)
 ORDER BY id DESC LIMIT %(limit)s;

-- name: files_from_path
SELECT * FROM files WHERE partner = %(partner)s AND remote_path = %(remote_path)s
 ORDER BY id DESC LIMIT 5;

-- name: set_file_status
UPDATE files SET status = %(status)s, error = %(error)s WHERE id = %(id)s RETURNING *;

-- name: insert_document
INSERT INTO documents (file_id, ordinal, kind, routing_keys, source_start, source_end,
                       payload_sha256, created_at)
VALUES (%(file_id)s, %(ordinal)s, %(kind)s, %(routing_keys)s::jsonb, %(source_start)s,
        %(source_end)s, %(payload_sha256)s, now())
ON CONFLICT (file_id, ordinal) DO NOTHING
RETURNING *;

-- name: insert_documents
-- Many documents of one file in one statement (the route's parts): their keys are taken from
-- each new row's routing_keys; a document recorded before (a re-run) keeps its first row, read
-- from the snapshot the statement started with (which its own inserts are not part of).
WITH given AS (
    SELECT * FROM jsonb_to_recordset(%(documents)s::jsonb) AS g(
        ordinal integer, kind text, routing_keys jsonb, source_start bigint, source_end bigint,
        payload_sha256 text)
), inserted AS (
    INSERT INTO documents (file_id, ordinal, kind, routing_keys, source_start, source_end,
                           payload_sha256, created_at)
    SELECT %(file_id)s, ordinal, kind, routing_keys, source_start, source_end, payload_sha256,
           now()
      FROM given ORDER BY ordinal
    ON CONFLICT (file_id, ordinal) DO NOTHING
    RETURNING *
), keys AS (
    INSERT INTO document_keys (document_id, key, value)
    SELECT inserted.id, k.key, k.value FROM inserted, jsonb_each_text(inserted.routing_keys) k
)
SELECT * FROM inserted
UNION ALL
SELECT d.* FROM documents d JOIN given g ON g.ordinal = d.ordinal WHERE d.file_id = %(file_id)s;

-- name: insert_document_key
INSERT INTO document_keys (document_id, key, value) VALUES (%(document_id)s, %(key)s, %(value)s);

-- name: document_by_ordinal
SELECT * FROM documents WHERE file_id = %(file_id)s AND ordinal = %(ordinal)s;

-- name: get_document
SELECT * FROM documents WHERE id = %(id)s;

-- name: documents_of_file
SELECT * FROM documents WHERE file_id = %(file_id)s ORDER BY ordinal;

-- name: documents_with_key
SELECT d.* FROM documents d
 WHERE d.id IN (SELECT document_id FROM document_keys WHERE value = %(value)s)
 ORDER BY d.id DESC LIMIT %(limit)s;

-- name: insert_delivery
-- The delivery and its event in one statement; nothing when the idempotency key exists.
WITH inserted AS (
    INSERT INTO deliveries (document_id, destination, format, idempotency_key, output_name,
                            payload_sha256, state, due_at, enqueued_at, created_at)
    VALUES (%(document_id)s, %(destination)s, %(format)s, %(idempotency_key)s,
            %(output_name)s, %(payload_sha256)s, %(state)s,
            CASE WHEN %(held)s THEN NULL ELSE now() END, now(), now())
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING *
), logged AS (
    INSERT INTO events (at, actor, entity_type, entity_id, action, reason)
    SELECT now(), %(actor)s, 'delivery', id::text, %(action)s, %(reason)s
      FROM inserted
)
SELECT * FROM inserted;

-- name: delivery_by_key
SELECT * FROM deliveries WHERE idempotency_key = %(idempotency_key)s;

-- name: get_delivery
SELECT * FROM deliveries WHERE id = %(id)s;

-- name: list_deliveries
SELECT * FROM deliveries
 WHERE (%(state)s::text IS NULL OR state = %(state)s)
   AND (%(destination)s::text IS NULL OR destination = %(destination)s)
 ORDER BY id LIMIT %(limit)s;

-- name: deliveries_of_file
SELECT * FROM deliveries
 WHERE document_id IN (SELECT id FROM documents WHERE file_id = %(file_id)s) ORDER BY id;

-- name: queue_depth
SELECT state, destination, count(*) AS count, min(enqueued_at) AS oldest_enqueued_at
  FROM deliveries GROUP BY state, destination ORDER BY destination, state;

-- name: claim
-- One short statement: acknowledge the worker's last delivery when %(ack_id)s names one (the
-- `ack` statement's update and event, fenced by %(ack_token)s alike), pick the next due row no
-- other worker has locked, lease it, log an event when it takes over an expired lease (see
-- MessageStore.claim), and return it with what sending it reads first — its payload's size,
-- envelope and first chunk (the delivery's own rendering, else its document's) — so a payload
-- of one chunk needs no query of its own. One row always: `acked` (1 when the acknowledgment
-- held the lease, else 0) and the leased row's columns, all NULL when nothing is due.
-- `next` never takes the row acknowledged (a row is updated once per statement), and naming
-- `acked` in its condition runs the acknowledgment before `next` locks any row: the only wait
-- of the statement (on the acknowledged row) comes while it holds no other lock, so two
-- workers' statements never deadlock.
WITH acked AS (
    UPDATE deliveries
       SET state = 'delivered', due_at = NULL, lease_token = NULL, last_error = NULL,
           output_sha256 = %(output_sha256)s, location = %(location)s, delivered_at = now()
     WHERE id = %(ack_id)s AND state = 'leased' AND lease_token = %(ack_token)s
    RETURNING *
), ack_logged AS (
    INSERT INTO events (at, actor, entity_type, entity_id, action, reason)
    SELECT now(), 'worker:' || leased_by, 'delivery', id::text, 'delivered',
           'attempt ' || attempts || ': ' || %(reason)s
      FROM acked
), next AS (
    SELECT id, state AS previous_state, leased_by AS previous_worker
      FROM deliveries
     WHERE state IN ('pending', 'failed', 'leased') AND due_at <= now()
       AND id NOT IN (SELECT id FROM acked)
     ORDER BY due_at, id
     LIMIT 1
       FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE deliveries d
       SET state = 'leased', lease_token = %(token)s, leased_by = %(worker)s,
           due_at = now() + make_interval(secs => %(lease)s::float8), attempts = d.attempts + 1
      FROM next
     WHERE d.id = next.id
    RETURNING d.*, next.previous_state, next.previous_worker
), logged AS (
    INSERT INTO events (at, actor, entity_type, entity_id, action, reason)
    SELECT now(), 'worker:' || %(worker)s, 'delivery', id::text, 'reclaimed',
           'lease of ' || previous_worker || ' expired; attempt ' || attempts
      FROM claimed
     WHERE previous_state = 'leased'
)
SELECT (SELECT count(*) FROM acked) AS acked, c.*, p.sha256 AS payload_key,
       p.size AS payload_size, k.data AS payload_head, e.blob_id, e.key_id, e.wrapped_key
  FROM (VALUES (1)) AS one (always)
  LEFT JOIN claimed c ON true
  LEFT JOIN documents doc ON c.payload_sha256 IS NULL AND doc.id = c.document_id
  LEFT JOIN payloads p ON p.sha256 = coalesce(c.payload_sha256, doc.payload_sha256)
  LEFT JOIN payload_chunks k ON k.sha256 = p.sha256 AND k.seq = 0
  LEFT JOIN payload_envelopes e ON e.sha256 = p.sha256;

-- name: heartbeat
UPDATE deliveries SET due_at = now() + make_interval(secs => %(lease)s::float8)
 WHERE id = %(id)s AND state = 'leased' AND lease_token = %(token)s
RETURNING id;

-- name: ack
WITH acked AS (
    UPDATE deliveries
       SET state = 'delivered', due_at = NULL, lease_token = NULL, last_error = NULL,
           output_sha256 = %(output_sha256)s, location = %(location)s, delivered_at = now()
     WHERE id = %(id)s AND state = 'leased' AND lease_token = %(token)s
    RETURNING *
), logged AS (
    INSERT INTO events (at, actor, entity_type, entity_id, action, reason)
    SELECT now(), 'worker:' || leased_by, 'delivery', id::text, 'delivered',
           'attempt ' || attempts || ': ' || %(reason)s
      FROM acked
)
SELECT * FROM acked;

-- name: fail
WITH failed AS (
    UPDATE deliveries
       SET state = %(state)s, lease_token = NULL, last_error = %(error)s,
           due_at = CASE WHEN %(retry_in)s::float8 IS NULL THEN NULL
                         ELSE now() + make_interval(secs => %(retry_in)s::float8) END
     WHERE id = %(id)s AND state = 'leased' AND lease_token = %(token)s
    RETURNING *
), logged AS (
    INSERT INTO events (at, actor, entity_type, entity_id, action, reason)
    SELECT now(), 'worker:' || leased_by, 'delivery', id::text, state,
           'attempt ' || attempts || ': ' || %(reason)s
      FROM failed
)
SELECT * FROM failed;

-- name: requeue
-- Back to pending now with a fresh attempt count and age clock (operator retry, replay),
-- to a corrected destination when one is given.
UPDATE deliveries
   SET state = 'pending', destination = coalesce(%(destination)s, destination),
       due_at = now(), enqueued_at = now(), attempts = 0,
       lease_token = NULL, last_error = NULL
 WHERE id = %(id)s
RETURNING *;

-- name: dead_ids
SELECT id FROM deliveries
 WHERE state = 'dead' AND (%(destination)s::text IS NULL OR destination = %(destination)s)
 ORDER BY id FOR UPDATE;

-- name: replayable_ids
SELECT id FROM deliveries
 WHERE document_id IN (SELECT id FROM documents WHERE file_id = %(file_id)s)
   AND state IN ('pending', 'delivered', 'failed', 'dead')
 ORDER BY id FOR UPDATE;

-- name: lock_delivery
SELECT * FROM deliveries WHERE id = %(id)s FOR UPDATE;

-- name: release
UPDATE deliveries
   SET state = 'pending', destination = coalesce(%(destination)s, destination), due_at = now(),
       enqueued_at = now(), last_error = NULL
 WHERE id = %(id)s AND state = 'held'
RETURNING *;

-- name: insert_event
INSERT INTO events (at, actor, entity_type, entity_id, action, reason)
VALUES (now(), %(actor)s, %(entity_type)s, %(entity_id)s, %(action)s, %(reason)s)
RETURNING *;

-- name: events
SELECT * FROM events
 WHERE entity_type = %(entity_type)s AND entity_id = %(entity_id)s ORDER BY id;

-- name: acquire_poll_lease
INSERT INTO poll_leases (partner, holder, expires_at)
VALUES (%(partner)s, %(holder)s, now() + make_interval(secs => %(seconds)s::float8))
ON CONFLICT (partner) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
 WHERE poll_leases.holder = excluded.holder OR poll_leases.expires_at <= now()
RETURNING holder;

-- name: renew_poll_lease
UPDATE poll_leases SET expires_at = now() + make_interval(secs => %(seconds)s::float8)
 WHERE partner = %(partner)s AND holder = %(holder)s
RETURNING holder;

-- name: release_poll_lease
DELETE FROM poll_leases WHERE partner = %(partner)s AND holder = %(holder)s
RETURNING holder;
