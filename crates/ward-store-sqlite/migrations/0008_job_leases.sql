-- Leases on background jobs (SQLite): which Ward process runs a job now. Coordination state,
-- not personal data: written outside the journal (see `ward_store::LeaseStore`). Times are
-- microseconds since the Unix epoch, from the Ward process's clock.

CREATE TABLE job_leases (
    name        TEXT    PRIMARY KEY CHECK (length(name) > 0),
    holder      TEXT    NOT NULL CHECK (length(holder) > 0),
    -- Since when this holder has held the lease without a break.
    acquired_at INTEGER NOT NULL,
    -- The lease is free from this instant on.
    expires_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
