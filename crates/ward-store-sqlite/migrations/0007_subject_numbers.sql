-- Subjects get an internal number, and the blind index and consent events refer to it.
-- Run with foreign keys off (the migrator does so); it checks them before committing.
--
-- A subject's id is random (UUIDv4, on purpose: it says nothing about when or in what order
-- the subject was registered). Every B-tree keyed by it takes each new subject at a random
-- place, so at a million subjects a transaction of 512 registrations rewrites a page of each
-- such tree per subject. Three trees were keyed that way (the subjects' id index, the blind
-- index's primary key and the consent events' index) and a fourth is keyed by a hash (the
-- blind index's lookup index). Now the subjects table has an explicit INTEGER PRIMARY KEY `n`
-- (its rowid, stable across VACUUM because it is declared), and the blind index and consent
-- events are keyed by that number, which grows with every registration: their trees take new
-- subjects at the end. The two trees left random are the id index (a read by id goes through
-- it) and the blind index's lookup index (a lookup hashes the value).
--
-- `n` is never shown outside the database; ids stay what every interface uses. The number
-- says only what `created_at` in the same row already says.

CREATE TABLE subjects_numbered (
    n           INTEGER PRIMARY KEY,
    id          BLOB    NOT NULL UNIQUE,
    state       TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    erased_at   INTEGER,
    kek_id      TEXT,
    wrapped_key BLOB,
    fields      BLOB
) STRICT;

INSERT INTO subjects_numbered (n, id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields)
    SELECT rowid, id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields
    FROM subjects ORDER BY rowid;

-- Blind index: at most one entry per subject and field.
CREATE TABLE subject_index_numbered (
    subject_n INTEGER NOT NULL REFERENCES subjects (n),
    field     TEXT    NOT NULL,
    hash      INTEGER NOT NULL,
    PRIMARY KEY (subject_n, field)
) STRICT, WITHOUT ROWID;

INSERT INTO subject_index_numbered (subject_n, field, hash)
    SELECT s.rowid, i.field, i.hash
    FROM subject_index i JOIN subjects s ON s.id = i.subject_id
    ORDER BY s.rowid, i.field;

CREATE TABLE consent_events_numbered (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_n      INTEGER NOT NULL REFERENCES subjects (n),
    purpose        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    policy_version TEXT    NOT NULL,
    evidence       BLOB
) STRICT;

INSERT INTO consent_events_numbered (id, subject_n, purpose, kind, at, policy_version, evidence)
    SELECT e.id, s.rowid, e.purpose, e.kind, e.at, e.policy_version, e.evidence
    FROM consent_events e JOIN subjects s ON s.id = e.subject_id
    ORDER BY e.id;

DROP TABLE subject_index;
DROP TABLE consent_events;
DROP TABLE subjects;
ALTER TABLE subjects_numbered RENAME TO subjects;
ALTER TABLE subject_index_numbered RENAME TO subject_index;
ALTER TABLE consent_events_numbered RENAME TO consent_events;

CREATE INDEX subject_index_lookup ON subject_index (field, hash);
CREATE INDEX consent_events_subject ON consent_events (subject_n, id);
