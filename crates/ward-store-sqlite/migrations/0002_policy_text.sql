-- Policy versions carry their human-readable text and the time they come into force.
-- Versions recorded before this migration are in force from when they were recorded.
ALTER TABLE policy_versions ADD COLUMN text TEXT;
ALTER TABLE policy_versions ADD COLUMN effective_at INTEGER;
