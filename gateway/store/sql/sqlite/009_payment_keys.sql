-- Duplicate payments (issue 10, Build 5): the first transaction set to carry a payment key
-- from a partner owns it, and any later set with the same key — in the same file or another — is
-- a duplicate, held for an operator and never delivered twice.
-- kind 'interchange': ISA06 + ISA13, kind 'payment': TRN02 + TRN03 + BPR02 + BPR16.
-- owner_set names the owning set inside its file (its identity, e.g. interchange ordinal and
-- ST offset), so routing the owning file again finds itself the owner.
CREATE TABLE payment_keys (
    partner    TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('interchange', 'payment')),
    value      TEXT    NOT NULL,
    file_id    INTEGER NOT NULL REFERENCES files (id),
    owner_set  TEXT    NOT NULL,
    first_seen REAL    NOT NULL,
    PRIMARY KEY (partner, kind, value)
);
CREATE INDEX payment_keys_file ON payment_keys (file_id);
