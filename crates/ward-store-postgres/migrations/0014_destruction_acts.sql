-- Destruction acts (RKN Order No. 179 of 28.10.2022, SQLite): one per destruction, written in
-- the destruction's transaction and kept three years. No personal data: the subject is its
-- pseudonymous id, the rest are names from the policy and enums. A subject has at most one
-- act per cause, so two processes executing one deadline cannot write two.

CREATE TABLE destruction_acts (
    id               TEXT    NOT NULL PRIMARY KEY,
    subject_id       BYTEA   NOT NULL,
    cause            TEXT    NOT NULL,
    at               BIGINT  NOT NULL,
    operator         TEXT    NOT NULL,
    operator_address TEXT,
    processor        TEXT,
    destroyed_by     TEXT    NOT NULL,
    position         TEXT    NOT NULL,
    -- Comma-joined names.
    categories       TEXT    NOT NULL,
    fields           TEXT    NOT NULL,
    system           TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    withheld         TEXT    NOT NULL,
    UNIQUE (subject_id, cause)
);

CREATE INDEX destruction_acts_at ON destruction_acts (at);
