"""Group commit: concurrent writes share transactions, each stays atomic, none is lost."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from podium.store.errors import StoreClosedError
from podium.store.group_commit import GroupCommit
from tests.callbacks import promise

THREADS = 8


@pytest.fixture
def table(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "g.db", isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
    return conn


def submit(group: GroupCommit, write: Any) -> Future[Any]:
    future, done = promise()
    group.submit(write, done)
    return future


def together(work: list[threading.Thread]) -> None:
    for thread in work:
        thread.start()
    for thread in work:
        thread.join(timeout=60)
        assert not thread.is_alive()


def test_concurrent_writes_all_land_in_fewer_transactions(table: sqlite3.Connection) -> None:
    lock = threading.Lock()

    def connection() -> sqlite3.Connection:
        return table

    group = GroupCommit(lock, connection)
    start = threading.Barrier(THREADS)

    def writer(index: int) -> None:
        start.wait()
        for n in range(50):
            group.run(lambda conn, k=f"{index}-{n}": conn.execute("INSERT INTO t VALUES (?, 1)", (k,)))

    together([threading.Thread(target=writer, args=(i,)) for i in range(THREADS)])
    assert table.execute("SELECT count(*) FROM t").fetchone() == (THREADS * 50,)
    assert group.writes == THREADS * 50
    # Eight threads writing back to back: some of them had to share a COMMIT.
    assert group.transactions < group.writes


def test_a_failing_write_is_rolled_back_alone_and_gets_its_own_exception(table: sqlite3.Connection) -> None:
    lock = threading.Lock()
    group = GroupCommit(lock, lambda: table)
    inside = threading.Event()
    release = threading.Event()
    outcomes: dict[str, object] = {}

    def first(conn: sqlite3.Connection) -> str:
        inside.set()
        release.wait(10)  # holds the transaction open while the others queue up as one group
        conn.execute("INSERT INTO t VALUES ('first', 1)")
        return "first"

    def good(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t VALUES ('good', 1)")
        return "good"

    def bad(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t VALUES ('bad', 1)")  # written, then rolled back to its savepoint
        raise ValueError("refused")

    def call(name: str, write: object) -> None:
        try:
            outcomes[name] = group.run(write)  # type: ignore[arg-type]
        except ValueError as exc:
            outcomes[name] = exc

    leader = threading.Thread(target=call, args=("first", first))
    leader.start()
    assert inside.wait(10)
    followers = [threading.Thread(target=call, args=(n, w)) for n, w in (("bad", bad), ("good", good))]
    for thread in followers:
        thread.start()
    while len(group._pending) < 2:  # both queued behind the open transaction
        threading.Event().wait(0.01)
    release.set()
    for thread in [leader, *followers]:
        thread.join(timeout=30)
    assert outcomes["first"] == "first" and outcomes["good"] == "good"
    assert isinstance(outcomes["bad"], ValueError)
    assert sorted(k for (k,) in table.execute("SELECT k FROM t")) == ["first", "good"]
    assert (group.transactions, group.writes) == (2, 3)  # the two followers shared one


def test_a_failed_commit_fails_every_write_of_its_group(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "g.db", isolation_level=None, check_same_thread=False)
    conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE child (id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
    conn.execute("PRAGMA foreign_keys = ON")
    group = GroupCommit(threading.Lock(), lambda: conn)
    # A deferred foreign key is checked at COMMIT: the write itself succeeds, the COMMIT fails.
    with pytest.raises(sqlite3.IntegrityError):
        group.run(lambda c: c.execute("INSERT INTO child VALUES (7)"))
    assert conn.execute("SELECT count(*) FROM child").fetchone() == (0,)
    assert not conn.in_transaction
    assert group.run(lambda c: c.execute("INSERT INTO parent VALUES (1)").rowcount) == 1


def test_submitted_writes_are_committed_by_the_committer_thread(table: sqlite3.Connection) -> None:
    group = GroupCommit(threading.Lock(), lambda: table)
    writers: list[str] = []

    def insert(k: str) -> object:
        def write(conn: sqlite3.Connection) -> str:
            writers.append(threading.current_thread().name)
            conn.execute("INSERT INTO t VALUES (?, 1)", (k,))
            return k

        return write

    futures = [submit(group, insert(f"k{n}")) for n in range(20)]  # type: ignore[arg-type]
    assert [f.result(timeout=10) for f in futures] == [f"k{n}" for n in range(20)]
    assert table.execute("SELECT count(*) FROM t").fetchone() == (20,)
    assert set(writers) == {"podium-committer"}  # the caller never waited on the database
    group.close()


def test_a_submitted_write_that_raises_fails_its_future_alone(table: sqlite3.Connection) -> None:
    group = GroupCommit(threading.Lock(), lambda: table)
    release = threading.Event()

    def slow(conn: sqlite3.Connection) -> str:
        release.wait(10)  # the next two queue up behind it and share a transaction
        conn.execute("INSERT INTO t VALUES ('slow', 1)")
        return "slow"

    def bad(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t VALUES ('bad', 1)")
        raise ValueError("refused")

    def good(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t VALUES ('good', 1)")
        return "good"

    first = submit(group, slow)
    queued = [submit(group, bad), submit(group, good)]
    release.set()
    assert first.result(timeout=10) == "slow"
    with pytest.raises(ValueError, match="refused"):
        queued[0].result(timeout=10)
    assert queued[1].result(timeout=10) == "good"
    assert sorted(k for (k,) in table.execute("SELECT k FROM t")) == ["good", "slow"]
    group.close()


def test_waiting_and_submitted_writes_share_transactions(table: sqlite3.Connection) -> None:
    group = GroupCommit(threading.Lock(), lambda: table)
    start = threading.Barrier(THREADS + 1)
    futures = []

    def waiting(index: int) -> None:
        start.wait()
        for n in range(30):
            group.run(lambda conn, k=f"w{index}-{n}": conn.execute("INSERT INTO t VALUES (?, 1)", (k,)))

    def submitting() -> None:
        start.wait()
        for n in range(30 * THREADS):
            futures.append(
                submit(
                    group, lambda conn, k=f"s{n}": conn.execute("INSERT INTO t VALUES (?, 1)", (k,)).rowcount
                )
            )

    together(
        [
            *(threading.Thread(target=waiting, args=(i,)) for i in range(THREADS)),
            threading.Thread(target=submitting),
        ]
    )
    assert [f.result(timeout=30) for f in futures] == [1] * (30 * THREADS)
    assert table.execute("SELECT count(*) FROM t").fetchone() == (2 * 30 * THREADS,)
    assert group.writes == 2 * 30 * THREADS
    assert group.transactions < group.writes
    group.close()


def test_a_waiting_write_is_committed_when_more_than_a_batch_waits_ahead_of_it(
    table: sqlite3.Connection,
) -> None:
    group = GroupCommit(threading.Lock(), lambda: table, max_batch=4)
    # No committer thread: the submitted writes are left to the waiting callers to lead.
    group._committer = threading.current_thread()
    release = threading.Event()
    outcomes: dict[str, object] = {}

    def call(name: str, write: object) -> None:
        outcomes[name] = group.run(write)  # type: ignore[arg-type]

    def hold(conn: sqlite3.Connection) -> str:
        release.wait(10)
        return "held"

    leader = threading.Thread(target=call, args=("held", hold))
    leader.start()
    while not group._leading:
        threading.Event().wait(0.01)
    ahead = [
        submit(group, lambda conn, k=f"a{n}": conn.execute("INSERT INTO t VALUES (?, 1)", (k,)).rowcount)
        for n in range(10)
    ]
    mine = threading.Thread(
        target=call, args=("mine", lambda conn: conn.execute("INSERT INTO t VALUES ('mine', 1)").rowcount)
    )
    mine.start()
    while len(group._pending) < 11:
        threading.Event().wait(0.01)
    release.set()
    for thread in (leader, mine):
        thread.join(timeout=30)
    # Its write was the 11th in the queue, past the first group it led: it led until it ran.
    assert outcomes == {"held": "held", "mine": 1}
    assert table.execute("SELECT count(*) FROM t WHERE k = 'mine'").fetchone() == (1,)
    assert all(future.done() for future in ahead[:8])


def test_close_commits_what_was_submitted_then_refuses_more(table: sqlite3.Connection) -> None:
    group = GroupCommit(threading.Lock(), lambda: table)
    futures = [
        submit(group, lambda conn, k=f"k{n}": conn.execute("INSERT INTO t VALUES (?, 1)", (k,)).rowcount)
        for n in range(5)
    ]
    group.close()
    assert [f.result(timeout=0) for f in futures] == [1] * 5
    with pytest.raises(StoreClosedError):
        group.submit(lambda conn: None, lambda value, error: None)


def test_a_callback_that_raises_does_not_stop_the_committer(
    table: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    group = GroupCommit(threading.Lock(), lambda: table)

    def rude(value: object, error: BaseException | None) -> None:
        raise RuntimeError("the caller's own bug")

    group.submit(lambda conn: conn.execute("INSERT INTO t VALUES ('first', 1)"), rude)
    after = submit(group, lambda conn: conn.execute("INSERT INTO t VALUES ('after', 1)").rowcount)
    assert after.result(timeout=10) == 1
    assert "callback failed" in caplog.text
    group.close()
