"""Group commit: the writes of concurrent threads share one transaction, and so one fsync.

With synchronous=FULL every COMMIT costs an fsync of the WAL, and SQLite takes one writer at
a time: threads that each commit their own step queue up behind each other's fsync. Here a
thread that wants to write hands its write (a function of the connection) over and waits.
The first waiting thread that finds no transaction under way becomes the leader: it takes
every write handed over so far (up to `max_batch`), runs each inside a SAVEPOINT of one
transaction, commits once, and wakes the others with their own result or exception. Writes
that arrive meanwhile form the next group.

Each write stays atomic and isolated from the others: one that raises is rolled back to its
savepoint and gets its exception, and the rest still commit. No caller returns before the
COMMIT that holds its write has returned, so a returned write is as durable as before; a
failed COMMIT fails every write of the group (none of them is on disk).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_BATCH = 64  # writes per transaction: bounds how long the group's last caller waits


class _Write(Generic[T]):
    __slots__ = ("done", "error", "run", "value")

    def __init__(self, run: Callable[[sqlite3.Connection], T]) -> None:
        self.run = run
        self.done = False
        self.value: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs writes on `connection`, grouping concurrent ones into one transaction.

    `lock` is the lock every other user of the connection takes (readers, single writes); the
    leader holds it for the whole transaction. `begin` is the statement that opens it.
    """

    def __init__(
        self,
        lock: threading.Lock,
        connection: Callable[[], sqlite3.Connection],
        *,
        begin: str = "BEGIN IMMEDIATE",
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._lock = lock
        self._connection = connection
        self._begin = begin
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Write[object]] = []
        self._leading = False
        self.transactions = 0  # for tests and benchmarks: how many COMMITs the writes took
        self.writes = 0

    def run(self, write: Callable[[sqlite3.Connection], T]) -> T:
        """Run `write(conn)` in a transaction (maybe shared); its result once committed."""
        mine: _Write[T] = _Write(write)
        with self._cond:
            self._pending.append(mine)  # type: ignore[arg-type]
            while self._leading and not mine.done:
                self._cond.wait()
            if not mine.done:
                self._leading = True
                group, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
        if not mine.done:
            try:
                self._commit(group)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if mine.error is not None:
            raise mine.error
        return mine.value  # type: ignore[return-value]

    def _commit(self, group: list[_Write[object]]) -> None:
        shared = len(group) > 1
        try:
            with self._lock:
                conn = self._connection()
                conn.execute(self._begin)
                try:
                    for write in group:
                        if shared:
                            conn.execute("SAVEPOINT write")
                        try:
                            write.value = write.run(conn)
                        except Exception as exc:
                            write.error = exc
                            if shared:
                                conn.execute("ROLLBACK TO write")
                        if shared:
                            conn.execute("RELEASE write")
                    conn.execute("ROLLBACK" if not shared and group[0].error is not None else "COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            self.transactions += 1
            self.writes += len(group)
        except BaseException as exc:
            for write in group:  # nothing of the group reached the disk
                write.value, write.error = None, write.error or exc
        finally:
            for write in group:
                write.done = True
