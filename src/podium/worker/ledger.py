"""At most once per task token: a service's steps and their "done" marks, in one SQLite file.

A task can reach a service more than once with the same token (redelivered after a crash,
re-sent after a timeout). `Ledger.apply(key, step)` runs `step(db)` and records the key as
done in the same transaction, so the step's own writes (a hold, a ledger entry) and the mark
commit together or not at all; for a key already done it returns the recorded result without
running the step, so the service answers the same thing twice. A step that raises (a
TaskError too) writes nothing and marks nothing.

    ledger = Ledger("payment-auth.db", schema="CREATE TABLE IF NOT EXISTS holds (id TEXT, amount INT)")

    @worker.handler("authorize")
    def authorize(payment, ctx):
        def hold(db):
            db.execute("INSERT INTO holds VALUES (?, ?)", (ctx.token[-12:], payment["amount"]))
            return {"authorization_id": ctx.token[-12:]}
        return ledger.apply(ctx.idempotency_key, hold)

The step runs inside `BEGIN IMMEDIATE`, holding the file's write lock: keep it to the
database work (do slow calls before it), and do not commit inside it. Several threads and
several processes (a service's replicas) may share one file: the lock serialises them and the
second one to come sees the first one's mark.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from podium.transports.base import JSON

_TABLE = """
CREATE TABLE IF NOT EXISTS podium_ledger (
    key     TEXT PRIMARY KEY,
    result  TEXT NOT NULL,
    done_ms INTEGER NOT NULL
)
"""


class Ledger:
    def __init__(self, path: str | Path, *, schema: str | None = None, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        db = self.connection()
        db.execute("PRAGMA journal_mode=WAL")  # replicas read while one writes
        db.execute(_TABLE)
        if schema:
            db.executescript(schema)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit outside `apply`), for the service's own reads and tables."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            # isolation_level=None: transactions are the ones `apply` opens, nothing implicit.
            db = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            db.execute(
                "PRAGMA synchronous=FULL"
            )  # a mark that is lost while its answer went out would let a step run twice
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    def apply(self, key: str, step: Callable[[sqlite3.Connection], JSON]) -> JSON:
        """`step(db)`'s result, the step run at most once for `key` (its first result after that)."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT result FROM podium_ledger WHERE key = ?", (key,)).fetchone()
            if row is not None:
                db.execute("ROLLBACK")
                return json.loads(row[0])
            text = json.dumps(step(db))
            db.execute(
                "INSERT INTO podium_ledger (key, result, done_ms) VALUES (?, ?, ?)",
                (key, text, int(time.time() * 1000)),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return json.loads(text)

    def done(self, key: str) -> bool:
        return (
            self.connection().execute("SELECT 1 FROM podium_ledger WHERE key = ?", (key,)).fetchone()
            is not None
        )

    def count(self) -> int:
        """Steps applied."""
        row = self.connection().execute("SELECT count(*) FROM podium_ledger").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            connections, self._all = self._all, []
        for db in connections:
            db.close()
        self._local = threading.local()
