-- The message store, embedded back end. Times are Unix epoch seconds (REAL, UTC).

CREATE TABLE files (
    id            INTEGER PRIMARY KEY,
    partner       TEXT    NOT NULL,
    remote_path   TEXT    NOT NULL,
    original_name TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    mtime         REAL,
    sha256        TEXT    NOT NULL,  -- also the key of the raw payload
    received_at   REAL    NOT NULL,
    status        TEXT    NOT NULL
        CHECK (status IN ('received', 'duplicate', 'parsed', 'routed', 'quarantined')),
    error         TEXT,
    duplicate_of  INTEGER REFERENCES files (id)
);
-- The idempotent receiver: one first copy per (partner, content); later copies are duplicates.
CREATE UNIQUE INDEX files_first_copy ON files (partner, sha256) WHERE duplicate_of IS NULL;
CREATE INDEX files_status ON files (status, id);

CREATE TABLE documents (
    id             INTEGER PRIMARY KEY,
    file_id        INTEGER NOT NULL REFERENCES files (id),
    ordinal        INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    routing_keys   TEXT    NOT NULL,  -- JSON object, e.g. {"payee_npi": "1234567893"}
    source_start   INTEGER,
    source_end     INTEGER,
    payload_sha256 TEXT,
    created_at     REAL    NOT NULL,
    UNIQUE (file_id, ordinal)
);

-- The routing keys again, one row each, so "everything for pharmacy X" is an index lookup.
CREATE TABLE document_keys (
    document_id INTEGER NOT NULL REFERENCES documents (id),
    key         TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    PRIMARY KEY (document_id, key)
);
CREATE INDEX document_keys_value ON document_keys (value);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    document_id     INTEGER NOT NULL REFERENCES documents (id),
    destination     TEXT    NOT NULL,
    format          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    output_name     TEXT    NOT NULL,
    payload_sha256  TEXT,
    state           TEXT    NOT NULL
        CHECK (state IN ('pending', 'leased', 'delivered', 'failed', 'dead', 'held')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- When a worker may take it next: the next attempt (pending, failed) or the lease
    -- expiry (leased). NULL when nobody should (delivered, dead, held).
    due_at          REAL,
    enqueued_at     REAL    NOT NULL,  -- the retry policy's age clock; reset by retry/replay
    created_at      REAL    NOT NULL,
    lease_token     TEXT,
    leased_by       TEXT,
    last_error      TEXT,
    output_sha256   TEXT,
    location        TEXT,
    delivered_at    REAL
);
CREATE INDEX deliveries_due ON deliveries (due_at, id)
    WHERE state IN ('pending', 'failed', 'leased');
CREATE INDEX deliveries_state_destination ON deliveries (state, destination);
CREATE INDEX deliveries_document ON deliveries (document_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    at          REAL NOT NULL,
    actor       TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_entity ON events (entity_type, entity_id, id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE poll_leases (
    partner    TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL
);
