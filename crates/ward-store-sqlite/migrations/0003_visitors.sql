-- Website visitors' cookie and tracking consent (SQLite). A visitor is known only by the
-- keyed HMAC-SHA256 of the id the website gave the browser (32 bytes); the id itself is never
-- stored. Records are appended, never edited, except that a visitor's records are linked to a
-- subject when the visitor signs in; erasing the subject deletes them.
-- (0003: 0002 is reserved for policy versions.)

CREATE TABLE visitor_consents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    visitor        BLOB    NOT NULL CHECK (length(visitor) = 32),
    banner_version TEXT    NOT NULL,
    -- Every category with its answer: 'necessary=granted,functional=denied,...'.
    choices        TEXT    NOT NULL,
    -- The browser sent Sec-GPC: 1; and whether GPC turned a grant of marketing into a denial.
    gpc            INTEGER NOT NULL CHECK (gpc IN (0, 1)),
    gpc_overrode   INTEGER NOT NULL CHECK (gpc_overrode IN (0, 1)),
    at             INTEGER NOT NULL,
    subject_id     BLOB    REFERENCES subjects (id)
) STRICT;

CREATE INDEX visitor_consents_visitor ON visitor_consents (visitor, id);
CREATE INDEX visitor_consents_subject ON visitor_consents (subject_id) WHERE subject_id IS NOT NULL;
