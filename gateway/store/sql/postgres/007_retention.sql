-- Retention (issue 13): raw payloads pruned N days after a file's deliveries all succeeded,
-- delivery rows and events rolled into a compact audit table kept six years (HIPAA
-- 45 CFR 164.316(b)(2)(i)), dead letters never pruned. gateway/lifecycle/ runs it.

-- One row per file whose deliveries and events were rolled up: the file row, its documents
-- and their routing keys stay (searches still find the file); ``trail`` is a JSON object
-- {"deliveries": [...], "events": [...]} with the rolled rows, column for column.
CREATE TABLE audit_trails (
    file_id    bigint      PRIMARY KEY REFERENCES files (id),
    settled_at timestamptz NOT NULL,  -- when the file's last delivery succeeded (or it arrived)
    rolled_at  timestamptz NOT NULL,
    deliveries integer     NOT NULL,
    events     integer     NOT NULL,
    trail      text        NOT NULL
);
CREATE INDEX audit_trails_settled ON audit_trails (settled_at);

-- So that `gateway trace D12` still finds the file of a rolled-up delivery.
CREATE TABLE audit_deliveries (
    delivery_id bigint PRIMARY KEY,
    file_id     bigint NOT NULL REFERENCES audit_trails (file_id)
);
CREATE INDEX audit_deliveries_file ON audit_deliveries (file_id);

-- Payloads removed under the policy: trace and export say "pruned on ..." instead of
-- "missing".
CREATE TABLE pruned_payloads (
    sha256    text        PRIMARY KEY,
    size      bigint      NOT NULL,
    pruned_at timestamptz NOT NULL
);

-- Files done with: routed (or a duplicate) and every delivery delivered. ``settled_at`` is
-- the last delivery's time, which the retention clocks count from.
CREATE VIEW settled_files AS
SELECT f.id AS file_id,
       coalesce(a.settled_at,
                (SELECT max(dl.delivered_at) FROM deliveries dl
                   JOIN documents d ON d.id = dl.document_id WHERE d.file_id = f.id),
                f.received_at) AS settled_at
  FROM files f LEFT JOIN audit_trails a ON a.file_id = f.id
 WHERE f.status IN ('routed', 'duplicate')
   AND NOT EXISTS (SELECT 1 FROM deliveries dl JOIN documents d ON d.id = dl.document_id
                    WHERE d.file_id = f.id AND dl.state <> 'delivered');

-- Events stay append-only, except inside a retention transaction: it opens a disposal row,
-- deletes what the policy says and closes the row before it commits, so no other
-- transaction ever sees one open. The closed rows are the record of what was disposed of.
CREATE TABLE event_disposals (
    id     bigserial   PRIMARY KEY,
    at     timestamptz NOT NULL,
    open   boolean     NOT NULL DEFAULT true,
    events integer     NOT NULL DEFAULT 0,
    reason text        NOT NULL
);
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM event_disposals WHERE open) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'events are append-only (only `gateway prune` disposes of old ones)';
END;
$$;
