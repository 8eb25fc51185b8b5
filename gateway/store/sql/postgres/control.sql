-- Control numbers (see 006_control_numbers.sql and gateway/store/control_numbers.py).

-- An assignment needs no fsync of its own: the part's document and delivery, committed
-- synchronously later on the same server, flush it with them (WAL is written in order);
-- one lost in a crash was never delivered, and the part is numbered again when routed again.
-- name: control_relaxed
SET LOCAL synchronous_commit = off

-- name: control_assigned
SELECT number FROM control_assignments WHERE part_key = %(key)s

-- name: control_next
INSERT INTO control_counters AS c (sequence, last_number) VALUES (%(sequence)s, 1)
    ON CONFLICT (sequence) DO UPDATE SET last_number = c.last_number %% 999999999 + 1
RETURNING last_number AS number

-- name: control_retire
DELETE FROM control_assignments WHERE sequence = %(sequence)s AND number = %(number)s

-- name: control_assign
INSERT INTO control_assignments (part_key, sequence, number)
VALUES (%(key)s, %(sequence)s, %(number)s)
    ON CONFLICT (part_key) DO NOTHING
RETURNING number

-- name: control_assign_many
-- Every part of a set in one statement (011_control_numbers_at_once.sql): numbers[i] is keys[i]'s.
SELECT assign_control_numbers(%(sequences)s::text[], %(keys)s::text[]) AS numbers
