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

A caller that must not block (the API's event loop) hands its write over with `submit` and a
callback instead, called once the COMMIT holding the write has returned. Such writes have no
thread of their own waiting to lead a group: a committer thread, started with the first of
them, leads whenever they wait and nobody else does.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from podium.store.errors import StoreClosedError

log = logging.getLogger("podium.store")
T = TypeVar("T")
# What a submitted write's caller is told: (its result, None) or (None, what it raised).
Done = Callable[[T | None, BaseException | None], None]

MAX_BATCH = 64  # writes per transaction: bounds how long the group's last caller waits


class _Write(Generic[T]):
    __slots__ = ("done", "error", "run", "tell", "value")

    def __init__(self, run: Callable[[sqlite3.Connection], T], tell: Done[T] | None = None) -> None:
        self.run = run
        self.done = False
        self.value: T | None = None
        self.error: BaseException | None = None
        self.tell = tell  # a submitted write's callback; None for one whose caller waits in `run`

    def resolve(self) -> None:
        if self.tell is None:
            return
        try:
            if self.error is not None:
                self.tell(None, self.error)
            else:
                self.tell(self.value, None)
        except Exception:  # the caller's own failure: it must not stop the committer thread
            log.exception("a submitted write's callback failed")


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
        pending_lock = threading.Lock()
        self._cond = threading.Condition(pending_lock)  # callers of `run` wait on it
        self._submitted = threading.Condition(pending_lock)  # the committer thread waits on it
        self._pending: list[_Write[object]] = []
        self._leading = False
        self._committer: threading.Thread | None = None
        self._closed = False
        self.transactions = 0  # for tests and benchmarks: how many COMMITs the writes took
        self.writes = 0

    def run(self, write: Callable[[sqlite3.Connection], T]) -> T:
        """Run `write(conn)` in a transaction (maybe shared); its result once committed."""
        [(value, error)] = self.run_all([write])
        if error is not None:
            raise error
        return value  # type: ignore[return-value]

    def run_all(
        self, writes: Sequence[Callable[[sqlite3.Connection], T]]
    ) -> list[tuple[T | None, BaseException | None]]:
        """Run several writes, in order, each on its own as `run` runs one, and wait for all of
        them: (result, None) or (None, what it raised) for each. They go into the same group
        when they fit in one (`max_batch`), so that they share its COMMIT."""
        mine: list[_Write[T]] = [_Write(write) for write in writes]
        if not mine:
            return []
        last = mine[-1]  # writes are taken in the order handed over: the last is done last
        with self._cond:
            self._pending.extend(mine)  # type: ignore[arg-type]
        while True:
            with self._cond:
                while self._leading and not last.done:
                    self._cond.wait()
                if last.done:
                    break
                self._leading = True
                group, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            # With more than a batch waiting, this group may not hold our writes: lead again.
            self._lead(group)
        return [(write.value, write.error) for write in mine]

    def submit(self, write: Callable[[sqlite3.Connection], T], done: Done[T]) -> None:
        """Hand `write(conn)` over without waiting: `done(result, None)` once it is committed,
        or `done(None, exception)`, called on the thread that committed it."""
        mine: _Write[T] = _Write(write, done)
        with self._cond:
            if self._closed:
                raise StoreClosedError()
            self._pending.append(mine)  # type: ignore[arg-type]
            if self._committer is None:
                self._committer = threading.Thread(target=self._serve, name="podium-committer", daemon=True)
                self._committer.start()
            self._submitted.notify()

    def close(self) -> None:
        """Stop the committer thread once the writes handed over so far are done."""
        with self._cond:
            self._closed = True
            self._submitted.notify()
            committer = self._committer
        if committer is not None and committer is not threading.current_thread():
            committer.join(timeout=30)

    def _serve(self) -> None:
        while True:
            with self._cond:
                while self._leading or not self._pending:
                    if self._closed and not self._pending:
                        return
                    self._submitted.wait()
                self._leading = True
                group, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            self._lead(group)

    def _lead(self, group: list[_Write[object]]) -> None:
        try:
            self._commit(group)
        finally:
            with self._cond:
                self._leading = False
                self._cond.notify_all()
                if self._pending:  # submitted meanwhile, maybe with nobody else to lead them
                    self._submitted.notify()
            for write in group:
                write.resolve()

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
