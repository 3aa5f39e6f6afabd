"""What a journal in a database file of its own would save a read, at most.

SQLite empties a read connection's page cache when another connection has committed to the
same database since the reader's last transaction, and every read's journal entry is such a
commit. With the journal in another file, a read's journal commit would leave the readers'
caches of the data alone. This times read transactions (a subject by id and its consent events,
as Ward's backend runs them, with Ward's 512 KiB reader cache) with a commit before each one
(a) to the same file, as now, (b) to an attached file of its own, and (c) no commit at all.
The difference between (a) and (b) is the most the change could save per read.

    python3 bench/experiments/journal_file.py DATABASE

DATABASE: a vault of schema 0007 or later, e.g. `after-0007.db` from subject_numbers.py, or the
`ward.db` of `ward bench --scale full --keep`. It gets a scratch table, dropped at the end.
"""
import os
import random
import sqlite3
import sys
import time

SUBJECT = ("SELECT id, state, revision, created_at, updated_at, erased_at, kek_id, wrapped_key, fields, n "
           "FROM subjects WHERE id = ?1")
EVENTS = "SELECT purpose, kind, at, policy_version, evidence FROM consent_events WHERE subject_n = ?1 ORDER BY id"


def main():
    db = sys.argv[1]
    side = db + ".side"
    for p in (side, side + "-wal", side + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    os.system(f"cat {db} > /dev/null")
    w = sqlite3.connect(db, isolation_level=None)
    w.executescript(f"""
        PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;
        CREATE TABLE IF NOT EXISTS scratch (x INTEGER PRIMARY KEY, v BLOB);
        ATTACH '{side}' AS side; PRAGMA side.journal_mode = WAL; PRAGMA side.synchronous = OFF;
        CREATE TABLE side.scratch (x INTEGER PRIMARY KEY, v BLOB);
    """)
    top = w.execute("SELECT max(n) FROM subjects").fetchone()[0]
    ids = [w.execute("SELECT id FROM subjects WHERE n = ?", (x,)).fetchone()[0]
           for x in random.Random(7).sample(range(1, top + 1), 20_000)]
    r = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    r.execute("PRAGMA cache_size = -512")

    def timed(commit, keys):
        total = 0.0
        for sid in keys:
            if commit:
                w.execute(f"INSERT INTO {commit}.scratch (v) VALUES (zeroblob(200))")
            t = time.perf_counter()
            r.execute("BEGIN")
            row = r.execute(SUBJECT, (sid,)).fetchone()
            r.execute(EVENTS, (row[9],)).fetchall()
            r.execute("COMMIT")
            total += time.perf_counter() - t
        return total / len(keys) * 1e6

    modes = {"commit to the same file": "main", "commit to another file": "side", "no commit": None}
    results = {}
    for rnd in range(5):
        part = ids[rnd * 4000:(rnd + 1) * 4000]
        for name, commit in (modes.items() if rnd % 2 == 0 else reversed(list(modes.items()))):
            results.setdefault(name, []).append(timed(commit, part))
    for name, v in results.items():
        print(f"{name:24}: median {sorted(v)[len(v) // 2]:5.1f} us per read transaction "
              f"(rounds: {' '.join(f'{x:.1f}' for x in v)})")
    w.execute("DROP TABLE main.scratch")
    w.execute("DETACH side")
    for p in (side, side + "-wal", side + "-shm"):
        if os.path.exists(p):
            os.remove(p)


if __name__ == "__main__":
    main()
