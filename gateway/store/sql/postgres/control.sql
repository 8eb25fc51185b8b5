-- Control numbers (see 006_control_numbers.sql, 011_control_numbers_at_once.sql and
-- gateway/store/control_numbers.py).

-- name: control_assign_many
-- Every part of a set in one statement: numbers[i] is keys[i]'s. The function commits without
-- waiting for the flush: the parts' deliveries, committed synchronously later on the same
-- server, flush it with them (WAL is written in order); one lost in a crash was never
-- delivered, and the part is numbered again when routed again.
SELECT assign_control_numbers(%(sequences)s::text[], %(keys)s::text[]) AS numbers
