-- Ward's schema (SQLite). Instants are unix microseconds, subject ids 16-byte blobs,
-- hashes 32-byte blobs. Lists of identifiers are comma-joined text ('' = empty list).

CREATE TABLE subjects (
    id          BLOB    NOT NULL PRIMARY KEY,
    state       TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    erased_at   INTEGER,
    kek_id      TEXT,
    wrapped_key BLOB,
    fields      BLOB
) STRICT;

-- Blind index: at most one entry per subject and field.
CREATE TABLE subject_index (
    subject_id BLOB    NOT NULL REFERENCES subjects (id),
    field      TEXT    NOT NULL,
    hash       INTEGER NOT NULL,
    PRIMARY KEY (subject_id, field)
) STRICT, WITHOUT ROWID;

CREATE INDEX subject_index_lookup ON subject_index (field, hash);

CREATE TABLE consent_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id     BLOB    NOT NULL REFERENCES subjects (id),
    purpose        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    policy_version TEXT    NOT NULL,
    evidence       BLOB
) STRICT;

CREATE INDEX consent_events_subject ON consent_events (subject_id, id);

CREATE TABLE journal (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   BLOB,
    purpose   TEXT,
    fields    TEXT    NOT NULL,
    detail    TEXT,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
) STRICT;

-- The journal's end, updated in every write transaction. seq = 0: empty journal.
CREATE TABLE journal_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL
) STRICT;

INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, zeroblob(32));

CREATE TABLE journal_checkpoints (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    seq       INTEGER NOT NULL,
    head      BLOB    NOT NULL,
    at        INTEGER NOT NULL,
    key_id    TEXT    NOT NULL,
    signature BLOB    NOT NULL
) STRICT;

CREATE INDEX journal_checkpoints_seq ON journal_checkpoints (seq, id);

CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    purposes   TEXT    NOT NULL,
    token_hash BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE TABLE policy_versions (
    hash        TEXT    NOT NULL PRIMARY KEY,
    policy_id   TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL
) STRICT;

CREATE INDEX policy_versions_recorded ON policy_versions (recorded_at, hash);
