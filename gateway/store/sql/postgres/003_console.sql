-- The operator console (issue 12): accounts, their sessions, paused partners, and the indexes
-- the console's searches use.

CREATE TABLE users (
    name          text        PRIMARY KEY,
    password_hash text        NOT NULL,  -- argon2id, never the password
    role          text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    disabled      boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- A signed-in browser. The cookie carries the token; only its SHA-256 is kept here, so a
-- copy of the database opens no session.
CREATE TABLE console_sessions (
    token_sha256 text        PRIMARY KEY,
    user_name    text        NOT NULL REFERENCES users (name),
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    seen_at      timestamptz NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_name);

-- An operator paused this partner's polling; every daemon skips it until resumed.
CREATE TABLE partner_pauses (
    partner   text        PRIMARY KEY,
    paused_by text        NOT NULL,
    paused_at timestamptz NOT NULL,
    reason    text        NOT NULL DEFAULT ''
);

-- "Find a pharmacy's remittance by TRN02 / amount / pharmacy id" and "each pharmacy's last
-- remittance": lookups by (key, value).
CREATE INDEX document_keys_key_value ON document_keys (key, value, document_id);
CREATE INDEX events_action ON events (action, id);
CREATE INDEX files_received ON files (received_at, id);
CREATE INDEX deliveries_created ON deliveries (created_at, id);
