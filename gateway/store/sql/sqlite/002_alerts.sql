-- Alerts (issue 12): one row per condition while it lasts, so a restart neither repeats an
-- alert nor forgets one; one notice per (alert, transition, channel), so a channel that is
-- down does not make another send twice; one message row per mail or webhook POST sent,
-- which is what the hourly rate limit counts.

CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    rule        TEXT    NOT NULL,
    entity_type TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('open', 'resolved')),
    summary     TEXT    NOT NULL,  -- ids, counts and codes only: never patient data
    count       INTEGER NOT NULL DEFAULT 1,
    opened_at   REAL    NOT NULL,
    resolved_at REAL
);
-- One open alert per condition, whichever daemon raises it.
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, entity_type, entity_id)
    WHERE state = 'open';

CREATE TABLE alert_messages (
    id       INTEGER PRIMARY KEY,
    channel  TEXT    NOT NULL,
    sent_at  REAL    NOT NULL,
    notices  INTEGER NOT NULL  -- 1, or how many a digest carried
);
CREATE INDEX alert_messages_recent ON alert_messages (channel, sent_at);

CREATE TABLE alert_notices (
    alert_id   INTEGER NOT NULL REFERENCES alerts (id),
    transition TEXT    NOT NULL CHECK (transition IN ('opened', 'resolved')),
    channel    TEXT    NOT NULL,
    due_at     REAL,              -- NULL once sent
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    message_id INTEGER REFERENCES alert_messages (id),
    PRIMARY KEY (alert_id, transition, channel)
);
CREATE INDEX alert_notices_due ON alert_notices (channel, due_at) WHERE message_id IS NULL;

-- The events the rules read, found without scanning every delivery's events.
CREATE INDEX events_alerting ON events (action, entity_type, entity_id, id)
    WHERE action IN ('sla-missed', 'processing-failed', 'unreachable', 'reachable',
                     'reload-refused', 'reloaded', 'started');
