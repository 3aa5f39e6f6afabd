-- Ward's schema (PostgreSQL). Instants are unix microseconds, subject ids 16-byte BYTEA,
-- hashes 32-byte BYTEA. Lists of identifiers are comma-joined text ('' = empty list).
-- Same layout as the SQLite backend's migration of the same name.

CREATE TABLE subjects (
    id          BYTEA  NOT NULL PRIMARY KEY,
    state       TEXT   NOT NULL,
    revision    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    erased_at   BIGINT,
    kek_id      TEXT,
    wrapped_key BYTEA,
    fields      BYTEA
);

-- Blind index: at most one entry per subject and field.
CREATE TABLE subject_index (
    subject_id BYTEA  NOT NULL REFERENCES subjects (id),
    field      TEXT   NOT NULL,
    hash       BIGINT NOT NULL,
    PRIMARY KEY (subject_id, field)
);

CREATE INDEX subject_index_lookup ON subject_index (field, hash);

CREATE TABLE consent_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id     BYTEA  NOT NULL REFERENCES subjects (id),
    purpose        TEXT   NOT NULL,
    kind           TEXT   NOT NULL,
    at             BIGINT NOT NULL,
    policy_version TEXT   NOT NULL,
    evidence       BYTEA
);

CREATE INDEX consent_events_subject ON consent_events (subject_id, id);

CREATE TABLE journal (
    seq       BIGINT NOT NULL PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    subject   BYTEA,
    purpose   TEXT,
    fields    TEXT   NOT NULL,
    detail    TEXT,
    prev_hash BYTEA  NOT NULL,
    hash      BYTEA  NOT NULL
);

-- The journal's end, locked (FOR UPDATE) and updated by every write transaction.
-- seq = 0: empty journal.
CREATE TABLE journal_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash BYTEA   NOT NULL
);

INSERT INTO journal_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE journal_checkpoints (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq       BIGINT NOT NULL,
    head      BYTEA  NOT NULL,
    at        BIGINT NOT NULL,
    key_id    TEXT   NOT NULL,
    signature BYTEA  NOT NULL
);

CREATE INDEX journal_checkpoints_seq ON journal_checkpoints (seq, id);

CREATE TABLE api_keys (
    id         TEXT   NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    purposes   TEXT   NOT NULL,
    token_hash BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE policy_versions (
    hash        TEXT   NOT NULL PRIMARY KEY,
    policy_id   TEXT   NOT NULL,
    version     TEXT   NOT NULL,
    source      TEXT   NOT NULL,
    recorded_at BIGINT NOT NULL
);

CREATE INDEX policy_versions_recorded ON policy_versions (recorded_at, hash);
