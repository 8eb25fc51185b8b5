-- Every input ends in a named state (issue 10): a file may now also be 'held' (kept back as a
-- whole, visible, released by an operator) or 'failed' (a stage raised: the reason is in
-- `error`, the file is retried after a reload or by `gateway files retry`).
--
-- SQLite cannot alter a CHECK constraint; widening one changes no stored row, so the table's
-- recorded definition is rewritten in place, as sqlite.org/lang_altertable.html ("making other
-- kinds of table schema changes") describes. The index created after it bumps the schema
-- cookie, so every other open connection re-reads the definition.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, '''routed'', ''quarantined'')',
                     '''routed'', ''held'', ''failed'', ''quarantined'')')
 WHERE type = 'table' AND name = 'files';
PRAGMA writable_schema = RESET;
-- `gateway status` and the daemon's retry look for the files that need a person.
CREATE INDEX files_attention ON files (status, id) WHERE status IN ('failed', 'held');
