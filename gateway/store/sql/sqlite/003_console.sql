-- The operator console (issue 12): accounts, their sessions, paused partners, and the indexes
-- the console's searches use. Times are Unix epoch seconds (REAL, UTC).

CREATE TABLE users (
    name          TEXT    PRIMARY KEY,
    password_hash TEXT    NOT NULL,  -- argon2id, never the password
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL    NOT NULL,
    updated_at    REAL    NOT NULL
);

-- A signed-in browser. The cookie carries the token; only its SHA-256 is kept here, so a
-- copy of the database opens no session.
CREATE TABLE console_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL REFERENCES users (name),
    csrf_token   TEXT NOT NULL,
    created_at   REAL NOT NULL,
    seen_at      REAL NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_name);

-- An operator paused this partner's polling; the daemon skips it until resumed.
CREATE TABLE partner_pauses (
    partner   TEXT PRIMARY KEY,
    paused_by TEXT NOT NULL,
    paused_at REAL NOT NULL,
    reason    TEXT NOT NULL DEFAULT ''
);

-- "Find a pharmacy's remittance by TRN02 / amount / pharmacy id" and "each pharmacy's last
-- remittance": lookups by (key, value).
CREATE INDEX document_keys_key_value ON document_keys (key, value, document_id);
CREATE INDEX events_action ON events (action, id);
CREATE INDEX files_received ON files (received_at, id);
CREATE INDEX deliveries_created ON deliveries (created_at, id);
