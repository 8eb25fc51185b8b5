-- Statements of the alerts (gateway/store/alerts.py); the names are those of
-- sql/postgres/alerts.sql. :now is Unix epoch seconds.

-- Each rule_<rule> finds the rule's conditions now: one row per thing that is wrong, with
-- entity_id (what it is about), partner (when there is one), n (how many) and detail (a code,
-- an error class, an id: never a message that could quote data).

-- name: rule_sla_missed
-- A deadline missed since the partner's last new file (a later file clears it).
SELECT e.entity_id, e.entity_id AS partner, count(*) AS n, max(e.reason) AS detail
  FROM events e
 WHERE e.action = 'sla-missed' AND e.entity_type = 'partner'
   AND e.at > coalesce((SELECT max(f.received_at) FROM files f
                         WHERE f.partner = e.entity_id AND f.status <> 'duplicate'), 0)
 GROUP BY e.entity_id;

-- name: rule_file_quarantined
SELECT CAST(id AS TEXT) AS entity_id, partner, 1 AS n, coalesce(error, '') AS detail
  FROM files WHERE status = 'quarantined';

-- name: rule_part_held
SELECT CAST(doc.file_id AS TEXT) AS entity_id, f.partner, count(*) AS n,
       CAST(min(del.id) AS TEXT) AS detail
  FROM deliveries del
  JOIN documents doc ON doc.id = del.document_id
  JOIN files f ON f.id = doc.file_id
 WHERE del.state = 'held'
 GROUP BY doc.file_id, f.partner;

-- name: rule_dead_letter
SELECT destination AS entity_id, NULL AS partner, count(*) AS n, CAST(min(id) AS TEXT) AS detail
  FROM deliveries WHERE state = 'dead' GROUP BY destination;

-- name: rule_processing_failed
-- A file a stage could not process (state 'failed', reason "<stage>: <Error>..."), until a
-- reload or `gateway files retry` takes it up again.
SELECT CAST(id AS TEXT) AS entity_id, partner, 1 AS n, coalesce(error, '') AS detail
  FROM files WHERE status = 'failed';

-- name: rule_partner_unreachable
SELECT e.entity_id, e.entity_id AS partner, 1 AS n, e.reason AS detail
  FROM events e
 WHERE e.action = 'unreachable' AND e.entity_type = 'partner'
   AND e.id = (SELECT max(l.id) FROM events l
                WHERE l.action IN ('unreachable', 'reachable') AND l.entity_type = 'partner'
                  AND l.entity_id = e.entity_id);

-- name: rule_reload_refused
SELECT e.entity_id, NULL AS partner, 1 AS n, e.reason AS detail
  FROM events e
 WHERE e.action = 'reload-refused' AND e.entity_type = 'daemon'
   AND e.id = (SELECT max(l.id) FROM events l
                WHERE l.action IN ('reload-refused', 'reloaded', 'started')
                  AND l.entity_type = 'daemon' AND l.entity_id = e.entity_id);

-- name: open_alerts
SELECT * FROM alerts WHERE state = 'open' ORDER BY id DESC;

-- name: recent_alerts
SELECT * FROM alerts ORDER BY id DESC LIMIT :limit;

-- name: insert_alert
INSERT INTO alerts (rule, entity_type, entity_id, state, summary, count, opened_at)
VALUES (:rule, :entity_type, :entity_id, 'open', :summary, :count, :now)
ON CONFLICT (rule, entity_type, entity_id) WHERE state = 'open' DO NOTHING
RETURNING *;

-- name: resolve_alert
UPDATE alerts SET state = 'resolved', resolved_at = :now
 WHERE id = :id AND state = 'open'
RETURNING *;

-- name: update_alert
UPDATE alerts SET summary = :summary, count = :count WHERE id = :id AND state = 'open'
RETURNING id;

-- name: insert_notice
INSERT INTO alert_notices (alert_id, transition, channel, due_at)
VALUES (:alert_id, :transition, :channel, :now)
ON CONFLICT DO NOTHING
RETURNING alert_id;

-- name: due_notices
SELECT n.transition, n.channel, n.attempts, a.*
  FROM alert_notices n JOIN alerts a ON a.id = n.alert_id
 WHERE n.channel = :channel AND n.message_id IS NULL AND n.due_at <= :now
 ORDER BY a.id, n.transition;

-- name: messages_since
SELECT count(*) AS n FROM alert_messages WHERE channel = :channel AND sent_at > :now - :window;

-- name: insert_message
INSERT INTO alert_messages (channel, sent_at, notices) VALUES (:channel, :now, :notices)
RETURNING id;

-- name: notice_sent
UPDATE alert_notices
   SET message_id = :message_id, due_at = NULL, attempts = attempts + 1, last_error = NULL
 WHERE alert_id = :alert_id AND transition = :transition AND channel = :channel
RETURNING alert_id;

-- name: notice_failed
UPDATE alert_notices
   SET attempts = attempts + 1, last_error = :error, due_at = :now + :retry_in
 WHERE alert_id = :alert_id AND transition = :transition AND channel = :channel
RETURNING alert_id;
