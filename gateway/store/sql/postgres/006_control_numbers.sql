-- Interchange control numbers (ISA13/GS06) in the store (issue 13), so daemons sharing one
-- database never hand out the same number twice. One counter per sequence (a partner's
-- destination); one assignment per part (its idempotency key), so a redone split reuses its
-- number. The counter row is locked by the UPDATE of the assigning transaction, which also
-- inserts the assignment: concurrent daemons queue on that row, and no number is skipped.
CREATE TABLE control_counters (
    sequence    text    PRIMARY KEY,
    last_number integer NOT NULL CHECK (last_number BETWEEN 1 AND 999999999)
);

CREATE TABLE control_assignments (
    part_key    text        PRIMARY KEY,
    sequence    text        NOT NULL,
    number      integer     NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sequence, number)
);
