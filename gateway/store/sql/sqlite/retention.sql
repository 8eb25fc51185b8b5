-- Retention's statements (SQLite; the names are those of sql/postgres/retention.sql):
-- gateway/store/retention.py runs either file's. Times are epoch seconds; ``:cutoff`` is the
-- moment before which the policy lets a thing go.

-- name: payloads_to_prune
-- Payloads every one of whose files settled before the cutoff (content addressing: the same
-- bytes may belong to several files, and then wait for the youngest).
WITH refs AS (
    SELECT id AS file_id, sha256 FROM files
    UNION SELECT file_id, payload_sha256 FROM documents WHERE payload_sha256 IS NOT NULL
    UNION SELECT d.file_id, dl.payload_sha256 FROM deliveries dl
            JOIN documents d ON d.id = dl.document_id WHERE dl.payload_sha256 IS NOT NULL
)
SELECT r.sha256 FROM refs r LEFT JOIN settled_files s ON s.file_id = r.file_id
 WHERE r.sha256 NOT IN (SELECT sha256 FROM pruned_payloads)
 GROUP BY r.sha256
HAVING max(CASE WHEN s.settled_at IS NULL OR s.settled_at >= :cutoff THEN 1 ELSE 0 END) = 0
 ORDER BY r.sha256 LIMIT :limit;

-- name: record_pruned
INSERT INTO pruned_payloads (sha256, size, pruned_at) VALUES (:sha256, :size, :now)
ON CONFLICT (sha256) DO NOTHING;

-- name: pruned_payload
SELECT * FROM pruned_payloads WHERE sha256 = :sha256;

-- name: referenced_payloads
-- The payload files the embedded store must keep (the orphan sweep removes the others).
SELECT sha256 FROM (
    SELECT sha256 FROM files
    UNION SELECT payload_sha256 FROM documents WHERE payload_sha256 IS NOT NULL
    UNION SELECT payload_sha256 FROM deliveries WHERE payload_sha256 IS NOT NULL)
 WHERE sha256 NOT IN (SELECT sha256 FROM pruned_payloads);

-- name: files_to_roll
SELECT file_id, settled_at FROM settled_files
 WHERE settled_at < :cutoff AND file_id NOT IN (SELECT file_id FROM audit_trails)
 ORDER BY file_id LIMIT :limit;

-- name: trail_deliveries
SELECT dl.* FROM deliveries dl JOIN documents d ON d.id = dl.document_id
 WHERE d.file_id = :file_id ORDER BY dl.id;

-- name: trail_events
SELECT * FROM events
 WHERE (entity_type = 'file' AND entity_id = CAST(:file_id AS TEXT))
    OR (entity_type = 'document' AND entity_id IN (
        SELECT CAST(id AS TEXT) FROM documents WHERE file_id = :file_id))
    OR (entity_type = 'delivery' AND entity_id IN (
        SELECT CAST(dl.id AS TEXT) FROM deliveries dl JOIN documents d ON d.id = dl.document_id
         WHERE d.file_id = :file_id))
 ORDER BY id;

-- name: insert_trail
INSERT INTO audit_trails (file_id, settled_at, rolled_at, deliveries, events, trail)
VALUES (:file_id, :settled_at, :now, :deliveries, :events, :trail);

-- name: insert_audit_delivery
INSERT INTO audit_deliveries (delivery_id, file_id) VALUES (:delivery_id, :file_id);

-- name: delete_trail_events
DELETE FROM events
 WHERE (entity_type = 'file' AND entity_id = CAST(:file_id AS TEXT))
    OR (entity_type = 'document' AND entity_id IN (
        SELECT CAST(id AS TEXT) FROM documents WHERE file_id = :file_id))
    OR (entity_type = 'delivery' AND entity_id IN (
        SELECT CAST(dl.id AS TEXT) FROM deliveries dl JOIN documents d ON d.id = dl.document_id
         WHERE d.file_id = :file_id));

-- name: delete_trail_deliveries
DELETE FROM deliveries
 WHERE document_id IN (SELECT id FROM documents WHERE file_id = :file_id);

-- name: get_trail
SELECT * FROM audit_trails WHERE file_id = :file_id;

-- name: trail_of_delivery
SELECT file_id FROM audit_deliveries WHERE delivery_id = :delivery_id;

-- name: files_to_expire
-- Newest first, so a duplicate goes before the first copy it names; a first copy waits for
-- its duplicates.
SELECT s.file_id FROM settled_files s
 WHERE s.settled_at < :cutoff
   AND NOT EXISTS (SELECT 1 FROM files c WHERE c.duplicate_of = s.file_id
                                           AND c.received_at >= :cutoff)
 ORDER BY s.file_id DESC LIMIT :limit;

-- name: expire_audit_deliveries
DELETE FROM audit_deliveries WHERE file_id = :file_id;

-- name: expire_trail
DELETE FROM audit_trails WHERE file_id = :file_id;

-- name: expire_document_keys
DELETE FROM document_keys WHERE document_id IN (SELECT id FROM documents WHERE file_id = :file_id);

-- name: expire_documents
DELETE FROM documents WHERE file_id = :file_id;

-- name: expire_ledger_files
DELETE FROM ledger_files WHERE file_id = :file_id;

-- name: expire_file
DELETE FROM files WHERE id = :file_id;

-- name: stale_events
-- Events about no file (partners, destinations, the daemon, retention itself) past the
-- audit period.
SELECT count(*) AS n FROM events
 WHERE at < :cutoff AND entity_type NOT IN ('file', 'document', 'delivery');

-- name: delete_stale_events
DELETE FROM events WHERE at < :cutoff AND entity_type NOT IN ('file', 'document', 'delivery');

-- name: open_disposal
INSERT INTO event_disposals (at, reason) VALUES (:now, :reason) RETURNING id;

-- name: close_disposal
UPDATE event_disposals SET open = 0, events = :events WHERE id = :id;

-- name: kept_back
-- What the policy would let go but an operator has to look at first: never pruned.
SELECT 'dead deliveries' AS what, count(*) AS n FROM deliveries
 WHERE state = 'dead' AND created_at < :cutoff
UNION ALL
SELECT 'held deliveries', count(*) FROM deliveries WHERE state = 'held' AND created_at < :cutoff
UNION ALL
SELECT 'quarantined files', count(*) FROM files
 WHERE status = 'quarantined' AND received_at < :cutoff;

-- name: dead_letters_kept
SELECT id FROM deliveries WHERE state = 'dead' AND created_at < :cutoff ORDER BY id LIMIT 10;

-- name: drop_payload_envelope
DELETE FROM payload_envelopes WHERE sha256 = :sha256;
