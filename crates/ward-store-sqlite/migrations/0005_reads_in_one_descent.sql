-- Reads by subject id in one B-tree descent per table: the subjects table clustered by id
-- (WITHOUT ROWID: no separate index to search first, then the rowid table), and consent events
-- read from one covering index instead of an index search plus a table search per event.
-- Run with foreign keys off (the migrator does so); it checks them before committing.

CREATE TABLE subjects_by_id (
    id          BLOB    NOT NULL PRIMARY KEY,
    state       TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    erased_at   INTEGER,
    kek_id      TEXT,
    wrapped_key BLOB,
    fields      BLOB
) STRICT, WITHOUT ROWID;

INSERT INTO subjects_by_id (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields)
    SELECT id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields FROM subjects;

DROP TABLE subjects;
ALTER TABLE subjects_by_id RENAME TO subjects;

DROP INDEX consent_events_subject;
CREATE INDEX consent_events_subject ON consent_events (subject_id, id, purpose, kind, at, policy_version, evidence);
