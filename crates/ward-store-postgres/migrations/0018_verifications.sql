-- Identity verifications of data-subject requests (PostgreSQL). The one-time code is kept only as
-- a keyed hash; the document sealed under the subject's data key (erasure deletes both).
-- Ids, enums, counters, instants and a digest otherwise: no personal data in the clear.

CREATE TABLE verifications (
    id              TEXT    NOT NULL PRIMARY KEY,
    request_id      TEXT    NOT NULL,
    subject_id      BYTEA   NOT NULL,
    method          TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    revision        BIGINT  NOT NULL,
    attempts        BIGINT  NOT NULL,
    resends         BIGINT  NOT NULL,
    code_hash       BYTEA,
    code_expires_at BIGINT,
    document_type   TEXT,
    document_size   BIGINT,
    document_sha256 TEXT,
    reason          TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    -- Sealed under the subject's data key.
    document        BYTEA
);

CREATE INDEX verifications_subject ON verifications (subject_id);
CREATE INDEX verifications_request ON verifications (request_id);
