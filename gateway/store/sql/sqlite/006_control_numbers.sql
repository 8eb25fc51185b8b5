-- Interchange control numbers (ISA13/GS06) in the store (issue 13), so daemons sharing one
-- database never hand out the same number twice. One counter per sequence (a partner's
-- destination); one assignment per part (its idempotency key), so a redone split reuses its
-- number. The counter and the assignment change in one transaction: no gaps.
CREATE TABLE control_counters (
    sequence    TEXT    PRIMARY KEY,
    last_number INTEGER NOT NULL CHECK (last_number BETWEEN 1 AND 999999999)
);

CREATE TABLE control_assignments (
    part_key    TEXT    PRIMARY KEY,
    sequence    TEXT    NOT NULL,
    number      INTEGER NOT NULL,
    assigned_at REAL    NOT NULL,
    UNIQUE (sequence, number)
);
