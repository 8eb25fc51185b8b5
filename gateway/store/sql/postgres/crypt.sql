-- The payload envelopes (gateway/store/crypt/envelopes.py).

-- name: envelope
SELECT blob_id, key_id, wrapped_key FROM payload_envelopes WHERE sha256 = %(sha256)s;

-- name: put_envelope
INSERT INTO payload_envelopes (sha256, blob_id, key_id, wrapped_key, sealed_at)
VALUES (%(sha256)s, %(blob_id)s, %(key_id)s, %(wrapped_key)s, now())
ON CONFLICT (sha256) DO UPDATE SET blob_id = excluded.blob_id, key_id = excluded.key_id,
    wrapped_key = excluded.wrapped_key, sealed_at = excluded.sealed_at;

-- name: envelopes_to_rewrap
SELECT sha256, blob_id, key_id, wrapped_key FROM payload_envelopes
 WHERE key_id <> %(key_id)s AND sha256 > %(after)s ORDER BY sha256 LIMIT %(limit)s;

-- name: rewrap
UPDATE payload_envelopes SET key_id = %(key_id)s, wrapped_key = %(wrapped_key)s
 WHERE sha256 = %(sha256)s AND key_id = %(old_key_id)s;

-- name: keys_in_use
SELECT key_id, count(*) AS payloads FROM payload_envelopes GROUP BY key_id ORDER BY key_id;

-- name: drop_envelope
DELETE FROM payload_envelopes WHERE sha256 = %(sha256)s;

-- name: any_envelope
SELECT 1 AS sealed FROM payload_envelopes LIMIT 1;
