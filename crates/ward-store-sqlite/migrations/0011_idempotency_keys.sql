-- Idempotency keys (SQLite): what a creating request sent with an `Idempotency-Key` did, so
-- that the same request again is answered from here instead of being done twice. The key is
-- the keyed hash of the caller and the key, the fingerprint the hash of the request's method,
-- path and body; the answer (status, and the body sealed under a data key of its own, wrapped
-- under a KEK) is NULL until the request that claimed the key recorded it. A row is claimed
-- in the transaction of the change it guards. Times are microseconds since the Unix epoch.

CREATE TABLE idempotency_keys (
    key          BLOB    PRIMARY KEY CHECK (length(key) = 32),
    fingerprint  BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    status       INTEGER,
    kek_id       TEXT,
    wrapped_key  BLOB,
    answer       BLOB,
    CHECK ((status IS NULL) = (answer IS NULL) AND (answer IS NULL) = (kek_id IS NULL)
           AND (kek_id IS NULL) = (wrapped_key IS NULL))
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
