-- Blocks on subjects' data (152-FZ Art. 21, SQLite): the whole subject (no categories) or
-- categories, with a reason from a fixed list; lifted once. Names and enums only.

CREATE TABLE subject_blocks (
    id         TEXT    NOT NULL PRIMARY KEY,
    subject_id BYTEA   NOT NULL,
    -- Comma-joined category names; empty: the whole subject.
    categories TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    at         BIGINT  NOT NULL,
    lifted_at  BIGINT,
    -- TRUE: an erasure withheld these categories under a legal hold; the subject is erased
    -- once no obligation holds them.
    erase_after BOOLEAN NOT NULL
);

CREATE INDEX subject_blocks_subject ON subject_blocks (subject_id, at);
