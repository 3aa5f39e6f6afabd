-- Website visitors' cookie and tracking consent (PostgreSQL). A visitor is known only by the
-- keyed HMAC-SHA256 of the id the website gave the browser (32 bytes); the id itself is never
-- stored. Records are appended, never edited, except that a visitor's records are linked to a
-- subject when the visitor signs in; erasing the subject deletes them.
-- (0003: 0002 is reserved for policy versions.) Same layout as the SQLite backend's migration
-- of the same name.

CREATE TABLE visitor_consents (
    id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visitor        BYTEA   NOT NULL CHECK (length(visitor) = 32),
    banner_version TEXT    NOT NULL,
    -- Every category with its answer: 'necessary=granted,functional=denied,...'.
    choices        TEXT    NOT NULL,
    -- The browser sent Sec-GPC: 1; and whether GPC turned a grant of marketing into a denial.
    gpc            BOOLEAN NOT NULL,
    gpc_overrode   BOOLEAN NOT NULL,
    at             BIGINT  NOT NULL,
    subject_id     BYTEA   REFERENCES subjects (id)
);

CREATE INDEX visitor_consents_visitor ON visitor_consents (visitor, id);
CREATE INDEX visitor_consents_subject ON visitor_consents (subject_id) WHERE subject_id IS NOT NULL;
