-- Single-use downloads (SQLite): an access report or a copy of a subject's data, sealed with
-- the subject's data key, released through a link whose token is stored only as its SHA-256.
-- Serving it sets `used_at` and deletes the document; erasing the subject deletes its
-- downloads. `request` is the data-subject request it answers, if any (no foreign key). Times
-- are microseconds since the epoch.

CREATE TABLE downloads (
    n          INTEGER PRIMARY KEY AUTOINCREMENT,
    id         BLOB    NOT NULL UNIQUE,
    subject_id BLOB    NOT NULL,
    request    BLOB,
    token_hash BLOB    NOT NULL UNIQUE,
    format     TEXT    NOT NULL CHECK (format IN ('json', 'csv', 'html', 'report')),
    document   BLOB,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE INDEX downloads_subject ON downloads (subject_id);

-- The journal entries about one subject, for its access report (152-FZ Art. 14 p. 7 asks
-- what was done with the data): without this index the report reads the whole journal.
CREATE INDEX journal_subject ON journal (subject, seq) WHERE subject IS NOT NULL;
