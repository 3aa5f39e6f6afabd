-- The keys this store was made with (PostgreSQL): a fingerprint per key, so that Ward refuses
-- to open the store with other keys. No key material: a fingerprint is a labelled hash of the
-- key (for the journal signing key, its public key). Rows are only ever added (see
-- `ward_store::KeyBindingStore`). Times are microseconds since the Unix epoch.

CREATE TABLE key_binding (
    name        TEXT   PRIMARY KEY CHECK (length(name) > 0),
    fingerprint TEXT   NOT NULL CHECK (length(fingerprint) > 0),
    recorded_at BIGINT NOT NULL
);
