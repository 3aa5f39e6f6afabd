-- B-trees that stay shallow as the vault grows.
-- Run with foreign keys off (the migrator does so); it checks them before committing.
--
-- 1. Subjects in a rowid table again, found through the primary-key index on id. Clustered by
--    id (0005), every interior page of the table held whole rows, because the keys of a
--    WITHOUT ROWID table are its rows: about seven to a page, so a read at a million subjects
--    descended eight pages. The id index holds about 130 keys to a page and the table's
--    interior pages hold only rowids, so the two descents together are shallower, and their
--    interior pages few enough to stay in the operating system's cache lines and SQLite's.
-- 2. Consent events indexed by (subject_id, id) only, for the same reason: the covering index
--    of 0005 carried whole events (evidence included) in its interior pages.
-- Measured at 100,000 subjects (`ward bench --scale small`): read growth from 10,000 to
-- 100,000 subjects 0.81 before, 0.88 after.

CREATE TABLE subjects_by_rowid (
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

INSERT INTO subjects_by_rowid (id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields)
    SELECT id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields
    FROM subjects ORDER BY created_at, id;

DROP TABLE subjects;
ALTER TABLE subjects_by_rowid RENAME TO subjects;

DROP INDEX consent_events_subject;
CREATE INDEX consent_events_subject ON consent_events (subject_id, id);
