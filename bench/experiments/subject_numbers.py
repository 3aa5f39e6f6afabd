"""Migration 0007 (subject numbers), measured where SQLite does the work.

Builds a vault-shaped database of 1,000,000 subjects under the schema of migrations 0001-0006
(random 16-byte ids, 900-byte sealed fields, 2 blind-index entries and 2 consent events with
300-byte evidence each), copies it, applies 0007 to the copy and VACUUMs it, then times read
transactions on both as Ward's SQLite backend runs them: a read by id (the subject, then its
consent events) and a lookup by email (the blind index, then each match and its events), one
read-only connection with Ward's 512 KiB page cache, and a commit on another connection before
every read, as the read's journal entry makes. Rounds alternate the order of the databases.

    python3 bench/experiments/subject_numbers.py [WORK_DIR]     # needs about 6 GB free

The figures in BENCHMARKS.md ("What changed in this round") came from this script; absolute
microseconds include Python's own per-statement cost, so compare the columns, not the sums.
"""
import os
import random
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = os.path.join(HERE, "..", "..", "crates", "ward-store-sqlite", "migrations")
N = 1_000_000
SUBJECT = ("SELECT id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields{n} "
           "FROM subjects WHERE {by} = ?1")
EVENTS = "SELECT purpose, kind, at, policy_version, evidence FROM consent_events WHERE {by} = ?1 ORDER BY id"


def migration(name):
    with open(os.path.join(MIGRATIONS, name + ".sql")) as f:
        return f.read()


def build(path):
    c = sqlite3.connect(path, isolation_level=None)
    for name in sorted(os.listdir(MIGRATIONS)):
        if name < "0007":
            c.executescript(migration(name[:-4]))
    c.executescript("""
        PRAGMA cache_size = -3000000; PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF;
        BEGIN;
        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)
        INSERT INTO subjects (id, state, revision, created_at, updated_at, kek_id, wrapped_key, fields)
            SELECT randomblob(16), 'active', 1, x, x, 'k1', randomblob(60), randomblob(900) FROM c;
        INSERT INTO subject_index (subject_id, field, hash)
            SELECT id, 'email', abs(random()) %% 1000000000000 FROM subjects;
        INSERT INTO subject_index (subject_id, field, hash)
            SELECT id, 'phone', abs(random()) %% 1000000000000 FROM subjects;
        INSERT INTO consent_events (subject_id, purpose, kind, at, policy_version, evidence)
            SELECT s.id, p.column1, 'given', s.created_at, 'v1', randomblob(300)
            FROM subjects s CROSS JOIN (VALUES ('marketing'), ('analytics')) p
            ORDER BY s.rowid, p.column1 DESC;
        COMMIT;
    """ % N)
    c.execute("VACUUM")  # both files compact, so that only the schema differs
    c.close()


def migrate(path):
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA foreign_keys = OFF")
    t = time.perf_counter()
    c.executescript("BEGIN;" + migration("0007_subject_numbers") + "COMMIT;")
    took = time.perf_counter() - t
    size = os.path.getsize(path)
    c.execute("VACUUM")
    c.close()
    return took, size


class Db:
    def __init__(self, path, numbered):
        os.system(f"cat {path} > /dev/null")  # into the page cache, as the harness's preload
        self.numbered = numbered
        self.w = sqlite3.connect(path, isolation_level=None)
        self.w.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;"
                             "CREATE TABLE IF NOT EXISTS scratch (x INTEGER PRIMARY KEY, v BLOB);")
        self.r = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        self.r.execute("PRAGMA cache_size = -512")

    def sample(self, rows):
        """Ids and email hashes of the subjects with these row numbers."""
        col = "n" if self.numbered else "rowid"
        ids = [self.w.execute(f"SELECT id FROM subjects WHERE {col} = ?", (x,)).fetchone()[0] for x in rows]
        ref = "subject_n" if self.numbered else "subject_id"
        hashes = [self.w.execute(f"SELECT hash FROM subject_index WHERE {ref} = ?1 AND field = 'email'",
                                 (x if self.numbered else i,)).fetchone()[0] for x, i in zip(rows, ids)]
        return ids, hashes

    def subject(self, by, key):
        if self.numbered:
            row = self.r.execute(SUBJECT.format(n=", n", by=by), (key,)).fetchone()
            self.r.execute(EVENTS.format(by="subject_n"), (row[9],)).fetchall()
        else:
            row = self.r.execute(SUBJECT.format(n="", by="id"), (key,)).fetchone()
            self.r.execute(EVENTS.format(by="subject_id"), (key,)).fetchall()

    def read(self, sid):
        self.r.execute("BEGIN")
        self.subject("id", sid)
        self.r.execute("COMMIT")

    def lookup(self, h):
        self.r.execute("BEGIN")
        if self.numbered:
            for (n,) in self.r.execute("SELECT subject_n FROM subject_index WHERE field = 'email' AND hash = ?1",
                                       (h,)).fetchall():
                self.subject("n", n)
        else:
            for (sid,) in self.r.execute("SELECT subject_id FROM subject_index WHERE field = 'email' AND hash = ?1 "
                                         "ORDER BY subject_id", (h,)).fetchall():
                self.subject("id", sid)
        self.r.execute("COMMIT")

    def timed(self, op, keys):
        total = 0.0
        for k in keys:
            self.w.execute("INSERT INTO scratch (v) VALUES (zeroblob(200))")
            t = time.perf_counter()
            op(k)
            total += time.perf_counter() - t
        return total / len(keys) * 1e6


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "."
    old, new = os.path.join(work, "before-0007.db"), os.path.join(work, "after-0007.db")
    for p in (old, new):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(p + suffix):
                os.remove(p + suffix)
    build(old)
    os.system(f"cp {old} {new}")
    took, grown = migrate(new)
    print(f"0007 on {N:,} subjects: {took:.1f} s; file {os.path.getsize(old) >> 20} MiB before, "
          f"{grown >> 20} MiB after the migration, {os.path.getsize(new) >> 20} MiB after VACUUM")
    dbs = {"before 0007": Db(old, False), "after 0007": Db(new, True)}
    rows = random.Random(1).sample(range(1, N + 1), 20_000)
    keys = {name: db.sample(rows) for name, db in dbs.items()}
    results = {}
    chunk = 4_000
    for rnd in range(5):
        order = list(dbs) if rnd % 2 == 0 else list(reversed(list(dbs)))
        part = slice(rnd * chunk, (rnd + 1) * chunk)
        for what in ("read", "lookup"):
            for name in order:
                db, (ids, hashes) = dbs[name], keys[name]
                us = db.timed(db.read, ids[part]) if what == "read" else db.timed(db.lookup, hashes[part])
                results.setdefault((what, name), []).append(us)
    for (what, name), v in sorted(results.items()):
        print(f"{what:6} {name:11}: median {sorted(v)[len(v) // 2]:5.1f} us per transaction "
              f"(rounds: {' '.join(f'{x:.1f}' for x in v)})")


if __name__ == "__main__":
    main()
