"""The floor: how many durable SQLite commits per second this machine's disk allows.

One small INSERT per transaction, in WAL mode with synchronous=FULL and BEGIN IMMEDIATE, as
podium's SQLiteStore commits a step. Each commit costs one fsync of the WAL, so this is the
ceiling for any engine that commits each step on its own: executions/s can be at most this
divided by the commits an execution takes.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.measure import now


@dataclass(frozen=True)
class CommitFloor:
    commits: int
    elapsed_s: float
    rates: tuple[float, ...] = ()  # commits/s of each measurement pooled here, to show the drift

    def __add__(self, other: CommitFloor) -> CommitFloor:
        return CommitFloor(
            self.commits + other.commits,
            self.elapsed_s + other.elapsed_s,
            (*self.rates, *other.rates),
        )

    @property
    def commits_per_s(self) -> float:
        return self.commits / self.elapsed_s

    @property
    def commit_us(self) -> float:
        return self.elapsed_s / self.commits * 1e6


def measure_commit_floor(directory: str | None, seconds: float) -> CommitFloor:
    with tempfile.TemporaryDirectory(prefix="podium-bench-floor-", dir=directory) as folder:
        conn = sqlite3.connect(Path(folder) / "floor.db", isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
            row = ("x" * 64,)
            for _ in range(50):  # let the WAL file reach its working size before timing
                _commit_one(conn, row)
            commits = 0
            start = now()
            deadline = start + seconds
            while True:
                _commit_one(conn, row)
                commits += 1
                if commits % 16 == 0 and now() >= deadline:
                    break
            elapsed = now() - start
            return CommitFloor(commits, elapsed, (commits / elapsed,))
        finally:
            conn.close()


def _commit_one(conn: sqlite3.Connection, row: tuple[str]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t (payload) VALUES (?)", row)
    conn.execute("COMMIT")
