-- Every input ends in a named state (issue 10): a file may now also be 'held' (kept back as a
-- whole, visible, released by an operator) or 'failed' (a stage raised: the reason is in
-- `error`, the file is retried after a reload or by `gateway files retry`).
ALTER TABLE files DROP CONSTRAINT files_status_check;
ALTER TABLE files ADD CONSTRAINT files_status_check
    CHECK (status IN ('received', 'duplicate', 'parsed', 'routed', 'held', 'failed',
                      'quarantined'));
-- `gateway status` and the daemon's retry look for the files that need a person.
CREATE INDEX files_attention ON files (status, id) WHERE status IN ('failed', 'held');
