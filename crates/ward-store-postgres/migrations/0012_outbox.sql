-- The outbox (PostgreSQL): messages to subjects, queued in the same transaction as the change
-- that caused them, delivered by the delivery job. The payload (recipient, subject line, body)
-- is sealed with the subject's data key; erasing the subject deletes its messages. Times are
-- microseconds since the epoch, like everywhere else.

CREATE TABLE outbox (
    n               BIGSERIAL PRIMARY KEY,
    id              BYTEA   NOT NULL UNIQUE,
    subject_id      BYTEA   NOT NULL,
    template        TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    payload         BYTEA   NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'dead')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    -- The delivery process holding the message while `sending`, and until when.
    claimed_by      TEXT,
    claimed_until   BIGINT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT
);

-- What a claim scans: due queued messages, and sending ones whose claim expired.
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_claims ON outbox (state, claimed_until);
CREATE INDEX outbox_subject ON outbox (subject_id);
