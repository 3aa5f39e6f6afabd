-- Subjects' life-cycle events beside consent (SQLite): told of a policy version, accepted it,
-- died. Appended, never edited; erasure nulls the sealed evidence and keeps the metadata.

CREATE TABLE subject_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id     BLOB    NOT NULL REFERENCES subjects (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('policy_notified', 'policy_accepted', 'deceased')),
    at             INTEGER NOT NULL,
    -- The policy version's hash, for policy events.
    policy_version TEXT,
    -- Sealed with the subject's data key.
    evidence       BLOB
) STRICT;

CREATE INDEX subject_events_subject ON subject_events (subject_id, id);
CREATE INDEX subject_events_policy ON subject_events (policy_version, kind, subject_id)
    WHERE policy_version IS NOT NULL;
