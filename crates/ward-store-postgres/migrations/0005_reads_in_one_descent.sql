-- The same migration on SQLite clusters subjects by id and covers consent events with their
-- index; PostgreSQL's layout needs no such change (its primary key index already leads to the
-- heap row in one step, and consent events are few per subject). Kept so that both backends
-- list the same migrations.
SELECT 1;
