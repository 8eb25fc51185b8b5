-- Encryption at rest (issue 13): each sealed payload's data key, wrapped under the key-encryption
-- key named by key_id. A payload without a row here is plaintext (kept before encryption was on,
-- or with [encryption] payloads = "off"). blob_id is the random id in the payload file's header:
-- the file and its envelope must agree. Rotation rewrites key_id and wrapped_key only.
CREATE TABLE payload_envelopes (
    sha256      TEXT PRIMARY KEY,
    blob_id     BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    wrapped_key BLOB NOT NULL,
    sealed_at   REAL NOT NULL
);
CREATE INDEX payload_envelopes_key ON payload_envelopes (key_id);
