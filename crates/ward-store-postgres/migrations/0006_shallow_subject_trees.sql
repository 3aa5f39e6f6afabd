-- The same migration on SQLite undoes 0005's clustering of subjects by id and its covering
-- index of consent events, whose interior pages held whole rows. PostgreSQL's layout was
-- never changed by 0005. Kept so that both backends list the same migrations.
SELECT 1;
