-- Blocks on subjects' data (152-FZ Art. 21, SQLite): the whole subject (no categories) or
-- categories, with a reason from a fixed list; lifted once. Names and enums only.

CREATE TABLE subject_blocks (
    id         TEXT    NOT NULL PRIMARY KEY,
    subject_id BLOB    NOT NULL,
    -- Comma-joined category names; empty: the whole subject.
    categories TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    lifted_at  INTEGER,
    -- 1: an erasure withheld these categories under a legal hold; the subject is erased once
    -- no obligation holds them.
    erase_after INTEGER NOT NULL CHECK (erase_after IN (0, 1))
) STRICT;

CREATE INDEX subject_blocks_subject ON subject_blocks (subject_id, at);
