-- The message store, shared back end (several daemons on one PostgreSQL database).

CREATE TABLE files (
    id            bigserial   PRIMARY KEY,
    partner       text        NOT NULL,
    remote_path   text        NOT NULL,
    original_name text        NOT NULL,
    size          bigint      NOT NULL,
    mtime         timestamptz,
    sha256        text        NOT NULL,  -- also the key of the raw payload
    received_at   timestamptz NOT NULL,
    status        text        NOT NULL
        CHECK (status IN ('received', 'duplicate', 'parsed', 'routed', 'quarantined')),
    error         text,
    duplicate_of  bigint      REFERENCES files (id)
);
-- The idempotent receiver: one first copy per (partner, content); later copies are duplicates.
CREATE UNIQUE INDEX files_first_copy ON files (partner, sha256) WHERE duplicate_of IS NULL;
CREATE INDEX files_status ON files (status, id);

-- Payloads live in the database so that every daemon reads them, they commit in the same
-- transaction as the row that names them, and the database's backups and replicas cover them.
-- Chunks of 1 MiB keep memory bounded on the way in and out.
CREATE TABLE payloads (
    sha256    text        PRIMARY KEY,
    size      bigint      NOT NULL,
    stored_at timestamptz NOT NULL
);
CREATE TABLE payload_chunks (
    sha256 text    NOT NULL REFERENCES payloads (sha256),
    seq    integer NOT NULL,
    data   bytea   NOT NULL,
    PRIMARY KEY (sha256, seq)
);

CREATE TABLE documents (
    id             bigserial   PRIMARY KEY,
    file_id        bigint      NOT NULL REFERENCES files (id),
    ordinal        integer     NOT NULL,
    kind           text        NOT NULL,
    routing_keys   jsonb       NOT NULL,  -- e.g. {"payee_npi": "1234567893"}
    source_start   bigint,
    source_end     bigint,
    payload_sha256 text,
    created_at     timestamptz NOT NULL,
    UNIQUE (file_id, ordinal)
);

-- The routing keys again, one row each, so "everything for pharmacy X" is an index lookup.
CREATE TABLE document_keys (
    document_id bigint NOT NULL REFERENCES documents (id),
    key         text   NOT NULL,
    value       text   NOT NULL,
    PRIMARY KEY (document_id, key)
);
CREATE INDEX document_keys_value ON document_keys (value);

CREATE TABLE deliveries (
    id              bigserial   PRIMARY KEY,
    document_id     bigint      NOT NULL REFERENCES documents (id),
    destination     text        NOT NULL,
    format          text        NOT NULL,
    idempotency_key text        NOT NULL UNIQUE,
    output_name     text        NOT NULL,
    payload_sha256  text,
    state           text        NOT NULL
        CHECK (state IN ('pending', 'leased', 'delivered', 'failed', 'dead', 'held')),
    attempts        integer     NOT NULL DEFAULT 0,
    -- When a worker may take it next: the next attempt (pending, failed) or the lease
    -- expiry (leased). NULL when nobody should (delivered, dead, held).
    due_at          timestamptz,
    enqueued_at     timestamptz NOT NULL,  -- the retry policy's age clock; reset by retry/replay
    created_at      timestamptz NOT NULL,
    lease_token     text,
    leased_by       text,
    last_error      text,
    output_sha256   text,
    location        text,
    delivered_at    timestamptz
);
CREATE INDEX deliveries_due ON deliveries (due_at, id)
    WHERE state IN ('pending', 'failed', 'leased');
CREATE INDEX deliveries_state_destination ON deliveries (state, destination);
CREATE INDEX deliveries_document ON deliveries (document_id);
-- Every claim and ack rewrites an indexed column: vacuum early so dead index entries do not
-- pile up and slow the claim (see shared/reference/transport-and-queue.md).
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02,
                            autovacuum_analyze_scale_factor = 0.02);

CREATE TABLE events (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    entity_type text        NOT NULL,
    entity_id   text        NOT NULL,
    action      text        NOT NULL,
    reason      text        NOT NULL DEFAULT ''
);
CREATE INDEX events_entity ON events (entity_type, entity_id, id);
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END;
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TABLE poll_leases (
    partner    text        PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
