#!/usr/bin/env python3
"""The naive loader the benchmarks compare against (docs/performance.md):
json.loads and one SQLite insert per file, one transaction per 1,000 files,
then the files of that transaction are unlinked. No validation, no
reconciliation, SQLite's defaults (rollback journal, synchronous=FULL).

    naive_loader.py DATABASE DIRECTORY
"""
import json
import os
import sqlite3
import sys


def main():
    database, directory = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(database)
    db.execute("CREATE TABLE IF NOT EXISTS message (origin TEXT NOT NULL, seq INTEGER NOT NULL,"
               " type TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (origin, seq))")
    db.commit()
    pending = []
    names = sorted(os.listdir(directory))
    for name in names:
        path = os.path.join(directory, name)
        with open(path, "rb") as f:
            raw = f.read()
        message = json.loads(raw)
        db.execute("INSERT OR IGNORE INTO message (origin, seq, type, body) VALUES (?, ?, ?, ?)",
                   (message["origin"], message["seq"], message["type"], raw.decode()))
        pending.append(path)
        if len(pending) == 1000:
            db.commit()
            for done in pending:
                os.unlink(done)
            pending = []
    db.commit()
    for done in pending:
        os.unlink(done)
    print(db.execute("SELECT count(*) FROM message").fetchone()[0])


if __name__ == "__main__":
    main()
