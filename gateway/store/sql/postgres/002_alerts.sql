-- Alerts (issue 12): one row per condition while it lasts, so a restart neither repeats an
-- alert nor forgets one; one notice per (alert, transition, channel), so a channel that is
-- down does not make another send twice; one message row per mail or webhook POST sent,
-- which is what the hourly rate limit counts.

CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    rule        text    NOT NULL,
    entity_type text    NOT NULL,
    entity_id   text    NOT NULL,
    state       text    NOT NULL CHECK (state IN ('open', 'resolved')),
    summary     text    NOT NULL,  -- ids, counts and codes only: never patient data
    count       integer NOT NULL DEFAULT 1,
    opened_at   timestamptz NOT NULL,
    resolved_at timestamptz
);
-- One open alert per condition, whichever daemon raises it.
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, entity_type, entity_id)
    WHERE state = 'open';

CREATE TABLE alert_messages (
    id       bigserial PRIMARY KEY,
    channel  text    NOT NULL,
    sent_at  timestamptz NOT NULL,
    notices  integer NOT NULL  -- 1, or how many a digest carried
);
CREATE INDEX alert_messages_recent ON alert_messages (channel, sent_at);

CREATE TABLE alert_notices (
    alert_id   bigint  NOT NULL REFERENCES alerts (id),
    transition text    NOT NULL CHECK (transition IN ('opened', 'resolved')),
    channel    text    NOT NULL,
    due_at     timestamptz,  -- NULL once sent
    attempts   integer NOT NULL DEFAULT 0,
    last_error text,
    message_id bigint  REFERENCES alert_messages (id),
    PRIMARY KEY (alert_id, transition, channel)
);
CREATE INDEX alert_notices_due ON alert_notices (channel, due_at) WHERE message_id IS NULL;

-- The events the rules read, found without scanning every delivery's events.
CREATE INDEX events_alerting ON events (action, entity_type, entity_id, id)
    WHERE action IN ('sla-missed', 'processing-failed', 'unreachable', 'reachable',
                     'reload-refused', 'reloaded', 'started');
