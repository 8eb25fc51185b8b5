-- Control numbers (see 006_control_numbers.sql and gateway/store/control_numbers.py).

-- name: control_relaxed
SELECT 1  -- nothing to relax: the intake connection's commit is what makes the part durable

-- name: control_assigned
SELECT number FROM control_assignments WHERE part_key = :key

-- name: control_next
INSERT INTO control_counters (sequence, last_number) VALUES (:sequence, 1)
    ON CONFLICT (sequence) DO UPDATE
   SET last_number = control_counters.last_number % 999999999 + 1
RETURNING last_number AS number

-- name: control_retire
DELETE FROM control_assignments WHERE sequence = :sequence AND number = :number

-- name: control_assign
INSERT INTO control_assignments (part_key, sequence, number, assigned_at)
VALUES (:key, :sequence, :number, :now)
    ON CONFLICT (part_key) DO NOTHING
RETURNING number
