-- Control numbers in one round trip (issue 13): assign_control_numbers(sequences, keys) numbers
-- all the parts of a transaction set in one statement, by the rules of
-- gateway/store/control_numbers.py (which ran them as five statements per part): a part
-- numbered before keeps its number; a new one takes its sequence's next number — the counter
-- row stays locked until the statement's transaction ends, so concurrent daemons queue on it
-- and no number is skipped — and retires the assignment that held that number before a wrap
-- past 999999999. A part another daemon numbered meanwhile raises unique_violation on
-- part_key: the whole statement rolls back (no gap) and the caller runs it again, when the
-- first look finds that number.
--
-- The parts are taken one sequence after another, in the sequences' sorted order, and each
-- sequence's parts in the order given (so their numbers are those of one call per part): two
-- daemons numbering sets with parts for the same destinations lock those counters in the same
-- order, and never deadlock. numbers[i] is the number of keys[i].
CREATE FUNCTION assign_control_numbers(sequences text[], keys text[])
RETURNS integer[] LANGUAGE plpgsql AS $$
DECLARE
    numbers integer[] := array_fill(NULL::integer, ARRAY[coalesce(array_length(keys, 1), 0)]);
    i integer;
    n integer;
BEGIN
    -- No fsync of its own: the parts' deliveries, committed synchronously later on the same
    -- server, flush it (see control.sql).
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR i IN SELECT u.place FROM unnest(sequences) WITH ORDINALITY AS u(sequence, place)
              ORDER BY u.sequence, u.place LOOP
        SELECT a.number INTO n FROM control_assignments a WHERE a.part_key = keys[i];
        IF NOT FOUND THEN
            INSERT INTO control_counters AS c (sequence, last_number) VALUES (sequences[i], 1)
                ON CONFLICT (sequence) DO UPDATE SET last_number = c.last_number % 999999999 + 1
            RETURNING c.last_number INTO n;
            DELETE FROM control_assignments a WHERE a.sequence = sequences[i] AND a.number = n;
            INSERT INTO control_assignments (part_key, sequence, number)
            VALUES (keys[i], sequences[i], n);
        END IF;
        numbers[i] := n;
    END LOOP;
    RETURN numbers;
END
$$;
