-- Identity verifications of data-subject requests (SQLite). The one-time code is kept only as
-- a keyed hash; the document sealed under the subject's data key (erasure deletes both).
-- Ids, enums, counters, instants and a digest otherwise: no personal data in the clear.

CREATE TABLE verifications (
    id              TEXT    NOT NULL PRIMARY KEY,
    request_id      TEXT    NOT NULL,
    subject_id      BLOB    NOT NULL,
    method          TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    revision        INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    resends         INTEGER NOT NULL,
    code_hash       BLOB,
    code_expires_at INTEGER,
    document_type   TEXT,
    document_size   INTEGER,
    document_sha256 TEXT,
    reason          TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- Sealed under the subject's data key.
    document        BLOB
) STRICT;

CREATE INDEX verifications_subject ON verifications (subject_id);
CREATE INDEX verifications_request ON verifications (request_id);
