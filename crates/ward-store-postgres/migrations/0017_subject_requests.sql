-- Data-subject requests (issue 19, PostgreSQL): ids, enums, dates (Julian day numbers) and who
-- filed them in clear; every free text sealed under the subject's key in `sealed`.

CREATE TABLE subject_requests (
    id              TEXT    NOT NULL PRIMARY KEY,
    subject_id      BYTEA   NOT NULL,
    kind            TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    -- Comma-joined regime names (ru, eu, us-ca).
    regimes         TEXT    NOT NULL,
    received_at     BIGINT  NOT NULL,
    due_on          BIGINT  NOT NULL,
    extended_due_on BIGINT ,
    extendable_to   BIGINT ,
    extension       TEXT,
    -- The due date that counts while the request is open and its clock runs, else NULL.
    open_due        BIGINT ,
    paused_at       BIGINT ,
    paused_secs     BIGINT  NOT NULL,
    refusal         TEXT,
    outcome         TEXT,
    verification    TEXT,
    duplicate_of    TEXT,
    repeat_of       TEXT,
    download        TEXT,
    filed_by        TEXT    NOT NULL,
    sealed          BYTEA,
    updated_at      BIGINT  NOT NULL
);

CREATE INDEX subject_requests_subject ON subject_requests (subject_id, received_at);
CREATE INDEX subject_requests_received ON subject_requests (received_at, id);
-- "Overdue as of D" and "due within N days": a range of this index, open requests only.
CREATE INDEX subject_requests_open_due ON subject_requests (open_due, id) WHERE open_due IS NOT NULL;
