-- Encryption at rest (issue 13): each sealed payload's data key, wrapped under the key-encryption
-- key named by key_id. A payload without a row here is plaintext (kept before encryption was on,
-- or with [encryption] payloads = "off"). blob_id is the random id in the sealed payload's header.
-- Rotation rewrites key_id and wrapped_key only; the payload_chunks stay as they are.
CREATE TABLE payload_envelopes (
    sha256      text        PRIMARY KEY,
    blob_id     bytea       NOT NULL,
    key_id      text        NOT NULL,
    wrapped_key bytea       NOT NULL,
    sealed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payload_envelopes_key ON payload_envelopes (key_id);
