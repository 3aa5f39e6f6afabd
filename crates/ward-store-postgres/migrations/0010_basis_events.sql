-- Legal bases other than consent, established per subject (PostgreSQL): a contract concluded or
-- ended, a legal obligation triggered (retention runs from `start`), a legitimate interest,
-- the subject's objection to it and the officer's overriding grounds, vital interests, a legal
-- duty. Appended, never edited; erasure nulls the sealed evidence and keeps the metadata.
-- Same layout as the SQLite backend's migration of the same name, keyed by the subject's id.

CREATE TABLE basis_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id     BYTEA   NOT NULL REFERENCES subjects (id),
    purpose        TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('established', 'ended', 'objected', 'overridden')),
    at             BIGINT  NOT NULL,
    -- When the basis began; an obligation's retention runs from it.
    start          BIGINT  NOT NULL,
    -- The content hash of the policy version it was recorded under.
    policy_version TEXT    NOT NULL,
    -- Sealed with the subject's data key.
    evidence       BYTEA
);

CREATE INDEX basis_events_subject ON basis_events (subject_id, id);

-- Before this migration every purpose not resting on consent was assumed to hold for every
-- subject. What the journal shows is that each live subject was collected under a purpose:
-- that collection is recorded as establishing it, at the collection's time, so upgrading does
-- not cut existing subjects off the purposes they were registered for. Nothing else is
-- assumed: other bases are recorded from now on.
INSERT INTO basis_events (subject_id, purpose, kind, at, start, policy_version, evidence)
    SELECT s.id, j.purpose, 'established', j.at, j.at, 'migration:0010', NULL
    FROM journal j JOIN subjects s ON s.id = j.subject
    WHERE j.action = 'collection' AND j.purpose IS NOT NULL AND s.state = 'active'
    ORDER BY j.seq;
